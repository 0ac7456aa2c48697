"""The one list of the load generator's per-request metrics: name, unit, how to read a record.

The Prometheus exporter, the tallies behind the live window and the session summary are built
from LATENCIES and TOKEN_KINDS; the snapshot's API models name the same keys (a test checks).
Latencies are read in integer ns of demo time and reported in seconds (Prometheus) or ms (JSON).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from loadgen.demo_script.models import Slo
from loadgen.records import FREEZE_GAP_NS, RequestRecord

# Base bucket edges in seconds; the SLO thresholds are added to them exactly (bucket_edges).
TTFT_EDGES_S = (0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.75, 1.0,
                1.5, 2.0, 2.5, 4.0, 5.0, 7.5, 10.0, 15.0, 20.0, 30.0, 60.0, 120.0)  # fmt: skip
ITL_EDGES_S = (0.002, 0.005, 0.01, 0.015, 0.02, 0.025, 0.03, 0.035, 0.04, 0.045, 0.05, 0.055,
               0.07, 0.08, 0.1, 0.125, 0.15, 0.2, 0.3, 0.5, 1.0, 2.0)  # fmt: skip
E2E_EDGES_S = (0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 7.5, 10.0, 15.0, 20.0, 30.0, 45.0, 60.0,
               90.0, 120.0, 180.0, 300.0)  # fmt: skip
# A request's longest pause: decode steps (20-40 ms) up to whole co-scheduled prefills (seconds);
# the freeze threshold is an edge, so le="0.25" counts the streams that never froze.
MAX_GAP_EDGES_S = (0.025, 0.05, 0.075, 0.1, 0.15, 0.2, FREEZE_GAP_NS / 1e9, 0.3, 0.4, 0.5, 0.75,
                   1.0, 1.5, 2.0, 3.0, 5.0, 10.0)  # fmt: skip
LAG_EDGES_S = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
               10.0, 30.0)  # fmt: skip


def _one(value_ns: int | None) -> Iterator[tuple[float, int]]:
    if value_ns is not None:
        yield float(max(value_ns, 0)), 1


@dataclass(frozen=True)
class LatencyMetric:
    """One latency: `key` names it in tallies and JSON (`{key}_ms`), `prometheus` on /metrics."""

    key: str
    prometheus: str
    help: str
    read_ns: Callable[[RequestRecord], Iterable[tuple[float, int]]]  # (value ns, weight)
    base_edges_s: tuple[float, ...]
    slo_s: Callable[[Slo], float] | None = None  # the SLO threshold that must be a bucket edge
    by_turn: bool = False  # chat: also labelled by turn ("1".."4", "5+")

    def edges_s(self, slos: Iterable[Slo]) -> tuple[float, ...]:
        thresholds = () if self.slo_s is None else tuple(self.slo_s(s) for s in slos)
        return bucket_edges(self.base_edges_s, thresholds)


def bucket_edges(base: Iterable[float], thresholds: Iterable[float]) -> tuple[float, ...]:
    """Sorted, de-duplicated edges: `base` plus every threshold exactly."""
    return tuple(sorted(set(base) | set(thresholds)))


LATENCIES: tuple[LatencyMetric, ...] = (
    LatencyMetric(
        "ttft", "loadgen_ttft_seconds", "Client-side time to first token (first content event)",
        lambda r: _one(r.ttft_ns), TTFT_EDGES_S, slo_s=lambda s: s.ttft_p95_s, by_turn=True,
    ),
    LatencyMetric(
        "ttst", "loadgen_ttst_seconds", "Time from the first to the second content event",
        lambda r: _one(r.ttst_ns), ITL_EDGES_S, slo_s=lambda s: s.itl_p95_s,
    ),
    LatencyMetric(
        "itl", "loadgen_itl_seconds", "Inter-token latency, one observation per token",
        RequestRecord.itl_per_token_ns, ITL_EDGES_S, slo_s=lambda s: s.itl_p95_s,
    ),
    LatencyMetric(
        "e2e", "loadgen_e2e_seconds", "Send to last content event",
        lambda r: _one(r.e2e_ns), E2E_EDGES_S,
    ),
    LatencyMetric(
        "max_gap", "loadgen_max_gap_seconds", "Longest pause of a stream between content events",
        lambda r: _one(r.max_gap_ns), MAX_GAP_EDGES_S, slo_s=lambda s: s.max_gap_p95_s,
    ),
    LatencyMetric(
        "lag", "loadgen_schedule_lag_seconds", "Actual minus intended send time",
        lambda r: _one(r.schedule_lag_ns), LAG_EDGES_S,
    ),
)  # fmt: skip

# Token counts: the `kind` label on loadgen_tokens_total and `{kind}_tokens` in JSON.
TOKEN_KINDS: tuple[tuple[str, Callable[[RequestRecord], int | None]], ...] = (
    ("input", lambda r: r.input_tokens),
    ("output", lambda r: r.output_tokens),
    ("cached", lambda r: r.cached_tokens),
)
