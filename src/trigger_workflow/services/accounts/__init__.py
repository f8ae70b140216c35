"""Officers, their roles, signing in, and who may see which case."""
