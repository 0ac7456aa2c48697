"""Replays a sizing trace through dynamo.replay at one pool split and summarises it per workload.

The replay runs ai-dynamo 1.6.1's mocker engine (the live workers' Rust core) on a virtual
clock with the same AIS timing (NVIDIA's TRT-LLM measurements, read from the model dir) and
per-role engine limits as the live stack, disaggregated, KV router. Per request it reports TTFT
and the request's mean ITL; the SLOs are p95 over requests.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from demo_bench.sizing.trace import TraceRow, workload_of
from demo_common.percentile import percentile
from loadgen.demo_script.models import Slo
from loadgen.records import WORKLOADS, Workload
from localcluster.perfmodel import HardwareProfile


@dataclass(frozen=True)
class WorkloadStats:
    """One workload's latencies (ms) and SLO outcome in one replay."""

    requests: int
    ttft_p50_ms: float
    ttft_p95_ms: float
    itl_p50_ms: float
    itl_p95_ms: float
    attainment: float  # share of requests within both SLO thresholds
    goodput_rps: float  # such requests per second of trace

    def meets(self, slo: Slo) -> bool:
        """The SLOs are p95s: both p95s within their thresholds."""
        return self.ttft_p95_ms <= slo.ttft_p95_s * 1e3 and self.itl_p95_ms <= slo.itl_p95_s * 1e3


@dataclass(frozen=True)
class SplitResult:
    preset: str
    prefill: int
    decode: int
    workloads: Mapping[Workload, WorkloadStats]
    completed: int
    offered: int

    def meets(self, slos: Mapping[Workload, Slo]) -> bool:
        return self.completed == self.offered and all(
            stats.meets(slos[w]) for w, stats in self.workloads.items()
        )

    @property
    def goodput_rps(self) -> float:
        return sum(s.goodput_rps for s in self.workloads.values())


def _required(values: Sequence[float], q: float) -> float:
    """The kit's percentile of a workload that has rows (summarize skips those without)."""
    value = percentile(values, q)
    if value is None:
        raise ValueError("percentile of no requests")
    return value


def summarize(
    records: Sequence[Mapping[str, Any]], slos: Mapping[Workload, Slo], duration_s: float,
    only: Workload | None = None,
) -> dict[Workload, WorkloadStats]:  # fmt: skip
    """Per-workload percentiles, SLO attainment and goodput of replayed requests. `only`: the
    trace's one workload (a trace without multi-turn sessions comes back without session ids)."""
    by_workload: dict[Workload, list[Mapping[str, Any]]] = defaultdict(list)
    for record in records:
        session = record.get("session_id")
        workload = only if session is None and only is not None else workload_of(str(session))
        by_workload[workload].append(record)
    stats: dict[Workload, WorkloadStats] = {}
    for workload in WORKLOADS:
        rows = by_workload.get(workload)
        if not rows:
            continue
        ttft = [float(r["ttft_ms"]) for r in rows]
        itl = [float(r["itl_ms"] or 0.0) for r in rows]
        slo = slos[workload]
        good = sum(
            1 for t, i in zip(ttft, itl, strict=True)
            if t <= slo.ttft_p95_s * 1e3 and i <= slo.itl_p95_s * 1e3
        )  # fmt: skip
        stats[workload] = WorkloadStats(
            requests=len(rows),
            ttft_p50_ms=_required(ttft, 50),
            ttft_p95_ms=_required(ttft, 95),
            itl_p50_ms=_required(itl, 50),
            itl_p95_ms=_required(itl, 95),
            attainment=good / len(rows),
            goodput_rps=good / duration_s,
        )
    return stats


def replay_split(
    trace: Path, profile: HardwareProfile, model_dir: Path, prefill: int, decode: int,
    *, block: int,
) -> list[Mapping[str, Any]]:  # fmt: skip
    """Per-request records of one replay (Dynamo logs at error level only)."""
    os.environ.setdefault("DYN_LOG", "error")
    from dynamo.replay import run_trace_replay  # heavy import, only when replaying

    report = run_trace_replay(
        str(trace),
        prefill_engine_args=profile.replay_engine_args(model_dir, "prefill"),
        decode_engine_args=profile.replay_engine_args(model_dir, "decode"),
        num_prefill_workers=prefill,
        num_decode_workers=decode,
        router_mode="kv_router",
        capture_per_request=True,
        trace_block_size=block,
    )
    return list(report.per_request or [])


def run_split(
    preset: str, rows: Sequence[TraceRow], trace: Path, profile: HardwareProfile,
    model_dir: Path, split: tuple[int, int], slos: Mapping[Workload, Slo], duration_s: float,
) -> SplitResult:  # fmt: skip
    records = replay_split(trace, profile, model_dir, *split, block=profile.block_size)
    done = [r for r in records if r.get("terminal_status", "completed") == "completed"]
    return SplitResult(
        preset=preset,
        prefill=split[0],
        decode=split[1],
        workloads=summarize(done, slos, duration_s, only=_only_workload(rows)),
        completed=len(done),
        offered=len(rows),
    )


def _only_workload(rows: Sequence[TraceRow]) -> Workload | None:
    workloads = {workload_of(r.session_id) for r in rows}
    return workloads.pop() if len(workloads) == 1 else None
