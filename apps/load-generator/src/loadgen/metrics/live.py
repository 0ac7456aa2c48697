"""Sliding-window live aggregates (1 s bins) for the UI, and their fan-out to viewers."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from loadgen.clock import NS_PER_S
from loadgen.metrics.snapshot import LiveSnapshot
from loadgen.metrics.stats import LogHistogram
from loadgen.metrics.tally import Digest, Tally
from loadgen.records import RequestRecord, Workload


class LiveWindow:
    """Keeps the last `window_s` one-second bins; `tally()` merges them.

    The bins before the current one are also kept merged (`_closed`: each bin is added once
    when the next second starts and subtracted when it leaves the window), so the 1 Hz
    snapshot merges two tallies, not `window_s` of them: merging 30 bins was ~5 ms of event
    loop per tick under decode stress (records/2026-11-30-2core/client-loop-lag).
    """

    def __init__(self, window_s: int = 30) -> None:
        if window_s < 1:
            raise ValueError("window_s must be >= 1")
        self._window_s = window_s
        self._bins: deque[tuple[int, Tally]] = deque()
        self._closed = Tally()  # every bin but the last, merged
        self._origin_ns: int | None = None

    @property
    def window_s(self) -> int:
        return self._window_s

    def restart(self, now_ns: int) -> None:
        """Forget everything (a new session starts at `now_ns`)."""
        self._bins.clear()
        self._closed = Tally()
        self._origin_ns = now_ns

    def _bin(self, now_ns: int) -> Tally:
        second = now_ns // NS_PER_S
        if self._origin_ns is None:
            self._origin_ns = now_ns
        if not self._bins or self._bins[-1][0] != second:
            if self._bins:
                self._closed.merge(self._bins[-1][1])
            self._bins.append((second, Tally()))
            self._expire(second)
        return self._bins[-1][1]

    def _expire(self, second: int) -> None:
        while self._bins and self._bins[0][0] <= second - self._window_s:
            _, old = self._bins.popleft()
            if self._bins:  # a closed bin (the last one is not in _closed)
                self._closed.subtract(old)
        if len(self._bins) <= 1:
            self._closed = Tally()  # exactly empty again (no float residue in the sums)

    def add_record(self, record: RequestRecord, now_ns: int, digest: Digest | None = None) -> None:
        self._bin(now_ns).add_record(record, digest)

    def add_arrival(self, workload: Workload, dispatch_lag_ns: int, now_ns: int) -> None:
        self._bin(now_ns).add_arrival(workload, dispatch_lag_ns)

    def add_dispatch(self, workload: Workload, now_ns: int) -> None:
        self._bin(now_ns).add_dispatch(workload)

    def recent_dispatch_lag(self, now_ns: int, seconds: int) -> LogHistogram:
        """The arrival loops' lateness over the last `seconds` bins (the current one included):
        the saturation flag's horizon, shorter than the window so one late arrival does not
        flag the next 30 windows."""
        second = now_ns // NS_PER_S
        return LogHistogram.merged(t.dispatch_lag for s, t in self._bins if s > second - seconds)

    def tally(self, now_ns: int) -> tuple[Tally, float]:
        """The merged window and the seconds it spans (shorter right after a restart)."""
        second = now_ns // NS_PER_S
        self._expire(second)
        merged = Tally()
        merged.merge(self._closed)
        if self._bins:
            merged.merge(self._bins[-1][1])
        origin_ns = now_ns if self._origin_ns is None else self._origin_ns
        # The bins hold window_s - 1 whole seconds plus the current, partial one.
        covered_s = self._window_s - 1 + (now_ns % NS_PER_S) / NS_PER_S
        elapsed_s = (now_ns - origin_ns) / NS_PER_S
        return merged, max(min(covered_s, elapsed_s), 1e-3)


class SnapshotHub:
    """Hands each snapshot to every viewer; a slow viewer gets the newest, never a backlog."""

    def __init__(self, depth: int = 2) -> None:
        self._depth = depth
        self._queues: set[asyncio.Queue[LiveSnapshot]] = set()

    def publish(self, snapshot: LiveSnapshot) -> None:
        for queue in self._queues:
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(snapshot)

    @asynccontextmanager
    async def subscribe(self) -> AsyncIterator[asyncio.Queue[LiveSnapshot]]:
        queue: asyncio.Queue[LiveSnapshot] = asyncio.Queue(maxsize=self._depth)
        self._queues.add(queue)
        try:
            yield queue
        finally:
            self._queues.discard(queue)
