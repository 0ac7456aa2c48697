"""Why disaggregation: the demo script against four layouts on the same GPUs, side by side."""
