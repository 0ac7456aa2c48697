"""The engine's monitors: event-loop lag probe and the periodic publication of the live view."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from loadgen.clock import Clock, s_to_ns

SATURATION_HORIZON_S = 5  # how far back "the client is late" looks: loop lag and dispatch lag
KEEP_S = float(SATURATION_HORIZON_S)  # how far back the worst loop lag is remembered


class LoopLagProbe:
    """Sleeps `interval_s` again and again and remembers how late each wake-up was."""

    def __init__(self, clock: Clock, interval_s: float) -> None:
        self._clock = clock
        self._interval_ns = s_to_ns(interval_s)
        self._lags: deque[tuple[int, int]] = deque()  # (at_ns, lag_ns)

    async def run(self) -> None:
        keep_ns = s_to_ns(KEEP_S)
        while True:
            due = self._clock.now_ns() + self._interval_ns
            await self._clock.sleep_until(due)
            now = self._clock.now_ns()
            self._lags.append((now, now - due))
            while self._lags and self._lags[0][0] < now - keep_ns:
                self._lags.popleft()

    def worst_ns(self) -> int:
        return max((lag for _, lag in self._lags), default=0)


class Ticker:
    """Calls `publish` every `period_s` on a fixed grid (no drift when a call runs late)."""

    def __init__(self, clock: Clock, period_s: float, publish: Callable[[], None]) -> None:
        self._clock = clock
        self._period_ns = s_to_ns(period_s)
        self._publish = publish

    async def run(self) -> None:
        next_ns = self._clock.now_ns() + self._period_ns
        while True:
            await self._clock.sleep_until(next_ns)
            next_ns += self._period_ns
            self._publish()
