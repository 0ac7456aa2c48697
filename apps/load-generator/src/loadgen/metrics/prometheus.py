"""Prometheus metrics of the load generator, on a per-app registry (latencies: registry.py).

Histogram bucket edges include every SLO threshold exactly, so `le="<slo>"` buckets give the
fraction of requests within the SLO without interpolation.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from loadgen.demo_script.models import Slo
from loadgen.metrics.registry import LATENCIES, TOKEN_KINDS
from loadgen.records import REASON_OK, WORKLOADS, RequestRecord, Workload, turn_label

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
TURN_LABELS = ("1", "2", "3", "4", "5+")


class LoadgenMetrics:
    """Every loadgen_* series, registered on its own CollectorRegistry."""

    def __init__(self, slos: Mapping[Workload, Slo], registry: CollectorRegistry | None = None):
        self.registry = registry or CollectorRegistry(auto_describe=True)
        r = self.registry
        # One histogram per registry latency; chat TTFT is also labelled by turn.
        self.latency: dict[str, Histogram] = {
            m.key: Histogram(
                m.prometheus,
                m.help,
                ["workload", "turn"] if m.by_turn else ["workload"],
                buckets=m.edges_s(slos.values()),
                registry=r,
            )
            for m in LATENCIES
        }
        self.requests = Counter(
            "loadgen_requests", "Requests by outcome (status ok|error|dropped)",
            ["workload", "status", "reason"], registry=r,
        )  # fmt: skip
        self.tokens = Counter(
            "loadgen_tokens", "Tokens by kind (input|output|cached)",
            ["workload", "kind"], registry=r,
        )  # fmt: skip
        self.frozen_streams = Counter(
            "loadgen_frozen_streams", "Streams that paused longer than the freeze threshold "
            "(250 ms) at least once", ["workload"], registry=r,
        )  # fmt: skip
        self.frozen_seconds = Counter(
            "loadgen_frozen_seconds", "Time streams spent in pauses longer than the freeze "
            "threshold", ["workload"], registry=r,
        )  # fmt: skip
        self.within_slo = Counter(
            "loadgen_requests_within_slo", "Requests that met every SLO of their workload "
            "(TTFT, mean ITL, longest pause): goodput", ["workload"], registry=r,
        )  # fmt: skip
        self.followups = Counter(
            "loadgen_followup_questions", "Chat follow-up questions by source and reason",
            ["source", "reason"], registry=r,
        )  # fmt: skip
        self.target_rps = Gauge(
            "loadgen_target_rps", "Target arrivals per second", ["workload"], registry=r
        )
        self.achieved_rps = Gauge(
            "loadgen_achieved_rps", "Dispatched arrivals per second over the live window",
            ["workload"], registry=r,
        )  # fmt: skip
        self.in_flight = Gauge("loadgen_in_flight", "Requests in flight", ["workload"], registry=r)
        self.event_loop_lag = Gauge(
            "loadgen_event_loop_lag_seconds", "Recent worst event-loop delay", registry=r
        )
        self.asyncio_tasks = Gauge(
            "loadgen_asyncio_tasks", "Tasks alive on the app's event loop (soak: must stay flat)",
            registry=r,
        )  # fmt: skip
        self.client_saturated = Gauge(
            "loadgen_client_saturated", "1 when the client itself is too late to trust", registry=r
        )
        self.slo_ttft = Gauge(
            "loadgen_slo_ttft_seconds", "TTFT p95 SLO threshold", ["workload"], registry=r
        )
        self.slo_itl = Gauge(
            "loadgen_slo_itl_seconds", "ITL p95 SLO threshold", ["workload"], registry=r
        )
        self.slo_max_gap = Gauge(
            "loadgen_slo_max_gap_seconds", "Longest-pause p95 SLO threshold", ["workload"],
            registry=r,
        )  # fmt: skip
        self._prime(slos)

    def _prime(self, slos: Mapping[Workload, Slo]) -> None:
        """Create the common series at 0 so rate() and ratios work before the first event."""
        for w in WORKLOADS:
            self.requests.labels(w, "ok", REASON_OK)
            self.requests.labels(w, "error", "timeout")
            for kind, _ in TOKEN_KINDS:
                self.tokens.labels(w, kind)
            for counter in (self.frozen_streams, self.frozen_seconds, self.within_slo):
                counter.labels(w)
            for m in LATENCIES:
                if not m.by_turn:
                    self.latency[m.key].labels(w)
                    continue
                for turn in TURN_LABELS if w == "chat" else ("1",):
                    self.latency[m.key].labels(w, turn)
            self.target_rps.labels(w).set(0)
            self.achieved_rps.labels(w).set(0)
            self.in_flight.labels(w).set(0)
            self.slo_ttft.labels(w).set(slos[w].ttft_p95_s)
            self.slo_itl.labels(w).set(slos[w].itl_p95_s)
            self.slo_max_gap.labels(w).set(slos[w].max_gap_p95_s)
        self.followups.labels("remote", "ok")
        self.client_saturated.set(0)
        self.event_loop_lag.set(0)

    def observe(self, record: RequestRecord) -> None:
        """Account one finished (or dropped) request."""
        w = record.workload
        self.requests.labels(w, record.status, record.reason).inc()
        if record.status in ("dropped", "stopped"):
            return
        turn = turn_label(record.turn) if w == "chat" else "1"
        for m in LATENCIES:
            child = (
                self.latency[m.key].labels(w, turn) if m.by_turn else self.latency[m.key].labels(w)
            )
            observe_weighted(child, m.read_ns(record))
        for kind, read in TOKEN_KINDS:
            count = read(record)
            if count:
                self.tokens.labels(w, kind).inc(count)
        if record.frozen_ns:
            self.frozen_streams.labels(w).inc()
            self.frozen_seconds.labels(w).inc(record.frozen_ns / 1e9)
        if record.within_slo:
            self.within_slo.labels(w).inc()

    def followup(self, source: str, reason: str) -> None:
        self.followups.labels(source, reason).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)


def observe_weighted(child: Histogram, values_ns: Iterable[tuple[float, int]]) -> None:
    """`child.observe(value_ns / 1e9)` `weight` times for each pair, in one update per bucket.

    A 2000-token answer is 2000 ITL observations: one by one (a lock and a bucket scan each)
    they cost ~5 ms of event-loop time per answer (docs/measurement-conventions.md, client
    loop lag). prometheus_client has no weighted observe, so this adds to the child's own
    bucket and sum values (the exposition is unchanged; test_metric_registry checks it).
    """
    bounds = child._upper_bounds  # ascending, ends with +Inf; a value v lands in le >= v
    counts = [0] * len(bounds)
    total = 0.0
    for value_ns, weight in values_ns:
        if weight <= 0:
            continue
        value_s = value_ns / 1e9
        counts[bisect_left(bounds, value_s)] += weight
        total += value_s * weight
    if not any(counts):
        return
    child._sum.inc(total)
    for bucket, n in zip(child._buckets, counts, strict=True):
        if n:
            bucket.inc(n)
