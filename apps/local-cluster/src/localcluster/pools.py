"""Prefill and decode worker pools: the local stand-in for the DGD scaling adapters.

Each pool reconciles its workers towards a desired replica count, like a ReplicaSet: new and
replacement workers launch after a readiness delay (a real 70B worker needs minutes to load
weights), scale-in sends SIGTERM so the worker deregisters and drains, and a worker that dies is
replaced.
"""

from __future__ import annotations

import asyncio
import enum
import itertools
import logging
import signal
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

from localcluster.errors import ScaleRequestError
from localcluster.settings import PoolName

log = logging.getLogger(__name__)


class WorkerProcess(Protocol):
    """What a pool needs of a worker's process (ChildProcess in production)."""

    @property
    def pid(self) -> int | None: ...

    @property
    def returncode(self) -> int | None: ...

    async def start(self) -> None: ...

    def signal(self, signum: int) -> None: ...

    async def stop(self, grace_s: float) -> int | None: ...


# (pool, worker index) -> the process, not yet started; and: is the worker on `port` ready?
Launcher = Callable[[PoolName, int, int], WorkerProcess]
ReadinessProbe = Callable[[int], Awaitable[bool]]
PortAllocator = Callable[[], int]
WorkerHook = Callable[["Worker"], None]


def _no_hook(worker: Worker) -> None:
    pass


class WorkerState(enum.StrEnum):
    PENDING = "pending"  # scheduled, waiting out the readiness delay (weights loading)
    STARTING = "starting"  # process running, not yet healthy
    READY = "ready"
    STOPPING = "stopping"  # SIGTERM sent, draining


@dataclass
class Worker:
    pool: PoolName
    index: int
    system_port: int
    launch_at_ns: int
    state: WorkerState = WorkerState.PENDING
    process: WorkerProcess | None = None
    listen_ports: frozenset[int] = frozenset()  # taken when ready: its records name them
    stop_task: asyncio.Task[None] | None = field(default=None, repr=False)

    @property
    def name(self) -> str:
        return f"{self.pool}-{self.index}"


