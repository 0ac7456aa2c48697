"""A tiny made-up comparison written by the real report writer, for the UI's tests and docs.

Four synthetic runs (two phases, every workload) go through the same `layout_numbers`,
`build_report` and `write_report` as `make compare`, so a fixture made here has the writer's
shape by construction. The numbers are invented; the report says so in `what`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from demo_bench.compare.cli import build_report
from demo_bench.compare.layouts import LayoutName
from demo_bench.compare.report import write_report
from demo_bench.rehearsal.analysis import PoolSample, Sample, SloBounds
from demo_bench.rehearsal.run import RawRun

SLOS: dict[str, SloBounds] = {
    "chat": (1.5, 0.06, 0.5),
    "summarization": (6.0, 0.06, 1.0),
    "reasoning": (1.5, 0.06, 0.5),
}
PHASES = (("baseline", "Baseline", 0.0), ("decode-stress", "Decode Stress", 50.0))
END_S = 100.0
# layout -> (GPUs held, requests per workload and phase that miss the TTFT SLO, how many of
# those also freeze for 1.2 s, client saturated)
SHAPES: dict[LayoutName, tuple[int, int, int, bool]] = {
    "aggregated": (8, 6, 3, False),
    "static": (5, 3, 0, False),
    "controller": (6, 1, 0, False),
    "keda": (6, 2, 0, True),  # one run the saturation guard marks invalid
}
PER_PHASE = 10  # requests per workload and phase


def synthetic_run(gpus: int, misses: int, freezes: int, saturated: bool) -> RawRun:
    samples: list[Sample] = []
    for _, _, start_s in PHASES:
        for workload, (ttft_slo, *_) in SLOS.items():
            for i in range(PER_PHASE):
                ttft_s = ttft_slo * (2.0 if i < misses else 0.5)
                frozen = i < freezes
                samples.append(
                    Sample(
                        workload, 1, True, start_s + 1 + i, ttft_s, (0.02,) * 20,
                        max_gap_s=1.2 if frozen else 0.03, frozen_s=1.2 if frozen else 0.0,
                    )
                )  # fmt: skip
    pools = [
        PoolSample(t, {"prefill": 0, "decode": gpus}, {"decode": gpus}, {}) for t in (0.0, END_S)
    ]
    timeline = [
        {"kind": "phase", "t_s": start_s, "phase": pid, "message": f"{name}: synthetic"}
        for pid, name, start_s in PHASES
    ]
    return RawRun(
        speed=1.0, env="prod", script="synthetic", started_at="synthetic", wall_s=END_S,
        timeline=timeline, samples=samples, pools=pools, slos=SLOS,
        client_saturated=[saturated] * 10,
    )  # fmt: skip


def write_synthetic_comparison(out: Path) -> Path:
    """comparison.json, comparison.md and goodput.png of four synthetic runs in `out`."""
    raws = {name: synthetic_run(*shape) for name, shape in SHAPES.items()}
    report = build_report(raws, argparse.Namespace())
    report["what"] = "SYNTHETIC numbers for tests and screenshots, not a measurement."
    write_report(report, out)
    return out / "comparison.json"
