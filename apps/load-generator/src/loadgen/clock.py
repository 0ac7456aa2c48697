"""The clock port: monotonic integer nanoseconds of demo time, and waiting until an instant.

Demo time is wall time multiplied by the speed factor (SPEED): one clock for everything the
demo owns — arrivals, think times, windows, phases, and every latency measured — so a run at
SPEED=4 is the same demo four times faster, and every reported time is demo time.
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol

NS_PER_S = 1_000_000_000


class Clock(Protocol):
    """Monotonic demo time in integer ns; tests substitute a fake that never sleeps."""

    @property
    def speed(self) -> float:
        """Demo seconds per wall second."""
        ...

    def now_ns(self) -> int: ...

    async def sleep_until(self, deadline_ns: int, wake: asyncio.Event | None = None) -> bool:
        """Wait until `deadline_ns` or until `wake` is set; True when the deadline was reached."""
        ...


class MonotonicClock:
    """The real clock: `time.perf_counter_ns` scaled by the speed factor, the loop's timers."""

    def __init__(self, speed: float = 1.0) -> None:
        if not speed > 0:
            raise ValueError(f"speed must be > 0, got {speed}")
        self._speed = speed

    @property
    def speed(self) -> float:
        return self._speed

    def now_ns(self) -> int:
        if self._speed == 1.0:
            return time.perf_counter_ns()
        return int(time.perf_counter_ns() * self._speed)

    async def sleep_until(self, deadline_ns: int, wake: asyncio.Event | None = None) -> bool:
        delay_s = (deadline_ns - self.now_ns()) / NS_PER_S / self._speed
        if wake is None or delay_s <= 0 or wake.is_set():
            # Always yield once: a loop that is behind schedule must not starve the others.
            await asyncio.sleep(max(delay_s, 0) if wake is None else 0)
            return wake is None or not wake.is_set()
        try:
            async with asyncio.timeout(delay_s):
                await wake.wait()
        except TimeoutError:
            return not wake.is_set()  # woken in the same loop turn as the timer: say so
        return False


def ns_to_s(value_ns: int) -> float:
    """Seconds (float) from integer nanoseconds, for display and Prometheus only."""
    return value_ns / NS_PER_S


def s_to_ns(value_s: float) -> int:
    """Integer nanoseconds from seconds."""
    return round(value_s * NS_PER_S)
