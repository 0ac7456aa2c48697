"""Mergeable per-workload (and per chat turn) tallies of request records.

One Tally is a one-second bin of the live window (live.py) or a whole session (the summary).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from loadgen.metrics.stats import LogHistogram
from loadgen.records import WORKLOADS, RequestRecord, Workload, turn_label

NS = 1e-9


class WorkloadTally:
    """Latency histograms (seconds) and counts of one workload or one chat turn."""

    __slots__ = (
        "arrivals",
        "cached_tokens",
        "dispatched",
        "dropped",
        "e2e",
        "errors",
        "input_tokens",
        "itl",
        "lag",
        "ok",
        "output_tokens",
        "reasons",
        "ttft",
        "ttst",
    )

    def __init__(self) -> None:
        self.ttft = LogHistogram()
        self.ttst = LogHistogram()
        self.itl = LogHistogram()
        self.e2e = LogHistogram()
        self.lag = LogHistogram()
        self.ok = 0
        self.errors = 0
        self.dropped = 0
        self.arrivals = 0
        self.dispatched = 0
        self.reasons: Counter[str] = Counter()
        self.input_tokens = 0
        self.output_tokens = 0
        self.cached_tokens = 0

    def add_record(self, record: RequestRecord) -> None:
        if record.status == "dropped":
            self.dropped += 1
            self.reasons[record.reason] += 1
            return
        if record.status == "ok":
            self.ok += 1
        else:
            self.errors += 1
            self.reasons[record.reason] += 1
        for hist, value in (
            (self.ttft, record.ttft_ns),
            (self.ttst, record.ttst_ns),
            (self.e2e, record.e2e_ns),
            (self.lag, record.schedule_lag_ns),
        ):
            if value is not None:
                hist.add(max(value, 0) * NS)
        for itl_ns, tokens in record.itl_per_token_ns():
            self.itl.add(itl_ns * NS, tokens)
        self.input_tokens += record.input_tokens or 0
        self.output_tokens += record.output_tokens or 0
        self.cached_tokens += record.cached_tokens or 0

    def merge(self, other: WorkloadTally) -> None:
        for name in ("ttft", "ttst", "itl", "e2e", "lag"):
            getattr(self, name).merge(getattr(other, name))
        for name in (
            "ok",
            "errors",
            "dropped",
            "arrivals",
            "dispatched",
            "input_tokens",
            "output_tokens",
            "cached_tokens",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.reasons.update(other.reasons)

    def to_dict(self, seconds: float | None = None) -> dict[str, Any]:
        """Percentiles in ms, counts, and (given the span in seconds) rates."""
        out: dict[str, Any] = {
            "ok": self.ok,
            "errors": self.errors,
            "dropped": self.dropped,
            "reasons": dict(self.reasons),
            "arrivals": self.arrivals,
            "dispatched": self.dispatched,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cached_tokens": self.cached_tokens,
            "cache_hit_ratio": (
                round(self.cached_tokens / self.input_tokens, 4) if self.input_tokens else None
            ),
        }
        for name in ("ttft", "ttst", "itl", "e2e", "lag"):
            out[f"{name}_ms"] = getattr(self, name).summary(scale=1000.0)
        if seconds is not None and seconds > 0:
            out["offered_rps"] = round(self.arrivals / seconds, 4)
            out["achieved_rps"] = round(self.dispatched / seconds, 4)
            out["completed_rps"] = round((self.ok + self.errors) / seconds, 4)
            out["output_tokens_per_s"] = round(self.output_tokens / seconds, 2)
        return out


class Tally:
    """Per-workload tallies, chat per turn ("1".."4", "5+"), and the client's own lateness."""

    __slots__ = ("dispatch_lag", "turns", "workloads")

    def __init__(self) -> None:
        self.workloads: dict[Workload, WorkloadTally] = {w: WorkloadTally() for w in WORKLOADS}
        self.turns: dict[str, WorkloadTally] = {}
        self.dispatch_lag = LogHistogram()  # arrival loop wake-up lateness (seconds)

    def add_record(self, record: RequestRecord) -> None:
        self.workloads[record.workload].add_record(record)
        if record.workload == "chat" and record.status != "dropped":
            label = turn_label(record.turn)
            tally = self.turns.get(label)
            if tally is None:
                tally = self.turns[label] = WorkloadTally()
            tally.add_record(record)

    def add_arrival(self, workload: Workload, dispatch_lag_ns: int) -> None:
        """An arrival came due; the loop woke `dispatch_lag_ns` after its intended instant."""
        self.workloads[workload].arrivals += 1
        self.dispatch_lag.add(max(dispatch_lag_ns, 0) * NS)

    def add_dispatch(self, workload: Workload) -> None:
        """An arrival started (at once, or later out of the queue)."""
        self.workloads[workload].dispatched += 1

    def merge(self, other: Tally) -> None:
        for w in WORKLOADS:
            self.workloads[w].merge(other.workloads[w])
        for label, tally in other.turns.items():
            mine = self.turns.get(label)
            if mine is None:
                mine = self.turns[label] = WorkloadTally()
            mine.merge(tally)
        self.dispatch_lag.merge(other.dispatch_lag)
