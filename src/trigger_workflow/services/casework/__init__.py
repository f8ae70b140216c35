"""Reading cases: search, the case page, its diagrams and recommendations."""
