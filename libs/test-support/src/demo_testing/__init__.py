"""Test support shared by the suites: doubles of the load generator's ports, local-stack helpers."""
