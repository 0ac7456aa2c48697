"""Benchmark: what AIS timing costs the local stack, against the NPZ timing it replaced.

AISimulate prices every engine step in-process (the NPZ was a table lookup). For each timing
(ais, npz) at SPEED=1 and SPEED=10: the prod stack with all 8 slots used, under the Full Load
preset driven by the real load generator app; the stack's CPU (cores) and peak RSS. The stack
must stay at or under one core at SPEED=1. Written to `timing-cost.md` and the JSON results.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from demo_bench.stack import stack_resources

SPEEDS = (1.0, 10.0)
TIMINGS = ("ais", "npz")
CPU_TARGET_AT_SPEED_1 = 1.0  # cores: the stack must fit on one core at SPEED=1


def render_markdown(rows: list[dict[str, Any]]) -> str:
    lines = [
        "# Local stack CPU: AIS timing vs NPZ timing, Full Load preset",
        "",
        f"Prod layout, 3 prefill + 5 decode workers. Target: <= {CPU_TARGET_AT_SPEED_1:g} core "
        "at SPEED=1.",
        "",
        "| timing | speed | stack CPU at load (cores) | idle (cores) | RSS peak at load (MB) "
        "| load window (s) | output tok/s |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        load, idle = r["load"], r["idle"]
        tokens = sum(float(w["output_tokens_per_s"] or 0) for w in load["workloads"].values())
        lines.append(
            f"| {r['timing']} | {r['speed']:g} | {load['stack_cpu_cores']} "
            f"| {idle['stack_cpu_cores']} | {load['stack_rss_mb_peak']} | {load['seconds']} "
            f"| {tokens:.0f} |"
        )
    return "\n".join(lines) + "\n"


def run(workdir: Path, quick: bool, log: Callable[[str], None]) -> dict[str, Any]:
    workdir.mkdir(parents=True, exist_ok=True)
    rows = []
    for timing in TIMINGS:
        for speed in SPEEDS:
            log(f"timing-cost: {timing} at speed {speed:g} ...")
            result = stack_resources(
                workdir / f"{timing}-{speed:g}", load_s=20.0 if quick else 90.0,
                idle_s=5.0 if quick else 20.0, speed=speed, timing=timing,
            )  # fmt: skip
            rows.append({"timing": timing, "speed": speed, **result})
    (workdir / "timing-cost.md").write_text(render_markdown(rows))
    return {"runs": rows, "quick": quick}
