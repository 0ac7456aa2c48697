"""GET /api/scenario, POST /api/scenario/{auto|manual|stop} and PUT /api/scenario/audience
(the presenter token is required for every change)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, status

from loadgen.api.deps import ControllerDep, require_presenter
from loadgen.controller.state import AudienceBody, ScenarioState
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


@router.put("/audience", dependencies=_presenter)
async def audience(body: AudienceBody, controller: ControllerDep) -> ScenarioState:
    """What the audience screen shows: `comparison` (the "why disaggregation" panel) or `live`.

    The presenter's `comparison` holds in every mode until set back to `live`; auto phases
    with `show: comparison` show it too.
    """
    return controller.show_audience(body.show)
