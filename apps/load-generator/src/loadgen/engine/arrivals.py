"""Open-loop Poisson arrivals on an absolute schedule, one process (and one RNG) per workload.

Intended send instants are cumulative sums of exponential gaps from a fixed origin, so time
spent sending never shifts later arrivals (lateness is measured as schedule lag instead). A
rate change redraws the pending arrival from the change instant with the new rate: exact for a
Poisson process (memoryless), and never a burst.
"""

from __future__ import annotations

import random

from loadgen.clock import NS_PER_S


class PoissonArrivals:
    """The schedule of one workload's arrivals; pure (no clock, no I/O)."""

    def __init__(self, seed: int | str, rate_per_s: float, start_ns: int) -> None:
        if rate_per_s < 0:
            raise ValueError("rate_per_s must be >= 0")
        self._rng = random.Random(seed)
        self._rate_per_s = rate_per_s
        self._next_ns: int | None = None
        self._draw_from(start_ns)

    @property
    def rate_per_s(self) -> float:
        return self._rate_per_s

    @property
    def next_ns(self) -> int | None:
        """Intended instant of the next arrival; None while the rate is 0."""
        return self._next_ns

    def pop(self) -> int:
        """Take the pending arrival's instant and schedule the one after it."""
        if self._next_ns is None:
            raise ValueError("no arrival pending at rate 0")
        due = self._next_ns
        self._draw_from(due)
        return due

    def set_rate(self, rate_per_s: float, now_ns: int) -> None:
        """Change the rate from `now_ns` on (the pending arrival is redrawn from there)."""
        if rate_per_s < 0:
            raise ValueError("rate_per_s must be >= 0")
        if rate_per_s == self._rate_per_s and self._next_ns is not None:
            return
        self._rate_per_s = rate_per_s
        self._draw_from(now_ns)

    def _draw_from(self, origin_ns: int) -> None:
        if self._rate_per_s <= 0:
            self._next_ns = None
            return
        gap_s = self._rng.expovariate(self._rate_per_s)
        self._next_ns = origin_ns + max(1, round(gap_s * NS_PER_S))
