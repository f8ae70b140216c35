"""The workflow engine façade: SpiffWorkflow behind a small interface (no Flask, no database)."""
