"""In-memory doubles of the scenario controller's ports (no sockets, no sleeping)."""

from __future__ import annotations

from collections.abc import Mapping

from loadgen.clock import Clock
from loadgen.controller.ports import (
    POOL_NAMES,
    AutoscalerDecision,
    ClusterState,
    PoolName,
    PoolState,
)
from loadgen.demo_script.load import LoadConfig
from loadgen.errors import ScalerError


class FakeScaler:
    """Pools whose new workers get ready `ready_delay_ns` after a scale-out, on `clock`."""

    def __init__(
        self,
        clock: Clock,
        *,
        prefill: int = 2,
        decode: int = 3,
        budget_gpus: int = 8,
        ready_delay_ns: int = 0,
        paused: bool = False,
    ) -> None:
        self._clock = clock
        now = clock.now_ns()
        self.workers: dict[PoolName, list[int]] = {
            "prefill": [now] * prefill,
            "decode": [now] * decode,
        }
        self.budget_gpus = budget_gpus
        self.ready_delay_ns = ready_delay_ns
        self.paused = paused
        self.calls: list[tuple[str, object]] = []
        self.fail: ScalerError | None = None  # raised by every call while set

    def _check(self) -> None:
        if self.fail is not None:
            raise self.fail

    async def state(self) -> ClusterState:
        self._check()
        now = self._clock.now_ns()
        pools = {
            p: PoolState(
                desired=len(ws),
                ready=sum(1 for t in ws if t <= now),
                starting=sum(1 for t in ws if t > now),
            )
            for p, ws in self.workers.items()
        }
        return ClusterState(pools=pools, budget_gpus=self.budget_gpus)

    async def scale(self, pool: PoolName, replicas: int) -> None:
        self._check()
        self.calls.append(("scale", (pool, replicas)))
        self.set_desired(pool, replicas)

    def set_desired(self, pool: PoolName, replicas: int) -> None:
        """What KEDA (or anyone) scaling the pool behind the controller's back looks like."""
        ws = self.workers[pool]
        if replicas < len(ws):
            del ws[replicas:]
        else:
            ws.extend([self._clock.now_ns() + self.ready_delay_ns] * (replicas - len(ws)))

    async def set_autoscaling_paused(self, paused: bool) -> None:
        self._check()
        self.calls.append(("paused", paused))
        self.paused = paused

    async def autoscaling_paused(self) -> bool:
        self._check()
        return self.paused

    def desired(self) -> dict[PoolName, int]:
        return {p: len(self.workers[p]) for p in POOL_NAMES}


class FakeDriver:
    """Remembers every config applied and whether arrivals run."""

    def __init__(self) -> None:
        self.configs: list[LoadConfig] = []
        self._running = False
        self.starts = 0
        self.stops = 0

    async def apply(self, config: LoadConfig) -> None:
        self.configs.append(config)

    async def start(self) -> None:
        self._running = True
        self.starts += 1

    async def stop(self) -> None:
        self._running = False
        self.stops += 1

    def running(self) -> bool:
        return self._running


class FakeAutoscaler:
    def __init__(self, decisions: Mapping[PoolName, AutoscalerDecision] | None = None) -> None:
        self.current: dict[PoolName, AutoscalerDecision] = dict(decisions or {})

    def decisions(self) -> Mapping[PoolName, AutoscalerDecision]:
        return self.current
