"""Data protection (issue 13): what is personal, erasure, retention, subject access."""