class WorkerPool:
    """Desired count plus the workers that realise it."""

    def __init__(
        self,
        name: PoolName,
        *,
        launcher: Launcher,
        probe: ReadinessProbe,
        allocate_port: PortAllocator,
        readiness_delay_ns: int,
        drain_timeout_s: float,
        crash_backoff_ns: tuple[int, int] = (1_000_000_000, 60_000_000_000),
        clock_ns: Callable[[], int] = time.monotonic_ns,
        on_ready: WorkerHook = _no_hook,
        on_died: WorkerHook = _no_hook,
    ) -> None:
        self.name = name
        # The cluster's view of a worker's life beyond the pool: discovery (cluster.py).
        self._on_ready, self._on_died = on_ready, on_died
        self.desired = 0
        self.workers: list[Worker] = []
        self.replacements = 0
        # How drained workers ended: 0 drained in time, -SIGKILL when the drain timed out.
        self.exit_codes: deque[tuple[str, int | None]] = deque(maxlen=100)
        self._launcher = launcher
        self._probe = probe
        self._allocate_port = allocate_port
        self._readiness_delay_ns = readiness_delay_ns
        self._drain_timeout_s = drain_timeout_s
        # A worker that dies before it ever got ready is crash-looping (bad flags, a port
        # taken): its replacements back off exponentially, like a pod in CrashLoopBackOff,
        # so an unattended booth machine does not spin. Reset once any worker gets ready.
        self._crash_backoff_ns = 0
        self._crash_backoff_first_ns, self._crash_backoff_max_ns = crash_backoff_ns
        self._clock_ns = clock_ns
        self._indexes = itertools.count()

    def count(self, state: WorkerState) -> int:
        return sum(1 for w in self.workers if w.state is state)

    @property
    def active(self) -> list[Worker]:
        """Workers that hold (or will hold) a GPU slot: everything not draining."""
        return [w for w in self.workers if w.state is not WorkerState.STOPPING]

    def set_initial(self, replicas: int) -> None:
        """Initial workers launch at once: the demo starts with its pools already up."""
        self.desired = replicas
        now = self._clock_ns()
        for _ in range(replicas):
            self._add_worker(launch_at_ns=now)

    def _add_worker(self, launch_at_ns: int) -> Worker:
        worker = Worker(self.name, next(self._indexes), self._allocate_port(), launch_at_ns)
        self.workers.append(worker)
        return worker

    def set_desired(self, replicas: int) -> None:
        """Take a new desired count; pending workers and drains are scheduled at once."""
        self.desired = replicas
        self._plan()

    def _plan(self) -> None:
        """Bookkeeping half of a reconcile step: forget the dead, schedule adds and drains."""
        now = self._clock_ns()
        for worker in list(self.workers):
            process = worker.process
            if worker.state is WorkerState.STOPPING:
                if worker.stop_task is not None and worker.stop_task.done():
                    self.workers.remove(worker)
            elif process is not None and process.returncode is not None:
                log.warning("%s exited with %s; replacing it", worker.name, process.returncode)
                self._on_died(worker)
                self.workers.remove(worker)
                self.replacements += 1
                if worker.state is WorkerState.STARTING:
                    self._crash_backoff_ns = min(
                        max(2 * self._crash_backoff_ns, self._crash_backoff_first_ns),
                        self._crash_backoff_max_ns,
                    )

        active = self.active
        for _ in range(self.desired - len(active)):
            self._add_worker(launch_at_ns=now + self._readiness_delay_ns + self._crash_backoff_ns)
        if len(active) > self.desired:
            for worker in self._scale_in_order(active)[: len(active) - self.desired]:
                self._begin_stop(worker)

    async def reconcile(self) -> None:
        """One step towards `desired`; cheap enough to call a few times a second."""
        self._plan()
        now = self._clock_ns()
        for worker in self.active:
            if worker.state is WorkerState.PENDING and now >= worker.launch_at_ns:
                worker.process = self._launcher(self.name, worker.index, worker.system_port)
                await worker.process.start()
                worker.state = WorkerState.STARTING
                log.info("%s launched (pid %s)", worker.name, worker.process.pid)
        starting = [w for w in self.active if w.state is WorkerState.STARTING]
        if starting:
            ready = await asyncio.gather(*(self._probe(w.system_port) for w in starting))
            for worker, is_ready in zip(starting, ready, strict=True):
                if is_ready:
                    worker.state = WorkerState.READY
                    self._on_ready(worker)
                    self._crash_backoff_ns = 0
                    log.info("%s ready", worker.name)

    @staticmethod
    def _scale_in_order(active: list[Worker]) -> list[Worker]:
        # Give up what costs least first: not yet launched, then not yet serving, then the newest.
        rank = {WorkerState.PENDING: 0, WorkerState.STARTING: 1, WorkerState.READY: 2}
        return sorted(active, key=lambda w: (rank[w.state], -w.index))

    def _begin_stop(self, worker: Worker) -> None:
        if worker.process is None:
            self.workers.remove(worker)
            return
        worker.state = WorkerState.STOPPING
        worker.stop_task = asyncio.create_task(self._drain(worker), name=f"drain {worker.name}")

    async def _drain(self, worker: Worker) -> None:
        assert worker.process is not None
        # SIGTERM: the worker deregisters, the frontend stops routing to it, in-flight finishes.
        code = await worker.process.stop(self._drain_timeout_s)
        self.exit_codes.append((worker.name, code))
        log.info("%s stopped (exit %s)", worker.name, code)

    async def shutdown(self) -> None:
        """Stop every worker (SIGTERM, then SIGKILL after the drain timeout) and reap them."""
        self.desired = 0
        for worker in list(self.workers):
            if worker.state is not WorkerState.STOPPING:
                self._begin_stop(worker)
        tasks = [w.stop_task for w in self.workers if w.stop_task is not None]
        await asyncio.gather(*tasks, return_exceptions=True)
        self.workers.clear()

    def kill_worker(self, index: int) -> bool:
        """SIGKILL one worker (tests and rehearsals of a crash); the pool then replaces it."""
        for worker in self.workers:
            if worker.index == index and worker.process is not None:
                worker.process.signal(signal.SIGKILL)
                return True
        return False


class NodePools:
    """The pools of one node and the GPU slots they share (a worker holds one slot)."""

    def __init__(self, pools: dict[PoolName, WorkerPool], gpu_slots: int, where: str) -> None:
        self.pools = pools
        self.gpu_slots = gpu_slots
        self._where = where  # e.g. "ENV=dev", for messages

    @property
    def used_slots(self) -> int:
        # A slot is held from scheduling until the worker has drained, as with a real pod.
        return sum(len(pool.workers) for pool in self.pools.values())

    def set_initial(self, replicas: dict[PoolName, int]) -> None:
        if sum(replicas.values()) > self.gpu_slots:
            raise ScaleRequestError(
                f"initial pools exceed the {self.gpu_slots} GPU slots of {self._where}"
            )
        for name, count in replicas.items():
            self.pools[name].set_initial(count)

    def set_desired(self, pool: PoolName, replicas: int) -> None:
        """Refused when the desired counts of all pools would exceed the node's slots."""
        other = sum(p.desired for name, p in self.pools.items() if name != pool)
        total = self.gpu_slots
        if replicas + other > total:
            raise ScaleRequestError(
                f"{pool}={replicas} plus {other} other workers exceeds the {total} GPU slots "
                f"of {self._where} (at most {total - other} for {pool})"
            )
        self.pools[pool].set_desired(replicas)

    def workers(self) -> list[Worker]:
        return [w for pool in self.pools.values() for w in pool.workers]

    async def reconcile(self) -> None:
        for pool in self.pools.values():
            try:
                await pool.reconcile()
            except Exception:  # one failed launch must not stop the supervisor
                log.exception("reconciling %s failed; retrying", pool.name)

    async def shutdown(self) -> None:
        await asyncio.gather(*(pool.shutdown() for pool in self.pools.values()))
