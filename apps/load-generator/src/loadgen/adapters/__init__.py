"""Adapters: the load generator's ports implemented against real systems (local stack, cluster)."""
