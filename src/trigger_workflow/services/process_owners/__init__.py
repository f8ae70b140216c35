"""Process owners' tools: deploy, versions, validation, diagram tests, migration, incidents."""
