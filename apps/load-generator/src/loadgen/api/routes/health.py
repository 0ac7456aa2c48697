"""GET /healthz and GET /metrics (open, no token)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Response

from loadgen.api.deps import RuntimeDep
from loadgen.metrics.prometheus import CONTENT_TYPE

router = APIRouter(tags=["health"])


@router.get("/healthz", responses={503: {"description": "the app's runtime has ended"}})
async def healthz(runtime: RuntimeDep, response: Response) -> dict[str, str]:
    # The runtime (engine, controller) ends only at shutdown or when one of its tasks failed;
    # the HTTP server outlives it, so say so: the liveness probe then restarts the pod.
    if runtime.shutdown.is_set():
        response.status_code = 503
        return {"status": "runtime ended", "state": runtime.engine.state}
    return {"status": "ok", "state": runtime.engine.state}


@router.get("/metrics", response_class=Response)
async def metrics(runtime: RuntimeDep) -> Response:
    runtime.engine.snapshot()  # refresh the achieved-rate and client-health gauges
    runtime.metrics.asyncio_tasks.set(len(asyncio.all_tasks()))
    return Response(runtime.metrics.render(), media_type=CONTENT_TYPE)
