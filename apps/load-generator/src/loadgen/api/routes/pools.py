"""GET /api/pools and PUT /api/pools/{prefill|decode} (manual mode only; presenter token)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, status

from loadgen.api.deps import ControllerDep, require_presenter
from loadgen.controller.ports import PoolName
from loadgen.controller.state import PoolsState, ScaleBody
from loadgen.errors import ScaleGuardError, ScaleRejected, ScalerError, ScenarioModeError

router = APIRouter(prefix="/api/pools", tags=["pools"])


@router.get("", responses={503: {"description": "the cluster did not answer"}})
async def get_pools(controller: ControllerDep) -> PoolsState:
    try:
        return await controller.pools()
    except ScalerError as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc)) from None


@router.put(
    "/{pool}",
    dependencies=[Depends(require_presenter)],
    responses={409: {"description": "not in manual mode, or over the GPU budget"}},
)
async def put_pool(pool: PoolName, body: ScaleBody, controller: ControllerDep) -> PoolsState:
    """Presenter override of one pool's replicas (KEDA may change it again later)."""
    try:
        return await controller.scale_pool(pool, body.replicas)
    except (ScenarioModeError, ScaleGuardError, ScaleRejected) as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    except ScalerError as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc)) from None
