"""Benchmarks behind `make bench`: each writes its result files into an output folder."""
