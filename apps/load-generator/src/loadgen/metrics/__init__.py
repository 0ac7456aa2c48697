"""Client-side accounting: Prometheus export, live window, tallies, snapshots, summaries."""
