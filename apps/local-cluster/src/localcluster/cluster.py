"""The embedded local stack: real Dynamo frontend + mocker pools + Prometheus + control API.

This module wires the pieces and owns their lifecycle: command lines in dynamo.py, the
Prometheus child in prometheus.py, the control server in control_server.py, the pools and
their GPU-slot budget in pools.py.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import shutil
import socket
import tempfile
import time
import uuid
from pathlib import Path
from types import TracebackType

import aiohttp

from demo_common.net import free_port
from localcluster import dynamo
from localcluster.control_api import (
    ClusterStatus,
    GpuSlots,
    PoolStatus,
    WorkerInfo,
    create_control_app,
)
from localcluster.control_server import ControlServer
from localcluster.discovery import forget_instances, listening_ports
from localcluster.errors import (
    MissingBinaryError,
    PortInUseError,
    ScaleRequestError,
    StartupError,
)
from localcluster.modeldir import write_model_dir
from localcluster.perfmodel import hardware_profile
from localcluster.pools import NodePools, Worker, WorkerPool, WorkerState
from localcluster.processes import ChildProcess
from localcluster.prometheus import PrometheusServer
from localcluster.settings import POOL_NAMES, LocalClusterSettings, PoolName, reachable

log = logging.getLogger(__name__)

# Where each port's override lives, for the one-line "port in use" message.
PORT_ENV_VARS = {
    "frontend": "DEMO_FRONTEND_PORT",
    "prometheus": "DEMO_PROMETHEUS_PORT",
    "control API": "DEMO_CONTROL_PORT",
}
_RECONCILE_PERIOD_S = 0.25


REVIVE_GAP_NS = 2_000_000_000


def check_port_free(host: str, port: int, what: str) -> None:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise
            raise PortInUseError(
                f"port {port} ({what}) is already in use: stop whatever holds it "
                f"(`ss -ltnp 'sport = :{port}'`) or set {PORT_ENV_VARS[what]} to another port"
            ) from None


class LocalCluster:
    """Start with `async with LocalCluster(settings) as cluster:`; everything stops on exit."""

    def __init__(self, settings: LocalClusterSettings) -> None:
        self.settings = settings
        self.profile = hardware_profile(settings.layout.profile)
        self.namespace = f"gtc-{uuid.uuid4().hex[:10]}"
        self._own_workdir = settings.workdir is None
        self.workdir = settings.workdir or Path(tempfile.mkdtemp(prefix="localcluster-"))
        self.discovery_dir = self.workdir / "discovery" / self.namespace
        self.node = NodePools({}, settings.layout.gpu_slots, f"ENV={settings.env}")
        self._frontend: ChildProcess | None = None
        # Times the frontend / Prometheus died and were started again (as a Deployment would).
        self.restarts: dict[str, int] = {"frontend": 0, "prometheus": 0}
        self._revived_ns: dict[str, int] = {}
        self._prometheus: PrometheusServer | None = None
        self._http: aiohttp.ClientSession | None = None
        self._control: ControlServer | None = None
        self._reconciler: asyncio.Task[None] | None = None
        self._started = False

    @property
    def pools(self) -> dict[PoolName, WorkerPool]:
        return self.node.pools

    # URLs --------------------------------------------------------------------------------
    def _url(self, port: int) -> str:
        return f"http://{self.settings.host}:{port}"

    @property
    def frontend_url(self) -> str:
        return self._url(self.settings.frontend_port)

    @property
    def prometheus_url(self) -> str:
        return self._url(self.settings.prometheus_port)

    @property
    def control_url(self) -> str:
        return f"http://{reachable(self.settings.control_host)}:{self.settings.control_port}"

    @property
    def model_name(self) -> str:
        return str(self.profile.model_name)

    @property
    def readiness_delay_s(self) -> float:
        """Wall seconds before a new worker launches: a real worker's start-to-ready time
        (the profile's) at the speed factor, unless overridden."""
        s = self.settings
        if s.readiness_delay_s is not None:
            return s.readiness_delay_s
        return s.scaled(float(self.profile.worker_start_s))

    # lifecycle ---------------------------------------------------------------------------
    async def __aenter__(self) -> LocalCluster:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        s = self.settings
        for what, port in (
            ("frontend", s.frontend_port),
            ("prometheus", s.prometheus_port),
            ("control API", s.control_port),
        ):
            host = s.control_host if what == "control API" else s.host
            check_port_free(host, port, what)
        prometheus_bin = shutil.which(s.prometheus_binary)
        if prometheus_bin is None:
            raise MissingBinaryError(
                f"'{s.prometheus_binary}' not found: install it with `make system-deps` "
                "(sudo apt-get install prometheus)"
            )
        self._started = True
        try:
            await self._start(prometheus_bin)
        except BaseException:
            await self.stop()
            raise

    async def _start(self, prometheus_bin: str) -> None:
        s = self.settings
        started_ns = time.monotonic_ns()
        artifacts = self.workdir / "artifacts"
        self._model_dir = write_model_dir(artifacts / "model", s.layout.model_size)
        self._npz = self.profile.write_npz(artifacts / f"{s.layout.profile}.npz")
        self.discovery_dir.mkdir(parents=True, exist_ok=True)
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2))

        self._frontend = ChildProcess(
            "frontend",
            dynamo.frontend_argv(s, self.profile, self.namespace),
            dynamo.dynamo_env(self.namespace, self.discovery_dir),
            self.workdir / "logs" / "frontend.log",
        )
        await self._frontend.start()

        delay_ns = int(self.readiness_delay_s * 1e9)
        for pool in POOL_NAMES:
            self.pools[pool] = WorkerPool(
                pool,
                launcher=self._worker_process,
                probe=self._worker_ready,
                allocate_port=self._unpromised_port,
                readiness_delay_ns=delay_ns,
                drain_timeout_s=s.drain_timeout_s,
                crash_backoff_ns=(int(s.scaled(1.0) * 1e9), int(s.scaled(60.0) * 1e9)),
                on_ready=self._remember_ports,
                on_died=self._forget_instances,
            )
        self.node.set_initial({p: s.initial_replicas(p) for p in POOL_NAMES})

        self._prometheus = PrometheusServer(prometheus_bin, s, self.workdir)
        await self._prometheus.start(self._scrape_targets())

        self._control = ControlServer(create_control_app(self), s.control_host, s.control_port)
        self._control.start()
        self._reconciler = asyncio.create_task(self._reconcile_forever(), name="reconcile")
        await self._wait_ready()
        log.info("local stack up in %.1f s", (time.monotonic_ns() - started_ns) / 1e9)

    async def stop(self) -> None:
        if not self._started:
            return
        self._started = False
        if self._reconciler is not None:
            self._reconciler.cancel()
            await asyncio.gather(self._reconciler, return_exceptions=True)
        if self._control is not None:
            await self._control.stop()
        await self.node.shutdown()
        if self._frontend is not None:
            await self._frontend.stop(self.settings.drain_timeout_s)
        if self._prometheus is not None:
            await self._prometheus.stop(self.settings.drain_timeout_s)
        if self._http is not None:
            await self._http.close()
        shutil.rmtree(self.discovery_dir, ignore_errors=True)
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    # processes ---------------------------------------------------------------------------
    def _worker_process(self, pool: PoolName, index: int, system_port: int) -> ChildProcess:
        argv = dynamo.worker_argv(
            self.settings,
            self.profile,
            pool=pool,
            namespace=self.namespace,
            model_dir=self._model_dir,
            npz=self._npz,
        )
        env = dynamo.worker_env(dynamo.dynamo_env(self.namespace, self.discovery_dir), system_port)
        log_path = self.workdir / "logs" / f"{pool}-{index}.log"
        return ChildProcess(f"{pool}-{index}", argv, env, log_path)

    async def _worker_ready(self, port: int) -> bool:
        assert self._http is not None
        try:
            async with self._http.get(f"http://{self.settings.host}:{port}/health") as resp:
                body = await resp.json(content_type=None)
                return resp.status == 200 and body.get("status") == "ready"
        except (aiohttp.ClientError, TimeoutError, ValueError):
            return False

    @staticmethod
    def _remember_ports(worker: Worker) -> None:
        pid = worker.process.pid if worker.process is not None else None
        worker.listen_ports = listening_ports(pid) if pid is not None else frozenset()

    def _forget_instances(self, worker: Worker) -> None:
        removed = forget_instances(self.discovery_dir, worker.listen_ports)
        if removed:
            log.info("%s died: removed its discovery records %s", worker.name, removed)

    def _unpromised_port(self) -> int:
        """A free port no worker holds: a pending worker binds its port only when it launches,
        after the readiness delay, so "free right now" alone could hand it out twice."""
        s = self.settings
        promised = {w.system_port for w in self.node.workers()}
        promised |= {s.frontend_port, s.prometheus_port, s.control_port}
        return free_port(s.host, exclude=promised)

    def _scrape_targets(self) -> list[tuple[str, str, str]]:
        return [
            (f"{self.settings.host}:{w.system_port}", w.pool, w.name)
            for w in self.node.workers()
            if w.process is not None
        ]

    async def _revive(self, child: ChildProcess | None) -> None:
        """Start a dead frontend or Prometheus again, at most once per REVIVE_GAP_NS."""
        if child is None or child.returncode is None:
            return
        now = time.monotonic_ns()
        if now - self._revived_ns.get(child.name, 0) < REVIVE_GAP_NS:
            return
        self._revived_ns[child.name] = now
        self.restarts[child.name] += 1
        log.warning("%s exited with %s; starting it again", child.name, child.returncode)
        await child.start()

    async def _reconcile_forever(self) -> None:
        while True:
            prometheus = self._prometheus.child if self._prometheus else None
            for child in (self._frontend, prometheus):
                try:
                    await self._revive(child)
                except OSError:
                    log.exception("restarting %s failed; retrying", child and child.name)
            await self.node.reconcile()
            if self._prometheus is not None:
                self._prometheus.set_workers(self._scrape_targets())
            await asyncio.sleep(_RECONCILE_PERIOD_S)

    async def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.settings.startup_timeout_s
        wanted = {p: self.settings.initial_replicas(p) for p in POOL_NAMES}
        prometheus = self._prometheus.child if self._prometheus else None
        while time.monotonic() < deadline:
            for child in (self._frontend, prometheus):
                if child is not None and child.returncode is not None:
                    raise StartupError(
                        f"{child.name} exited with {child.returncode} at start; its log "
                        f"({child.log_path}) ends with:\n{child.tail()}"
                    )
            if await self._serving(wanted):
                return
            await asyncio.sleep(0.2)
        raise StartupError(
            f"local stack not ready after {self.settings.startup_timeout_s:.0f} s; "
            f"logs in {self.workdir / 'logs'}"
        )

    async def _serving(self, wanted: dict[PoolName, int]) -> bool:
        assert self._http is not None
        if any(self.pools[p].count(WorkerState.READY) < n for p, n in wanted.items()):
            return False
        try:
            async with self._http.get(f"{self.frontend_url}/v1/models") as resp:
                models = (await resp.json()).get("data", []) if resp.status == 200 else []
            async with self._http.get(f"{self.prometheus_url}/-/ready") as resp:
                prometheus_ready = resp.status == 200
        except (aiohttp.ClientError, TimeoutError, ValueError):
            return False
        return prometheus_ready and any(m.get("id") == self.model_name for m in models)

    # PoolController ----------------------------------------------------------------------
    def status(self) -> ClusterStatus:
        pools = {
            name: PoolStatus(
                desired=pool.desired,
                pending=pool.count(WorkerState.PENDING),
                starting=pool.count(WorkerState.STARTING),
                ready=pool.count(WorkerState.READY),
                stopping=pool.count(WorkerState.STOPPING),
                replacements=pool.replacements,
            )
            for name, pool in self.pools.items()
        }
        total, used = self.node.gpu_slots, self.node.used_slots
        return ClusterStatus(
            pools=pools, gpu_slots=GpuSlots(total=total, used=used, free=max(0, total - used))
        )

    def workers(self) -> list[WorkerInfo]:
        return [
            WorkerInfo(
                name=w.name, pool=w.pool, index=w.index, state=w.state.value,
                pid=w.process.pid if w.process else None, system_port=w.system_port,
            )
            for w in self.node.workers()
        ]  # fmt: skip

    def scale(self, pool: PoolName, replicas: int) -> ClusterStatus:
        if self.settings.serving == "aggregated" and pool == "prefill" and replicas > 0:
            raise ScaleRequestError(
                "the aggregated layout has no prefill pool: its workers are the decode pool"
            )
        self.node.set_desired(pool, replicas)
        return self.status()

    def kill_worker(self, pool: PoolName, index: int) -> bool:
        return self.pools[pool].kill_worker(index)
