"""Sizing with Dynamo's own replay: presets x pool splits -> TTFT/ITL, SLO attainment, goodput."""
