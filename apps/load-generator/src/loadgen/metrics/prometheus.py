"""Prometheus metrics of the load generator, on a per-app registry (names: CONTRACTS.md).

Histogram bucket edges include every SLO threshold exactly, so `le="<slo>"` buckets give the
fraction of requests within the SLO without interpolation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from loadgen.records import REASON_OK, WORKLOADS, RequestRecord, Workload, turn_label
from loadgen.scenario.models import Slo

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
TURN_LABELS = ("1", "2", "3", "4", "5+")

TTFT_EDGES_S = (0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.75, 1.0,
                1.5, 2.0, 2.5, 4.0, 5.0, 7.5, 10.0, 15.0, 20.0, 30.0, 60.0, 120.0)  # fmt: skip
ITL_EDGES_S = (0.002, 0.005, 0.01, 0.015, 0.02, 0.025, 0.03, 0.035, 0.04, 0.045, 0.05, 0.055,
               0.07, 0.08, 0.1, 0.125, 0.15, 0.2, 0.3, 0.5, 1.0, 2.0)  # fmt: skip
E2E_EDGES_S = (0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 7.5, 10.0, 15.0, 20.0, 30.0, 45.0, 60.0,
               90.0, 120.0, 180.0, 300.0)  # fmt: skip
LAG_EDGES_S = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
               10.0, 30.0)  # fmt: skip


def bucket_edges(base: Iterable[float], thresholds: Iterable[float]) -> tuple[float, ...]:
    """Sorted, de-duplicated edges: `base` plus every threshold exactly."""
    return tuple(sorted(set(base) | set(thresholds)))


class LoadgenMetrics:
    """Every loadgen_* series, registered on its own CollectorRegistry."""

    def __init__(self, slos: Mapping[Workload, Slo], registry: CollectorRegistry | None = None):
        self.registry = registry or CollectorRegistry(auto_describe=True)
        r = self.registry
        ttft_edges = bucket_edges(TTFT_EDGES_S, (s.ttft_p95_s for s in slos.values()))
        itl_edges = bucket_edges(ITL_EDGES_S, (s.itl_p95_s for s in slos.values()))
        self.ttft = Histogram(
            "loadgen_ttft_seconds", "Client-side time to first token (first content event)",
            ["workload", "turn"], buckets=ttft_edges, registry=r,
        )  # fmt: skip
        self.ttst = Histogram(
            "loadgen_ttst_seconds", "Time from the first to the second content event",
            ["workload"], buckets=itl_edges, registry=r,
        )  # fmt: skip
        self.itl = Histogram(
            "loadgen_itl_seconds", "Inter-token latency, one observation per token",
            ["workload"], buckets=itl_edges, registry=r,
        )  # fmt: skip
        self.e2e = Histogram(
            "loadgen_e2e_seconds", "Send to last content event",
            ["workload"], buckets=E2E_EDGES_S, registry=r,
        )  # fmt: skip
        self.schedule_lag = Histogram(
            "loadgen_schedule_lag_seconds", "Actual minus intended send time",
            ["workload"], buckets=LAG_EDGES_S, registry=r,
        )  # fmt: skip
        self.requests = Counter(
            "loadgen_requests", "Requests by outcome (status ok|error|dropped)",
            ["workload", "status", "reason"], registry=r,
        )  # fmt: skip
        self.tokens = Counter(
            "loadgen_tokens", "Tokens by kind (input|output|cached)",
            ["workload", "kind"], registry=r,
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
        self.client_saturated = Gauge(
            "loadgen_client_saturated", "1 when the client itself is too late to trust", registry=r
        )
        self.slo_ttft = Gauge(
            "loadgen_slo_ttft_seconds", "TTFT p95 SLO threshold", ["workload"], registry=r
        )
        self.slo_itl = Gauge(
            "loadgen_slo_itl_seconds", "ITL p95 SLO threshold", ["workload"], registry=r
        )
        self._prime(slos)

    def _prime(self, slos: Mapping[Workload, Slo]) -> None:
        """Create the common series at 0 so rate() and ratios work before the first event."""
        for w in WORKLOADS:
            self.requests.labels(w, "ok", REASON_OK)
            self.requests.labels(w, "error", "timeout")
            for kind in ("input", "output", "cached"):
                self.tokens.labels(w, kind)
            for hist in (self.ttst, self.itl, self.e2e, self.schedule_lag):
                hist.labels(w)
            for turn in TURN_LABELS if w == "chat" else ("1",):
                self.ttft.labels(w, turn)
            self.target_rps.labels(w).set(0)
            self.achieved_rps.labels(w).set(0)
            self.in_flight.labels(w).set(0)
            self.slo_ttft.labels(w).set(slos[w].ttft_p95_s)
            self.slo_itl.labels(w).set(slos[w].itl_p95_s)
        self.followups.labels("remote", "ok")
        self.client_saturated.set(0)
        self.event_loop_lag.set(0)

    def observe(self, record: RequestRecord) -> None:
        """Account one finished (or dropped) request."""
        w = record.workload
        self.requests.labels(w, record.status, record.reason).inc()
        if record.status == "dropped":
            return
        lag = record.schedule_lag_ns
        if lag is not None:
            self.schedule_lag.labels(w).observe(max(lag, 0) / 1e9)
        if record.ttft_ns is not None:
            turn = turn_label(record.turn) if w == "chat" else "1"
            self.ttft.labels(w, turn).observe(record.ttft_ns / 1e9)
        if record.ttst_ns is not None:
            self.ttst.labels(w).observe(record.ttst_ns / 1e9)
        if record.e2e_ns is not None:
            self.e2e.labels(w).observe(record.e2e_ns / 1e9)
        itl = self.itl.labels(w)
        for itl_ns, tokens in record.itl_per_token_ns():
            value = itl_ns / 1e9
            for _ in range(tokens):
                itl.observe(value)
        for kind, count in (
            ("input", record.input_tokens),
            ("output", record.output_tokens),
            ("cached", record.cached_tokens),
        ):
            if count:
                self.tokens.labels(w, kind).inc(count)

    def followup(self, source: str, reason: str) -> None:
        self.followups.labels(source, reason).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)
