"""The web layer: thin Flask views over the services."""
