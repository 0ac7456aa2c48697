"""HTTP control API of the local stack: the stand-in for the DGDSA scale subresource."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Protocol

from fastapi import FastAPI, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from localcluster.errors import ScaleRequestError
from localcluster.settings import PoolName


class PoolStatus(BaseModel):
    desired: int
    pending: int = Field(description="Scheduled, waiting out the readiness delay")
    starting: int = Field(description="Process launched, not yet healthy")
    ready: int
    stopping: int
    replacements: int = Field(description="Workers that died and were replaced")


class GpuSlots(BaseModel):
    total: int
    used: int
    free: int


class ClusterStatus(BaseModel):
    pools: dict[PoolName, PoolStatus]
    gpu_slots: GpuSlots


class WorkerInfo(BaseModel):
    name: str
    pool: PoolName
    index: int
    state: str
    pid: int | None
    system_port: int


class ScaleRequest(BaseModel):
    # NaN/Infinity parse as JSON numbers in Python: numeric inputs must be finite.
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    replicas: StrictInt = Field(ge=0, description="Desired number of workers in the pool")


class PoolController(Protocol):
    """What the API needs of the cluster."""

    def status(self) -> ClusterStatus: ...

    def workers(self) -> list[WorkerInfo]: ...

    def scale(self, pool: PoolName, replicas: int) -> ClusterStatus: ...

    def kill_worker(self, pool: PoolName, index: int) -> bool: ...


def _one_line(exc: RequestValidationError) -> tuple[str, str]:
    first = exc.errors()[0]
    location = [str(part) for part in first.get("loc", ()) if part not in ("body", "path")]
    field = ".".join(location) or "body"
    return field, f"{field}: {first.get('msg', 'invalid')}"


class _PoolCollector(Collector):
    def __init__(self, controller: PoolController) -> None:
        self._controller = controller

    def collect(self) -> Iterator[Metric]:
        status = self._controller.status()
        replicas = GaugeMetricFamily(
            "localcluster_pool_replicas", "Workers per pool and state", labels=["pool", "state"]
        )
        replaced = CounterMetricFamily(
            "localcluster_worker_replacements",
            "Workers that died and were replaced",
            labels=["pool"],
        )
        for pool, s in status.pools.items():
            for state in ("desired", "pending", "starting", "ready", "stopping"):
                replicas.add_metric([pool, state], getattr(s, state))
            replaced.add_metric([pool], s.replacements)
        slots = GaugeMetricFamily("localcluster_gpu_slots", "GPU slots", labels=["state"])
        slots.add_metric(["total"], status.gpu_slots.total)
        slots.add_metric(["used"], status.gpu_slots.used)
        yield from (replicas, replaced, slots)


def create_control_app(controller: PoolController) -> FastAPI:
    app = FastAPI(title="Local cluster control API", version="1")
    registry = CollectorRegistry()
    registry.register(_PoolCollector(controller))

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        field, message = _one_line(exc)
        return JSONResponse(status_code=422, content={"detail": message, "field": field})

    @app.exception_handler(ScaleRequestError)
    async def _refused(_: Request, exc: ScaleRequestError) -> JSONResponse:
        return JSONResponse(status_code=422, content={"detail": str(exc), "field": "replicas"})

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/pools")
    async def get_pools() -> ClusterStatus:
        return controller.status()

    @app.put("/pools/{pool}")
    async def put_pool(pool: Annotated[PoolName, Path()], body: ScaleRequest) -> ClusterStatus:
        return controller.scale(pool, body.replicas)

    @app.get("/workers")
    async def get_workers() -> list[WorkerInfo]:
        return controller.workers()

    @app.post("/workers/{pool}/{index}/kill", status_code=202)
    async def kill_worker(pool: Annotated[PoolName, Path()], index: int) -> dict[str, str]:
        """SIGKILL one worker to rehearse a crash; the pool replaces it."""
        if not controller.kill_worker(pool, index):
            return JSONResponse(  # type: ignore[return-value]
                status_code=404, content={"detail": f"no running worker {pool}-{index}"}
            )
        return {"status": "killed"}

    @app.get("/metrics")
    async def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return app
