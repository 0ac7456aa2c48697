"""One workload's lane in the engine (arrivals, caps, queue) and the Runner its driver sees."""

from __future__ import annotations

import asyncio
from collections import deque
from typing import TYPE_CHECKING

from loadgen.engine.arrivals import PoissonArrivals
from loadgen.records import ChatRequest, RequestRecord, Workload
from loadgen.workloads.base import WorkloadDriver

if TYPE_CHECKING:
    from loadgen.engine.core import Engine


class Lane:
    """One workload's arrivals, caps and counters."""

    def __init__(self, workload: Workload, driver: WorkloadDriver) -> None:
        self.workload = workload
        self.driver = driver
        self.arrivals: PoissonArrivals | None = None
        self.wake = asyncio.Event()
        self.active = 0  # arrivals being worked on (a conversation counts once)
        self.in_flight = 0  # HTTP requests outstanding
        self.queue: deque[int] = deque()  # intended instants of queued arrivals
        self.loop_task: asyncio.Task[None] | None = None


class LaneRunner:
    """The Runner a workload driver sees for one arrival."""

    def __init__(self, engine: Engine, lane: Lane) -> None:
        self._engine = engine
        self._lane = lane

    def now_ns(self) -> int:
        return self._engine.clock.now_ns()

    @property
    def stopping(self) -> bool:
        return self._engine.state != "running"

    async def pause_until(self, deadline_ns: int) -> bool:
        await self._engine.clock.sleep_until(deadline_ns, self._engine._stop_event)
        return not self.stopping

    async def send(self, request: ChatRequest, intended_ns: int) -> RequestRecord:
        return await self._engine._send(self._lane, request, intended_ns)
