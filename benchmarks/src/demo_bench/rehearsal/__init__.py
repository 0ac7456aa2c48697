"""Rehearsal of the demo: auto-mode cycles on the local stack, and their report."""
