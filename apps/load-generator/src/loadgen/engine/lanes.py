"""One workload's lane in the engine (arrivals, caps, queue) and the Runner its driver sees."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable

from loadgen.clock import Clock
from loadgen.engine.arrivals import PoissonArrivals
from loadgen.records import ChatRequest, RequestRecord, Workload
from loadgen.workloads.base import WorkloadDriver


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


# How the engine sends one request of a lane (it counts and records it).
LaneSend = Callable[[Lane, ChatRequest, int], Awaitable[RequestRecord]]


class LaneRunner:
    """The Runner a workload driver sees for one arrival: the engine's clock, its stop signal
    (set from the moment a stop begins until the next start) and its send."""

    def __init__(
        self, lane: Lane, intended_ns: int, clock: Clock, stop: asyncio.Event, send: LaneSend
    ) -> None:
        self.lane = lane
        self.intended_ns = intended_ns
        self.sent = 0  # requests sent for this arrival (0 at a stop: the arrival needs a record)
        self._clock = clock
        self._stop = stop
        self._send = send

    def now_ns(self) -> int:
        return self._clock.now_ns()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    async def pause_until(self, deadline_ns: int) -> bool:
        await self._clock.sleep_until(deadline_ns, self._stop)
        return not self.stopping

    async def send(self, request: ChatRequest, intended_ns: int) -> RequestRecord:
        self.sent += 1
        return await self._send(self.lane, request, intended_ns)
