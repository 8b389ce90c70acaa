"""The resident base: households by micro-grid and building, special populations sealed."""
