"""GET /healthz and GET /metrics (open, no token)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from loadgen.api.deps import RuntimeDep
from loadgen.metrics.prometheus import CONTENT_TYPE

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz(runtime: RuntimeDep) -> dict[str, str]:
    return {"status": "ok", "state": runtime.engine.state}


@router.get("/metrics", response_class=Response)
async def metrics(runtime: RuntimeDep) -> Response:
    runtime.engine.snapshot()  # refresh the achieved-rate and client-health gauges
    return Response(runtime.metrics.render(), media_type=CONTENT_TYPE)
