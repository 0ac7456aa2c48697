"""The comparison's numbers per layout and phase: SLO attainment, goodput per GPU, GPU-seconds,
streams that froze, TTFT/ITL/longest-pause percentiles. Pure functions over the rehearsal's
raw runs; demo seconds throughout.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from demo_bench.rehearsal.analysis import (
    PhaseSpan,
    first_cycle,
    gpu_seconds,
    meets_slos,
    phase_spans,
    select,
    slo_attainment,
    values,
    without_cut,
)
from demo_bench.rehearsal.report import cpu_guard
from demo_bench.rehearsal.run import RawRun
from demo_common.percentile import percentile


def _pcts(xs: Sequence[float]) -> dict[str, float | None]:
    return {f"p{q}": _ms(percentile(xs, q)) for q in (50, 95, 99)}


def _ms(value_s: float | None) -> float | None:
    return None if value_s is None else round(value_s * 1000, 1)


def phase_numbers(raw: RawRun, span: PhaseSpan) -> dict[str, Any]:
    duration = max(span.end_s - span.start_s, 1e-9)
    gpu_s = gpu_seconds(raw.pools, span.start_s, span.end_s)
    good = 0
    latency: dict[str, Any] = {}
    for workload, slo in raw.slos.items():
        chosen = select(raw.samples, workload, span.start_s, span.end_s)
        good += sum(1 for s in chosen if meets_slos(s, slo))
        gaps = [s.max_gap_s for s in chosen if s.ok and s.max_gap_s is not None]
        latency[workload] = {
            "ttft_ms": _pcts(values(chosen, "ttft")),
            "itl_ms": _pcts(values(chosen, "itl")),
            "max_gap_ms": _pcts(gaps),
        }
    attainment = slo_attainment(raw.samples, raw.slos, span.start_s, span.end_s)
    return {
        "id": span.id,
        "name": span.name,
        "duration_s": round(duration, 1),
        "gpu_seconds": gpu_s,
        "mean_gpus": round(gpu_s / duration, 2),
        "good_requests": good,
        "goodput_rps": round(good / duration, 4),
        "goodput_per_gpu": round(good / gpu_s, 5) if gpu_s > 0 else None,
        "slo_attainment": attainment,
        "frozen_streams": sum(int(a["frozen_streams"] or 0) for a in attainment.values()),
        "latency": latency,
    }


def layout_numbers(raw: RawRun) -> dict[str, Any]:
    samples, cut = without_cut(raw.samples)
    raw = dataclasses.replace(raw, samples=samples)
    end_s = max([s.t_s for s in raw.samples] + [p.t_s for p in raw.pools] + [0.0])
    spans = first_cycle(phase_spans(raw.timeline, end_s))
    phases = [phase_numbers(raw, s) for s in spans]
    gpu_s = sum(p["gpu_seconds"] for p in phases)
    good = sum(p["good_requests"] for p in phases)
    cpu = cpu_guard(raw)
    whole = (spans[0].start_s, spans[-1].end_s) if spans else (0.0, 0.0)
    attainment = slo_attainment(raw.samples, raw.slos, *whole)  # the whole cycle
    return {
        "requests": len(raw.samples),
        "failed": sum(1 for s in raw.samples if not s.ok),
        "cut_at_stop": cut,
        "gpu_seconds": round(gpu_s, 1),
        "good_requests": good,
        "goodput_per_gpu": round(good / gpu_s, 5) if gpu_s > 0 else None,
        "slo_attainment": attainment,
        "frozen_streams": sum(int(a["frozen_streams"] or 0) for a in attainment.values()),
        "frozen_s": round(sum(float(a["frozen_s"] or 0) for a in attainment.values()), 3),
        "phases": phases,
        "cpu": cpu,
        "valid": cpu["valid"],
        "wall_s": round(raw.wall_s, 1),
        "started_at": raw.started_at,
    }


def ratios(layouts: Mapping[str, Mapping[str, Any]]) -> dict[str, float | None]:
    """Goodput per GPU of each disaggregated layout over the aggregated baseline's."""
    base = layouts.get("aggregated", {}).get("goodput_per_gpu")
    out: dict[str, float | None] = {}
    for name, numbers in layouts.items():
        if name == "aggregated":
            continue
        mine = numbers.get("goodput_per_gpu")
        out[name] = round(mine / base, 3) if mine is not None and base else None
    return out
