"""The demo script (SLOs, workload shapes, presets) as validated data."""

from loadgen.demo_script.loader import default_script_path, load_demo_script, parse_demo_script
from loadgen.demo_script.models import (
    ChatShape,
    DemoScript,
    Preset,
    ReasoningShape,
    Slo,
    SummarizationShape,
    WorkloadShapes,
)

__all__ = [
    "ChatShape",
    "DemoScript",
    "Preset",
    "ReasoningShape",
    "Slo",
    "SummarizationShape",
    "WorkloadShapes",
    "default_script_path",
    "load_demo_script",
    "parse_demo_script",
]
