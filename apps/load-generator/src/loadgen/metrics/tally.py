"""Mergeable per-workload (and per chat turn) tallies of request records.

One Tally is a one-second bin of the live window (live.py) or a whole session (the summary).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from loadgen.metrics.registry import LATENCIES, TOKEN_KINDS
from loadgen.metrics.stats import LogHistogram
from loadgen.records import WORKLOADS, RequestRecord, Workload, turn_label

NS = 1e-9
KIND_NAMES = tuple(kind for kind, _ in TOKEN_KINDS)


Digest = dict[str, LogHistogram]


def latency_digest(record: RequestRecord) -> Digest:
    """The record's latencies (seconds) as one small histogram each: a 2000-token answer's
    ITLs are bucketed once, then merged into every tally the record goes to (live bin,
    session, chat turn) instead of being bucketed again for each."""
    digest: Digest = {}
    for metric in LATENCIES:
        hist = digest[metric.key] = LogHistogram()
        hist.add_many(metric.read_ns(record), NS)
    return digest


class WorkloadTally:
    """Latency histograms (seconds, one per registry latency) and counts of one workload/turn."""

    __slots__ = (
        "arrivals",
        "dispatched",
        "dropped",
        "errors",
        "frozen",
        "frozen_ns",
        "latency",
        "ok",
        "reasons",
        "stopped",
        "tokens",
        "within_slo",
    )

    def __init__(self) -> None:
        self.latency: dict[str, LogHistogram] = {m.key: LogHistogram() for m in LATENCIES}
        self.tokens: dict[str, int] = dict.fromkeys(KIND_NAMES, 0)
        self.ok = 0
        self.errors = 0
        self.dropped = 0
        self.stopped = 0  # cut by the presenter's stop: neither ok nor an error
        self.arrivals = 0
        self.dispatched = 0
        self.reasons: Counter[str] = Counter()
        self.frozen = 0  # streams with at least one visible freeze
        self.frozen_ns = 0  # time those streams spent frozen
        self.within_slo = 0  # requests meeting every SLO of their workload (goodput)

    def add_record(self, record: RequestRecord, digest: Digest | None = None) -> None:
        """`digest`: `latency_digest(record)` when the caller already has it."""
        if record.status == "dropped":
            self.dropped += 1
            self.reasons[record.reason] += 1
            return
        if record.status == "stopped":
            self.stopped += 1
            return
        if record.status == "ok":
            self.ok += 1
        else:
            self.errors += 1
            self.reasons[record.reason] += 1
        if record.frozen_ns:
            self.frozen += 1
            self.frozen_ns += record.frozen_ns
        if record.within_slo:
            self.within_slo += 1
        for key, hist in (digest or latency_digest(record)).items():
            self.latency[key].merge(hist)
        for kind, read in TOKEN_KINDS:
            self.tokens[kind] += read(record) or 0

    def merge(self, other: WorkloadTally) -> None:
        for key, hist in other.latency.items():
            self.latency[key].merge(hist)
        for kind, count in other.tokens.items():
            self.tokens[kind] += count
        self.ok += other.ok
        self.errors += other.errors
        self.dropped += other.dropped
        self.stopped += other.stopped
        self.arrivals += other.arrivals
        self.dispatched += other.dispatched
        self.reasons.update(other.reasons)
        self.frozen += other.frozen
        self.frozen_ns += other.frozen_ns
        self.within_slo += other.within_slo

    def subtract(self, other: WorkloadTally) -> None:
        """Undo `merge(other)`."""
        for key, hist in other.latency.items():
            self.latency[key].subtract(hist)
        for kind, count in other.tokens.items():
            self.tokens[kind] -= count
        self.ok -= other.ok
        self.errors -= other.errors
        self.dropped -= other.dropped
        self.stopped -= other.stopped
        self.arrivals -= other.arrivals
        self.dispatched -= other.dispatched
        self.frozen -= other.frozen
        self.frozen_ns -= other.frozen_ns
        self.within_slo -= other.within_slo
        self.reasons.subtract(other.reasons)
        self.reasons = +self.reasons  # drop the reasons that fell to zero

    def empty(self) -> bool:
        return not (
            self.ok or self.errors or self.dropped or self.stopped or self.arrivals
            or self.dispatched or self.frozen or self.within_slo or any(self.tokens.values())
            or any(h.count for h in self.latency.values())
        )  # fmt: skip

    def to_dict(self, seconds: float | None = None) -> dict[str, Any]:
        """Percentiles in ms, counts, and (given the span in seconds) rates."""
        input_tokens, cached_tokens = self.tokens["input"], self.tokens["cached"]
        # Judged: every request the system was asked to serve; the presenter's stop is not its
        # failure, so "stopped" requests are left out (docs/measurement-conventions.md).
        judged = self.ok + self.errors + self.dropped
        out: dict[str, Any] = {
            "ok": self.ok,
            "errors": self.errors,
            "dropped": self.dropped,
            "stopped": self.stopped,
            "reasons": dict(self.reasons),
            "arrivals": self.arrivals,
            "dispatched": self.dispatched,
            **{f"{kind}_tokens": count for kind, count in self.tokens.items()},
            "cache_hit_ratio": round(cached_tokens / input_tokens, 4) if input_tokens else None,
            "frozen_streams": self.frozen,
            "frozen_s": round(self.frozen_ns / 1e9, 3),
            "within_slo": self.within_slo,
            "slo_attainment": round(self.within_slo / judged, 4) if judged else None,
        }
        for key, hist in self.latency.items():
            out[f"{key}_ms"] = hist.summary(scale=1000.0)
        if seconds is not None and seconds > 0:
            out["offered_rps"] = round(self.arrivals / seconds, 4)
            out["achieved_rps"] = round(self.dispatched / seconds, 4)
            out["completed_rps"] = round((self.ok + self.errors) / seconds, 4)
            out["output_tokens_per_s"] = round(self.tokens["output"] / seconds, 2)
            out["goodput_rps"] = round(self.within_slo / seconds, 4)
        return out


class Tally:
    """Per-workload tallies, chat per turn ("1".."4", "5+"), and the client's own lateness."""

    __slots__ = ("dispatch_lag", "turns", "workloads")

    def __init__(self) -> None:
        self.workloads: dict[Workload, WorkloadTally] = {w: WorkloadTally() for w in WORKLOADS}
        self.turns: dict[str, WorkloadTally] = {}
        self.dispatch_lag = LogHistogram()  # arrival loop wake-up lateness (seconds)

    def add_record(self, record: RequestRecord, digest: Digest | None = None) -> None:
        if digest is None and record.status in ("ok", "error"):
            digest = latency_digest(record)  # once, for the workload and the chat turn
        self.workloads[record.workload].add_record(record, digest)
        if record.workload == "chat" and record.status != "dropped":
            label = turn_label(record.turn)
            tally = self.turns.get(label)
            if tally is None:
                tally = self.turns[label] = WorkloadTally()
            tally.add_record(record, digest)

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

    def subtract(self, other: Tally) -> None:
        """Undo `merge(other)`; a chat turn left with nothing is dropped, as if never merged."""
        for w in WORKLOADS:
            self.workloads[w].subtract(other.workloads[w])
        for label, tally in other.turns.items():
            mine = self.turns[label]
            mine.subtract(tally)
            if mine.empty():
                del self.turns[label]
        self.dispatch_lag.subtract(other.dispatch_lag)
