"""Pure statistics of the client benchmark: exact percentiles (demo_common.percentile),
Prometheus histogram deltas, per-step summaries of request records (rates, latencies,
events/s, client-added TTFT).

No I/O and no clock: everything here takes numbers and returns numbers, so it is unit-tested.
All inputs are integer ns (perf_counter_ns instants); outputs are in ms or per-second rates.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from demo_common.percentile import percentile
from loadgen.records import RequestRecord

NS_PER_MS = 1_000_000
NS_PER_S = 1_000_000_000


def describe(values: Sequence[float], digits: int = 3) -> dict[str, float | int | None]:
    """count, mean, p50, p95, p99, max of `values` (already in display units)."""

    def r(v: float | None) -> float | None:
        return None if v is None else round(v, digits)

    return {
        "count": len(values),
        "mean": r(sum(values) / len(values)) if values else None,
        "p50": r(percentile(values, 50)),
        "p95": r(percentile(values, 95)),
        "p99": r(percentile(values, 99)),
        "max": r(max(values)) if values else None,
    }


# ----- Prometheus histograms (the frontend's own view) -------------------------------------
@dataclass(frozen=True)
class HistogramSnapshot:
    """One histogram series: cumulative bucket counts by upper edge, sum and count."""

    buckets: tuple[tuple[float, float], ...]  # (le, cumulative count), sorted, +Inf last
    total: float
    count: float

    def minus(self, before: HistogramSnapshot) -> HistogramSnapshot:
        """The observations made between `before` and this snapshot."""
        if not before.buckets:  # the series did not exist yet
            return self
        if [le for le, _ in self.buckets] != [le for le, _ in before.buckets]:
            raise ValueError("histogram bucket edges differ between snapshots")
        return HistogramSnapshot(
            buckets=tuple(
                (le, now - then)
                for (le, now), (_, then) in zip(self.buckets, before.buckets, strict=True)
            ),
            total=self.total - before.total,
            count=self.count - before.count,
        )

    def mean(self) -> float | None:
        return None if self.count <= 0 else self.total / self.count

    def quantile(self, q: float) -> float | None:
        """Prometheus' histogram_quantile: linear inside the bucket holding the rank."""
        if self.count <= 0:
            return None
        rank = q * self.count
        prev_le, prev_count = 0.0, 0.0
        for le, cum in self.buckets:
            if cum >= rank:
                if math.isinf(le):
                    return prev_le  # as Prometheus does: the highest finite edge
                width = cum - prev_count
                frac = 0.0 if width <= 0 else (rank - prev_count) / width
                return prev_le + (le - prev_le) * frac
            prev_le, prev_count = le, cum
        return prev_le

    def bucket_around(self, value: float) -> tuple[float, float]:
        """The (lower, upper) edges of the bucket `value` falls in (how coarse a quantile is)."""
        lower = 0.0
        for le, _ in self.buckets:
            if value <= le:
                return lower, le
            lower = le
        return lower, math.inf


def parse_histogram(text: str, name: str, labels: Mapping[str, str]) -> HistogramSnapshot:
    """The histogram `name` (without _bucket/_sum/_count) whose labels include `labels`,
    from Prometheus text exposition; an empty histogram when the series is absent."""
    buckets: dict[float, float] = {}
    total = count = 0.0
    for family in text_string_to_metric_families(text):
        if family.name != name:
            continue
        for sample in family.samples:
            extra = {k: v for k, v in sample.labels.items() if k != "le"}
            if any(extra.get(k) != v for k, v in labels.items()):
                continue
            if sample.name == f"{name}_bucket":
                le = float(sample.labels["le"])
                buckets[le] = buckets.get(le, 0.0) + sample.value
            elif sample.name == f"{name}_sum":
                total += sample.value
            elif sample.name == f"{name}_count":
                count += sample.value
    return HistogramSnapshot(tuple(sorted(buckets.items())), total, count)


def server_view(after: HistogramSnapshot, before: HistogramSnapshot) -> dict[str, Any]:
    """Mean (exact), p50/p95 (interpolated, with the bucket that bounds them) in ms."""
    delta = after.minus(before)

    def ms(v: float | None) -> float | None:
        return None if v is None else round(v * 1000, 3)

    p50, p95 = delta.quantile(0.5), delta.quantile(0.95)
    return {
        "count": int(delta.count),
        "mean_ms": ms(delta.mean()),
        "p50_ms": ms(p50),
        "p95_ms": ms(p95),
        "p50_bucket_ms": None if p50 is None else [ms(e) for e in delta.bucket_around(p50)],
        "p95_bucket_ms": None if p95 is None else [ms(e) for e in delta.bucket_around(p95)],
    }


# ----- request records ---------------------------------------------------------------------
def event_instants(record: RequestRecord) -> list[tuple[int, int]]:
    """(instant_ns, tokens) of every content event of a record (first event: 1+ tokens)."""
    if record.first_token_ns is None:
        return []
    first_tokens = (record.output_tokens or 0) - sum(t for _, t in record.gaps)
    out = [(record.first_token_ns, max(first_tokens, 1))]
    at = record.first_token_ns
    for gap_ns, tokens in record.gaps:
        at += gap_ns
        out.append((at, tokens))
    return out


