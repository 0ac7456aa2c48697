"""SLO attainment of replayed requests, DistServe's way: the share of requests meeting all their
workload's SLOs (TTFT and per-token latency), plus the throughput the point delivers.

The demo script's SLOs are p95s over requests; a request "meets" them when its own TTFT and its
own mean ITL are within the same thresholds. The replay's per-request record carries TTFT, TTST
and the request's *mean* ITL, never its token gaps: a stall bound (longest gap) cannot be checked
on it. `request_meets` takes the gap when a source has one (a live run) and refuses to pretend
otherwise: a stall bound without a measured gap is an error, not a pass.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from demo_bench.sizing.trace import workload_of
from loadgen.demo_script.models import Slo
from loadgen.records import Workload

TARGET_ATTAINMENT = 0.9  # DistServe: goodput is the rate at which >= 90 % of requests meet SLO


class StallUnmeasured(ValueError):
    """A stall bound was asked of a record that has no token gaps (a replay's)."""


def request_meets(
    ttft_ms: float, itl_ms: float, slo: Slo, *, max_gap_ms: float | None = None,
    stall_bound_ms: float | None = None,
) -> bool:  # fmt: skip
    """One request against its workload's thresholds (the stall bound only where gaps exist)."""
    if stall_bound_ms is not None and max_gap_ms is None:
        raise StallUnmeasured("this record has no token gaps: the stall bound cannot be checked")
    within = ttft_ms <= slo.ttft_p95_s * 1e3 and itl_ms <= slo.itl_p95_s * 1e3
    if stall_bound_ms is not None and max_gap_ms is not None:
        within = within and max_gap_ms <= stall_bound_ms
    return within


@dataclass(frozen=True)
class Point:
    """One replay at one arrival rate on one layout."""

    rate_rps: float
    offered: int
    attainment: float  # requests meeting all SLOs / requests offered (unfinished ones miss)
    workload_attainment: Mapping[str, float]
    tokens_per_s_per_gpu: float  # output tokens / makespan / GPUs
    tokens_per_s_per_user: float  # median over completed requests of 1000 / mean ITL

    @property
    def meets(self) -> bool:
        return self.attainment >= TARGET_ATTAINMENT


def score(
    records: Sequence[Mapping[str, Any]], slos: Mapping[Workload, Slo], *, rate_rps: float,
    offered: int, gpus: int,
) -> Point:  # fmt: skip
    """The point a replay's per-request records make (records not completed count as misses)."""
    if offered <= 0 or gpus <= 0:
        raise ValueError("offered and gpus must be positive")
    done = [r for r in records if r.get("terminal_status", "completed") == "completed"]
    good: Counter[str] = Counter()
    asked = Counter(workload_of(str(r["session_id"])) for r in records)
    for r in done:
        workload = workload_of(str(r["session_id"]))
        if request_meets(float(r["ttft_ms"]), float(r["itl_ms"] or 0.0), slos[workload]):
            good[workload] += 1
    makespan_s = max((float(r["terminal_time_ms"]) for r in done), default=0.0) / 1e3
    tokens = sum(int(r["output_length"]) for r in done)
    per_user = [1e3 / float(r["itl_ms"]) for r in done if r.get("itl_ms")]
    return Point(
        rate_rps=rate_rps,
        offered=offered,
        attainment=sum(good.values()) / offered,
        workload_attainment={w: good[w] / n for w, n in sorted(asked.items())},
        tokens_per_s_per_gpu=tokens / makespan_s / gpus if makespan_s > 0 else 0.0,
        tokens_per_s_per_user=statistics.median(per_user) if per_user else 0.0,
    )
