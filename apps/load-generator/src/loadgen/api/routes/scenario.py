"""GET /api/scenario and POST /api/scenario/{auto|manual|stop} (presenter token required)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, status

from loadgen.api.deps import ControllerDep, require_presenter
from loadgen.controller.state import ScenarioState
from loadgen.errors import ScalerError, ScenarioModeError

router = APIRouter(prefix="/api/scenario", tags=["scenario"])
_presenter = [Depends(require_presenter)]
_conflict: dict[int | str, dict[str, Any]] = {
    409: {"description": "the mode forbids it"},
    503: {"description": "no cluster"},
}


@router.get("")
async def get_scenario(controller: ControllerDep) -> ScenarioState:
    """Mode, phase and time left, next scaling action, pool activity, KEDA, timeline."""
    return controller.state()


@router.post("/auto", dependencies=_presenter, responses=_conflict)
async def auto(controller: ControllerDep) -> ScenarioState:
    """Pause KEDA and play the demo script in a loop."""
    try:
        return await controller.set_auto()
    except ScenarioModeError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    except ScalerError as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, f"KEDA pause: {exc}") from None


@router.post("/manual", dependencies=_presenter)
async def manual(controller: ControllerDep) -> ScenarioState:
    """Resume KEDA; the presenter sets rates and may override pool sizes."""
    return await controller.set_manual()


@router.post("/stop", dependencies=_presenter)
async def stop(controller: ControllerDep) -> ScenarioState:
    """End arrivals and resume KEDA."""
    return await controller.stop()