def per_request_itl_ms(record: RequestRecord) -> float | None:
    """AIPerf's inter-token latency: (last - first content event) / (output tokens - 1)."""
    tokens = record.output_tokens or 0
    if record.first_token_ns is None or record.last_token_ns is None or tokens < 2:
        return None
    return (record.last_token_ns - record.first_token_ns) / (tokens - 1) / NS_PER_MS


@dataclass(frozen=True)
class Window:
    """[start_ns, end_ns) on the perf_counter clock."""

    start_ns: int
    end_ns: int

    @property
    def seconds(self) -> float:
        return (self.end_ns - self.start_ns) / NS_PER_S

    def holds(self, at_ns: int | None) -> bool:
        return at_ns is not None and self.start_ns <= at_ns < self.end_ns


def in_flight_stats(samples: Iterable[tuple[int, int]], window: Window) -> dict[str, float]:
    """Mean and max of (instant_ns, in_flight) samples taken inside the window."""
    inside = [n for at, n in samples if window.holds(at)]
    if not inside:
        return {"mean": 0.0, "max": 0.0}
    return {"mean": round(sum(inside) / len(inside), 1), "max": float(max(inside))}


def cores_used(samples: Sequence[tuple[int, float]], window: Window) -> float | None:
    """CPU cores used over the window from (instant_ns, cumulative cpu seconds) samples,
    interpolating the cumulative series at the window's edges."""

    def at(instant: int) -> float | None:
        for (t0, c0), (t1, c1) in itertools.pairwise(samples):
            if t0 <= instant <= t1:
                return c0 if t1 == t0 else c0 + (c1 - c0) * (instant - t0) / (t1 - t0)
        return None

    start, end = at(window.start_ns), at(window.end_ns)
    if start is None or end is None or window.seconds <= 0:
        return None
    return round((end - start) / window.seconds, 3)


def step_stats(
    records: Sequence[RequestRecord],
    starts: Sequence[tuple[int, int]],
    window: Window,
    target_rps: float,
    sse_events: int | None = None,
    server_ttft_ms: Mapping[str, float] | None = None,
) -> dict[str, Any]:
    """What one load step achieved. `starts` holds (intended, handed to the client) instants
    of every request, finished or not: rates and schedule lag come from them; latencies from
    the finished `records`; events/s from `sse_events` counted on arrival (all `data:`
    events) when given, else from the finished records' content events. With the server's
    per-request TTFT, also the TTFT the client adds on top of it."""
    seconds = window.seconds

    def rate(n: int) -> float | None:
        return round(n / seconds, 2) if seconds > 0 else None

    arrived = [(i, h) for i, h in starts if window.holds(i)]
    finished = [r for r in records if window.holds(r.intended_ns)]
    ok = [r for r in finished if r.ok]
    events = tokens = 0
    for r in records:
        for at, n in event_instants(r):
            if window.holds(at):
                events += 1
                tokens += n
    ms = NS_PER_MS
    ttft = [r.ttft_ns / ms for r in ok if r.ttft_ns is not None]
    itl_tok = [v / ms for r in ok for v, n in r.itl_per_token_ns() for _ in range(n)]
    itl_req = [v for r in ok if (v := per_request_itl_ms(r)) is not None]
    lag = [(h - i) / ms for i, h in arrived]
    reasons: dict[str, int] = {}
    for r in finished:
        if not r.ok:
            reasons[r.reason] = reasons.get(r.reason, 0) + 1
    out: dict[str, Any] = {
        "window_s": round(seconds, 3),
        "target_rps": target_rps,
        "arrivals": len(arrived),
        "due_rps": rate(len(arrived)),  # what the Poisson schedule asked for in this window
        "achieved_send_rps": rate(sum(1 for _, h in starts if window.holds(h))),
        "ok": len(ok),
        "errors": reasons,
        "unfinished_at_stop": len(arrived) - len(finished),
        "events_per_s": rate(sse_events if sse_events is not None else events),
        "content_events_per_s": rate(events),
        "tokens_per_s": rate(tokens),
        "ttft_ms": describe(ttft),
        "itl_per_token_ms": describe(itl_tok),
        "itl_per_request_ms": describe(itl_req),
        "schedule_lag_ms": describe(lag),
        "input_tokens_mean": _mean_int(r.input_tokens for r in ok),
        "output_tokens_mean": _mean_int(r.output_tokens for r in ok),
    }
    if server_ttft_ms is not None:
        server = [server_ttft_ms[r.request_id] for r in ok if r.request_id in server_ttft_ms]
        added = [
            r.ttft_ns / ms - server_ttft_ms[r.request_id]
            for r in ok
            if r.ttft_ns is not None and r.request_id in server_ttft_ms
        ]
        out["server_ttft_ms"] = describe(server)
        out["client_added_ttft_ms"] = describe(added)
    return out


def _mean_int(values: Iterable[int | None]) -> float | None:
    known = [v for v in values if v is not None]
    return round(sum(known) / len(known), 1) if known else None
