"""The clock port: monotonic integer nanoseconds, and waiting until an absolute instant."""

from __future__ import annotations

import asyncio
import time
from typing import Protocol

NS_PER_S = 1_000_000_000


class Clock(Protocol):
    """Monotonic time in integer ns; tests substitute a fake that never sleeps."""

    def now_ns(self) -> int: ...

    async def sleep_until(self, deadline_ns: int, wake: asyncio.Event | None = None) -> bool:
        """Wait until `deadline_ns` or until `wake` is set; True when the deadline was reached."""
        ...


class MonotonicClock:
    """The real clock: `time.perf_counter_ns` and the event loop's timers."""

    def now_ns(self) -> int:
        return time.perf_counter_ns()

    async def sleep_until(self, deadline_ns: int, wake: asyncio.Event | None = None) -> bool:
        delay_s = (deadline_ns - time.perf_counter_ns()) / NS_PER_S
        if wake is None or delay_s <= 0 or wake.is_set():
            # Always yield once: a loop that is behind schedule must not starve the others.
            await asyncio.sleep(max(delay_s, 0) if wake is None else 0)
            return wake is None or not wake.is_set()
        try:
            async with asyncio.timeout(delay_s):
                await wake.wait()
        except TimeoutError:
            return True
        return False


def ns_to_s(value_ns: int) -> float:
    """Seconds (float) from integer nanoseconds, for display and Prometheus only."""
    return value_ns / NS_PER_S


def s_to_ns(value_s: float) -> int:
    """Integer nanoseconds from seconds."""
    return round(value_s * NS_PER_S)
