"""The embedded local stack: real Dynamo frontend + mocker pools + Prometheus + control API."""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import shutil
import socket
import sys
import tempfile
import time
import uuid
from pathlib import Path
from types import TracebackType

import aiohttp
import uvicorn

from demo_common.net import free_port
from localcluster.control_api import (
    ClusterStatus,
    GpuSlots,
    PoolStatus,
    WorkerInfo,
    create_control_app,
)
from localcluster.errors import (
    MissingBinaryError,
    PortInUseError,
    ScaleRequestError,
    StartupError,
)
from localcluster.modeldir import write_model_dir
from localcluster.perfmodel import Role, hardware_profile
from localcluster.pools import WorkerPool, WorkerState
from localcluster.processes import ChildProcess
from localcluster.prometheus import (
    prometheus_config,
    write_prometheus_config,
    write_worker_targets,
)
from localcluster.settings import POOL_NAMES, LocalClusterSettings, PoolName

log = logging.getLogger(__name__)

# Where each port's override lives, for the one-line "port in use" message.
PORT_ENV_VARS = {
    "frontend": "DEMO_FRONTEND_PORT",
    "prometheus": "DEMO_PROMETHEUS_PORT",
    "control API": "DEMO_CONTROL_PORT",
}
_RECONCILE_PERIOD_S = 0.25
# Dynamo component that serves each pool (the frontend discovers decode workers as `backend`).
_COMPONENT: dict[PoolName, str] = {"prefill": "prefill", "decode": "backend"}


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
        self.pools: dict[PoolName, WorkerPool] = {}
        self._frontend: ChildProcess | None = None
        self._prometheus: ChildProcess | None = None
        self._http: aiohttp.ClientSession | None = None
        self._api_server: uvicorn.Server | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._started = False

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
        return self._url(self.settings.control_port)

    @property
    def model_name(self) -> str:
        return str(self.profile.model_name)

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
            check_port_free(s.host, port, what)
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
        model_dir = write_model_dir(artifacts / "model", s.layout.model_size)
        self._npz = self.profile.write_npz(artifacts / f"{s.layout.profile}.npz")
        self._model_dir = model_dir
        self.discovery_dir.mkdir(parents=True, exist_ok=True)
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2))

        self._frontend = ChildProcess(
            "frontend",
            self._frontend_argv(),
            self._dynamo_env(),
            self.workdir / "logs" / "frontend.log",
        )
        await self._frontend.start()

        start_s = s.readiness_delay_s
        if start_s is None:  # a real worker's start-to-ready time, at the speed factor
            start_s = s.scaled(float(self.profile.worker_start_s))
        delay_ns = int(start_s * 1e9)
        for pool in POOL_NAMES:
            self.pools[pool] = WorkerPool(
                pool,
                launcher=self._worker_process,
                probe=self._worker_ready,
                allocate_port=lambda: free_port(s.host),
                readiness_delay_ns=delay_ns,
                drain_timeout_s=s.drain_timeout_s,
                crash_backoff_ns=(int(s.scaled(1.0) * 1e9), int(s.scaled(60.0) * 1e9)),
            )
            self.pools[pool].set_initial(s.initial_replicas(pool))
        if sum(s.initial_replicas(p) for p in POOL_NAMES) > s.layout.gpu_slots:
            raise ScaleRequestError(
                f"initial pools exceed the {s.layout.gpu_slots} GPU slots of ENV={s.env}"
            )

        targets_dir = self.workdir / "prometheus"
        targets_dir.mkdir(parents=True, exist_ok=True)
        self._targets_dir = targets_dir
        self._write_targets()
        config = write_prometheus_config(
            targets_dir / "prometheus.yml",
            prometheus_config(
                frontend=f"{s.host}:{s.frontend_port}",
                control_api=f"{s.host}:{s.control_port}",
                extra_targets=s.extra_scrape_targets,
                targets_dir=targets_dir,
                scrape_interval_s=s.scrape_interval_s,
            ),
        )
        self._prometheus = ChildProcess(
            "prometheus",
            [
                prometheus_bin,
                f"--config.file={config}",
                f"--storage.tsdb.path={targets_dir / 'data'}",
                f"--web.listen-address={s.host}:{s.prometheus_port}",
                "--storage.tsdb.retention.time=2d",
            ],
            dict(os.environ),
            self.workdir / "logs" / "prometheus.log",
        )
        await self._prometheus.start()

        self._api_server = uvicorn.Server(
            uvicorn.Config(
                create_control_app(self),
                host=s.host,
                port=s.control_port,
                log_level="warning",
                lifespan="off",
            )
        )
        self._tasks.append(asyncio.create_task(self._api_server.serve(), name="control-api"))
        self._tasks.append(asyncio.create_task(self._reconcile_forever(), name="reconcile"))
        await self._wait_ready()
        log.info("local stack up in %.1f s", (time.monotonic_ns() - started_ns) / 1e9)

    async def stop(self) -> None:
        if not self._started:
            return
        self._started = False
        if self._api_server is not None:
            self._api_server.should_exit = True
        for task in self._tasks:
            if task.get_name() == "reconcile":
                task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        await asyncio.gather(*(pool.shutdown() for pool in self.pools.values()))
        for child in (self._frontend, self._prometheus):
            if child is not None:
                await child.stop(self.settings.drain_timeout_s)
        if self._http is not None:
            await self._http.close()
        shutil.rmtree(self.discovery_dir, ignore_errors=True)
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    # processes ---------------------------------------------------------------------------
    def _dynamo_env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            DYN_FILE_KV=str(self.discovery_dir),
            DYN_EVENT_PLANE="zmq",
            DYN_NAMESPACE=self.namespace,
            DYN_LOG=env.get("DYN_LOG", "warn"),
        )
        return env

    @staticmethod
    def _planes() -> list[str]:
        return ["--discovery-backend", "file", "--request-plane", "tcp", "--event-plane", "zmq"]

    def _frontend_argv(self) -> list[str]:
        s = self.settings
        return [
            sys.executable, "-m", "dynamo.frontend",
            "--http-host", s.host, "--http-port", str(s.frontend_port),
            "--router-mode", "kv", "--kv-cache-block-size", str(self.profile.block_size),
            "--namespace", self.namespace, "--migration-limit", str(s.migration_limit),
            *self._planes(),
        ]  # fmt: skip

    def _worker_process(self, pool: PoolName, index: int, system_port: int) -> ChildProcess:
        role: Role = "aggregated" if self.settings.serving == "aggregated" else pool
        argv = [
            sys.executable, "-m", "dynamo.mocker",
            "--model-path", str(self._model_dir), "--model-name", self.model_name,
            "--endpoint", f"dyn://{self.namespace}.{_COMPONENT[pool]}.generate",
            "--disaggregation-mode", "agg" if role == "aggregated" else pool,
            "--speedup-ratio", str(self.settings.speed),
            *self.profile.mocker_args(self._npz, self.settings.speed, role),
            *self._planes(),
        ]  # fmt: skip
        env = self._dynamo_env()
        env.update(
            DYN_SYSTEM_PORT=str(system_port),
            DYN_SYSTEM_ENABLED="true",
            DYN_SYSTEM_USE_ENDPOINT_HEALTH_STATUS='["generate"]',
        )
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

    def _write_targets(self) -> None:
        write_worker_targets(
            self._targets_dir,
            (
                (f"{self.settings.host}:{w.system_port}", pool.name, w.name)
                for pool in self.pools.values()
                for w in pool.workers
                if w.process is not None
            ),
        )

    async def _reconcile_forever(self) -> None:
        while True:
            before = self._target_set()
            for pool in self.pools.values():
                try:
                    await pool.reconcile()
                except Exception:  # one failed launch must not stop the supervisor
                    log.exception("reconciling %s failed; retrying", pool.name)
            if self._target_set() != before:
                self._write_targets()
            await asyncio.sleep(_RECONCILE_PERIOD_S)

    def _target_set(self) -> frozenset[str]:
        return frozenset(
            w.name for p in self.pools.values() for w in p.workers if w.process is not None
        )

    async def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.settings.startup_timeout_s
        wanted = {p: self.settings.initial_replicas(p) for p in POOL_NAMES}
        while time.monotonic() < deadline:
            for child in (self._frontend, self._prometheus):
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
        total = self.settings.layout.gpu_slots
        # A slot is held from scheduling until the worker has drained, as with a real pod.
        used = sum(len(pool.workers) for pool in self.pools.values())
        return ClusterStatus(
            pools=pools, gpu_slots=GpuSlots(total=total, used=used, free=max(0, total - used))
        )

    def workers(self) -> list[WorkerInfo]:
        return [
            WorkerInfo(
                name=w.name, pool=w.pool, index=w.index, state=w.state.value,
                pid=w.process.pid if w.process else None, system_port=w.system_port,
            )
            for pool in self.pools.values()
            for w in pool.workers
        ]  # fmt: skip

    def scale(self, pool: PoolName, replicas: int) -> ClusterStatus:
        if self.settings.serving == "aggregated" and pool == "prefill" and replicas > 0:
            raise ScaleRequestError(
                "the aggregated layout has no prefill pool: its workers are the decode pool"
            )
        other = sum(p.desired for name, p in self.pools.items() if name != pool)
        total = self.settings.layout.gpu_slots
        if replicas + other > total:
            raise ScaleRequestError(
                f"{pool}={replicas} plus {other} other workers exceeds the {total} GPU slots "
                f"of ENV={self.settings.env} (at most {total - other} for {pool})"
            )
        self.pools[pool].set_desired(replicas)
        return self.status()

    def kill_worker(self, pool: PoolName, index: int) -> bool:
        return self.pools[pool].kill_worker(index)
