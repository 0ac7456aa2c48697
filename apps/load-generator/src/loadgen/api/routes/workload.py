"""POST /api/workload/start|stop and PUT /api/workload/config (presenter token required)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status
from pydantic import ValidationError

from loadgen.api.deps import NotInAuto, PresenterOnly, RuntimeDep
from loadgen.api.schemas import ConfigResponse, StateResponse, StopResponse
from loadgen.demo_script.load import LoadConfigUpdate
from loadgen.errors import EngineStateError

# In auto mode the demo script owns the load: 409 (after the token check).
router = APIRouter(
    prefix="/api/workload", tags=["workload"], dependencies=[*PresenterOnly, *NotInAuto]
)


@router.post("/start", responses={409: {"description": "already running"}})
async def start(runtime: RuntimeDep) -> StateResponse:
    try:
        await runtime.engine.start()
    except EngineStateError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    return StateResponse(state=runtime.engine.state)


@router.post("/stop", responses={409: {"description": "not running"}})
async def stop(runtime: RuntimeDep) -> StopResponse:
    try:
        summary = await runtime.engine.stop()
    except EngineStateError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    return StopResponse(state=runtime.engine.state, summary=summary)


@router.put("/config")
async def update_config(update: LoadConfigUpdate, runtime: RuntimeDep) -> ConfigResponse:
    """Change any of rps, mix (some weights) and max_in_flight, live."""
    try:
        config = runtime.engine.config.apply(update)
    except ValidationError as exc:
        # The merged config is invalid (e.g. every mix weight now 0): same shape as FastAPI's.
        errors = [
            {"loc": ["body", *map(str, e["loc"])], "msg": e["msg"], "type": e["type"]}
            for e in exc.errors()
        ]
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, errors) from None
    runtime.engine.configure(config)
    runtime.active_preset = None
    return ConfigResponse(config=config, active_preset=None)
