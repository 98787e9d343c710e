"""Operation counts (ops.py) and their energy costs (costs.py)."""
