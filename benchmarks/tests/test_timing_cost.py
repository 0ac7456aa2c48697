"""The timing-cost section's table: one row per (timing, speed) with the stack's CPU at load."""

from __future__ import annotations

from demo_bench.timing_cost import render_markdown


def _run(timing: str, speed: float, cores: float) -> dict[str, object]:
    window = {"stack_cpu_cores": cores, "stack_rss_mb_peak": 900.0, "seconds": 90.0}
    workloads = {"chat": {"output_tokens_per_s": 1000.0}, "reasoning": {"output_tokens_per_s": 0}}
    return {
        "timing": timing, "speed": speed, "idle": {**window, "stack_cpu_cores": 0.1},
        "load": {**window, "workloads": workloads},
    }  # fmt: skip


def test_each_timing_and_speed_is_a_row_with_its_cpu() -> None:
    text = render_markdown([_run("ais", 1.0, 0.91), _run("npz", 10.0, 1.7)])
    assert "| ais | 1 | 0.91 | 0.1 | 900.0 | 90.0 | 1000 |" in text
    assert "| npz | 10 | 1.7 | 0.1 | 900.0 | 90.0 | 1000 |" in text
    assert "<= 1 core at SPEED=1" in text
