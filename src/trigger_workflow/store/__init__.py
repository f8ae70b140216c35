"""Persistence: SQLAlchemy models, sessions and migrations (knows nothing of SpiffWorkflow)."""
