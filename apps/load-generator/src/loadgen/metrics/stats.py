"""Bounded-memory percentiles: a sparse log-bucketed histogram (about 0.5 % relative error).

Used for the 1 Hz live window and the end-of-session summary, where keeping every per-token
sample would grow without bound. Prometheus histograms (metrics.py) are separate.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

_RATIO = 1.01
_LOG_RATIO = math.log(_RATIO)
_MIN_VALUE = 1e-7  # seconds; anything smaller lands in the first bucket


class LogHistogram:
    """Counts of positive values in buckets [MIN*r^i, MIN*r^(i+1)); mergeable."""

    __slots__ = ("_counts", "count", "total")

    def __init__(self) -> None:
        self._counts: dict[int, int] = {}
        self.count = 0
        self.total = 0.0

    def add(self, value: float, weight: int = 1) -> None:
        if weight <= 0:
            return
        index = 0 if value <= _MIN_VALUE else int(math.log(value / _MIN_VALUE) / _LOG_RATIO)
        self._counts[index] = self._counts.get(index, 0) + weight
        self.count += weight
        self.total += value * weight

    def add_many(self, pairs: Iterable[tuple[float, int]], scale: float = 1.0) -> None:
        """`add(value * scale, weight)` for each pair, in one loop (a 2000-token answer's ITLs
        go through here twice per record: the live bin and the session tally)."""
        counts, log, count, total = self._counts, math.log, self.count, self.total
        for value, weight in pairs:
            if weight <= 0:
                continue
            value *= scale
            index = 0 if value <= _MIN_VALUE else int(log(value / _MIN_VALUE) / _LOG_RATIO)
            counts[index] = counts.get(index, 0) + weight
            count += weight
            total += value * weight
        self.count, self.total = count, total

    def merge(self, other: LogHistogram) -> None:
        counts = self._counts
        for index, n in other._counts.items():
            counts[index] = counts.get(index, 0) + n
        self.count += other.count
        self.total += other.total

    def subtract(self, other: LogHistogram) -> None:
        """Undo `merge(other)` (the live window drops its oldest second this way)."""
        counts = self._counts
        for index, n in other._counts.items():
            left = counts[index] - n
            if left:
                counts[index] = left
            else:
                del counts[index]
        self.count -= other.count
        self.total = self.total - other.total if self.count else 0.0

    @classmethod
    def merged(cls, parts: Iterable[LogHistogram]) -> LogHistogram:
        result = cls()
        for part in parts:
            result.merge(part)
        return result

    def quantile(self, q: float) -> float | None:
        """The q-quantile (0..1) as the bucket's geometric midpoint; None when empty."""
        if self.count == 0:
            return None
        rank = max(1, math.ceil(q * self.count))
        seen = 0
        for index in sorted(self._counts):
            seen += self._counts[index]
            if seen >= rank:
                return float(_MIN_VALUE * _RATIO ** (index + 0.5))
        raise AssertionError("unreachable: rank exceeds count")

    def mean(self) -> float | None:
        return None if self.count == 0 else self.total / self.count

    def summary(self, scale: float = 1.0, digits: int = 3) -> dict[str, float | int | None]:
        """count, mean, p50, p90, p95, p99, max-bucket, each multiplied by `scale`."""

        def scaled(v: float | None) -> float | None:
            return None if v is None else round(v * scale, digits)

        return {
            "count": self.count,
            "mean": scaled(self.mean()),
            "p50": scaled(self.quantile(0.50)),
            "p90": scaled(self.quantile(0.90)),
            "p95": scaled(self.quantile(0.95)),
            "p99": scaled(self.quantile(0.99)),
            "max": scaled(self.quantile(1.0)),
        }
