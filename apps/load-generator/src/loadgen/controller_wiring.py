"""Composition of the scenario controller: its ports, the controller, and their tasks."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry

from loadgen.adapters.controller_metrics import ControllerMetrics
from loadgen.adapters.engine_load import EngineLoadDriver
from loadgen.adapters.keda_manifests import pool_rules
from loadgen.adapters.local_keda import KedaPauseState, LocalKeda
from loadgen.adapters.local_pools import LocalPoolsScaler
from loadgen.adapters.prometheus_query import PrometheusReader
from loadgen.adapters.state_store import FileStateStore
from loadgen.clock import Clock
from loadgen.controller.core import ScenarioController
from loadgen.controller.ports import AutoscalerView, ClusterScaler, PoolName, StateStore
from loadgen.demo_script.load import LoadConfig
from loadgen.demo_script.models import DemoScript
from loadgen.engine import Engine
from loadgen.settings import Settings


@dataclass
class ScenarioPorts:
    """The backend's scaler, what its autoscaler decided, and loops that must run beside."""

    scaler: ClusterScaler
    autoscaler: AutoscalerView | None = None
    background: Sequence[Callable[[], Awaitable[None]]] = field(default_factory=tuple)
    store: StateStore | None = None


# The ports need the runtime's clock (the local KEDA runs on demo time): a factory of them.
PortsFactory = Callable[[Clock], AbstractAsyncContextManager[ScenarioPorts]]


@asynccontextmanager
async def open_backend_ports(settings: Settings, clock: Clock) -> AsyncIterator[ScenarioPorts]:
    """The ports of `settings.backend`: local = the stack's pool API + the local KEDA on the
    kit's own ScaledObjects (k8s/keda, env overlay) + the local Prometheus; cluster = the
    scaling adapters and ScaledObjects through the Kubernetes API (KEDA itself runs there)."""
    names: dict[PoolName, str] = {
        "prefill": settings.prefill_scaledobject,
        "decode": settings.decode_scaledobject,
    }
    if settings.backend == "cluster":
        from kubernetes import client as k8s  # only the cluster backend needs it loaded

        from loadgen.adapters.kubernetes import KubernetesScaler, api_client, targets_from_settings

        api = api_client()
        try:
            targets = targets_from_settings(settings, settings.budget_gpus)
            yield ScenarioPorts(scaler=KubernetesScaler(k8s.CustomObjectsApi(api), targets))
        finally:
            api.close()
        return
    rules = pool_rules(settings.keda_dir, settings.env, names)
    pause = KedaPauseState()
    scaler = LocalPoolsScaler(settings.control_url, pause)
    reader = PrometheusReader(settings.prometheus_url)
    keda = LocalKeda(rules, scaler, reader, clock, pause)
    try:
        yield ScenarioPorts(scaler=scaler, autoscaler=keda, background=(keda.run,))
    finally:
        await scaler.aclose()
        await reader.aclose()


@asynccontextmanager
async def open_scenario(
    settings: Settings,
    script: DemoScript,
    engine: Engine,
    registry: CollectorRegistry,
    clock: Clock,
    ports: ScenarioPorts,
    on_apply: Callable[[LoadConfig], None] | None = None,
) -> AsyncIterator[ScenarioController]:
    """Run the controller (reconciled with its saved state) until the block ends."""
    controller = ScenarioController(
        script=script,
        scaler=ports.scaler,
        driver=EngineLoadDriver(engine, on_apply),
        clock=clock,
        store=ports.store or FileStateStore(settings.scenario_state_file),
        observer=ControllerMetrics(registry),
        autoscaler=ports.autoscaler,
        backend=settings.backend,
        speed=clock.speed,
        start_mode=settings.scenario_start,
    )
    async with asyncio.TaskGroup() as tg:
        tasks = [tg.create_task(controller.run())]
        tasks += [tg.create_task(_run(loop)) for loop in ports.background]
        reconciled = tg.create_task(controller.reconciled.wait())
        await asyncio.wait({tasks[0], reconciled}, return_when=asyncio.FIRST_COMPLETED)
        try:
            yield controller
        finally:
            for task in [*tasks, reconciled]:
                task.cancel()


async def _run(loop: Callable[[], Awaitable[None]]) -> None:
    await loop()
