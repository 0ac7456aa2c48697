"""Pool reconciliation: readiness delay, scale-in order, replacement of dead workers."""

from __future__ import annotations

import asyncio
import itertools
import signal

from localcluster.pools import WorkerPool, WorkerState
from localcluster.settings import PoolName


class FakeProcess:
    """Stands in for a worker process: the pool's port, no OS process (unit test)."""

    pids = itertools.count(1000)

    def __init__(self) -> None:
        self._pid = next(self.pids)
        self._returncode: int | None = None
        self.started = False
        self.signals: list[int] = []

    @property
    def pid(self) -> int | None:
        return self._pid

    @property
    def returncode(self) -> int | None:
        return self._returncode

    async def start(self) -> None:
        self.started = True

    def signal(self, signum: int) -> None:
        self.signals.append(signum)
        if signum == signal.SIGKILL:
            self._returncode = -9

    async def stop(self, grace_s: float) -> int | None:
        self.signals.append(signal.SIGTERM)
        self._returncode = 0
        return 0


class Harness:
    def __init__(self, delay_ns: int = 100) -> None:
        self.now_ns = 0
        self.hooks: list[tuple[str, str]] = []
        self.ready_ports: set[int] = set()
        self.launched: list[tuple[PoolName, int]] = []
        ports = itertools.count(20000)
        self.pool = WorkerPool(
            "decode",
            launcher=self.launch,
            probe=self.probe,
            allocate_port=lambda: next(ports),
            readiness_delay_ns=delay_ns,
            drain_timeout_s=1.0,
            clock_ns=lambda: self.now_ns,
            on_ready=lambda w: self.hooks.append(("ready", w.name)),
            on_died=lambda w: self.hooks.append(("died", w.name)),
        )

    def launch(self, pool: PoolName, index: int, port: int) -> FakeProcess:
        self.launched.append((pool, index))
        return FakeProcess()

    async def probe(self, port: int) -> bool:
        return port in self.ready_ports

    def mark_all_ready(self) -> None:
        self.ready_ports |= {w.system_port for w in self.pool.workers}


async def test_initial_workers_launch_at_once_and_become_ready() -> None:
    h = Harness()
    h.pool.set_initial(2)
    await h.pool.reconcile()
    assert h.pool.count(WorkerState.STARTING) == 2
    h.mark_all_ready()
    await h.pool.reconcile()
    assert h.pool.count(WorkerState.READY) == 2


async def test_scale_out_waits_out_the_readiness_delay() -> None:
    h = Harness(delay_ns=100)
    h.pool.set_initial(1)
    await h.pool.reconcile()
    h.pool.set_desired(2)
    assert h.pool.count(WorkerState.PENDING) == 1  # holds a slot before launching
    h.now_ns = 99
    await h.pool.reconcile()
    assert len(h.launched) == 1
    h.now_ns = 100
    await h.pool.reconcile()
    assert len(h.launched) == 2
    assert h.pool.count(WorkerState.STARTING) == 2


async def test_scale_in_gives_up_pending_then_starting_then_newest_ready() -> None:
    h = Harness(delay_ns=1_000)
    h.pool.set_initial(3)
    await h.pool.reconcile()
    h.ready_ports = {h.pool.workers[0].system_port, h.pool.workers[1].system_port}
    await h.pool.reconcile()  # workers 0,1 ready; 2 starting
    h.pool.set_desired(4)  # worker 3 pending
    h.pool.set_desired(1)
    states = {w.index: w.state for w in h.pool.workers}
    assert 3 not in states  # the pending one is simply dropped
    assert states[2] is WorkerState.STOPPING
    assert states[1] is WorkerState.STOPPING
    assert states[0] is WorkerState.READY
    await asyncio.gather(*(w.stop_task for w in h.pool.workers if w.stop_task is not None))
    await h.pool.reconcile()
    assert [w.index for w in h.pool.workers] == [0]


async def test_a_dead_worker_is_replaced_after_the_delay() -> None:
    h = Harness(delay_ns=50)
    h.pool.set_initial(1)
    await h.pool.reconcile()
    h.mark_all_ready()
    await h.pool.reconcile()
    assert h.pool.kill_worker(0)
    await h.pool.reconcile()
    assert h.pool.replacements == 1
    # Told once each: ready (its ports are taken), then died (its discovery records go).
    assert h.hooks == [("ready", "decode-0"), ("died", "decode-0")]
    assert [w.state for w in h.pool.workers] == [WorkerState.PENDING]
    h.now_ns = 50
    await h.pool.reconcile()
    assert h.launched[-1] == ("decode", 1)


async def test_shutdown_stops_everything() -> None:
    h = Harness()
    h.pool.set_initial(2)
    await h.pool.reconcile()
    processes = [w.process for w in h.pool.workers]
    await h.pool.shutdown()
    assert h.pool.workers == []
    assert all(p is not None and p.returncode == 0 for p in processes)


async def test_a_worker_crashing_at_start_backs_off_until_one_gets_ready() -> None:
    h = Harness(delay_ns=100)
    h.pool = WorkerPool(
        "prefill",
        launcher=h.launch,
        probe=h.probe,
        allocate_port=lambda: 20000 + len(h.launched),
        readiness_delay_ns=100,
        drain_timeout_s=1.0,
        crash_backoff_ns=(1_000, 3_000),
        clock_ns=lambda: h.now_ns,
    )
    h.pool.set_initial(1)
    launch_delays = []
    for _ in range(4):  # crash while starting, four times in a row
        await h.pool.reconcile()
        (worker,) = h.pool.workers
        assert worker.process is not None
        worker.process.signal(signal.SIGKILL)
        await h.pool.reconcile()
        (replacement,) = h.pool.workers
        launch_delays.append(replacement.launch_at_ns - h.now_ns)
        h.now_ns = replacement.launch_at_ns
    assert launch_delays == [100 + 1_000, 100 + 2_000, 100 + 3_000, 100 + 3_000]

    await h.pool.reconcile()
    h.mark_all_ready()
    await h.pool.reconcile()  # ready: the back-off is forgotten
    assert h.pool.kill_worker(h.pool.workers[0].index)
    await h.pool.reconcile()
    (replacement,) = h.pool.workers
    assert replacement.launch_at_ns - h.now_ns == 100  # a crash after serving: no back-off
