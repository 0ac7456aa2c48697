"""Dependencies of the routes: the runtime, and the presenter-token check for mutating routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from loadgen.api.presenter_guard import PresenterGuard
from loadgen.controller.core import ScenarioController
from loadgen.runtime import Runtime

_bearer = HTTPBearer(auto_error=False, description="the presenter token")


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def require_presenter(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """401 unless `Authorization: Bearer <presenter token>` is sent; 429 after too many misses."""
    guard: PresenterGuard = request.app.state.presenter_guard
    client = request.client.host if request.client is not None else "unknown"
    retry_after = guard.retry_after_s(client)
    if retry_after is not None:
        raise HTTPException(
            status_code=status.HTTP_429_TOO_MANY_REQUESTS,
            detail=f"too many wrong presenter tokens from {client}; retry in {retry_after} s",
            headers={"Retry-After": str(retry_after)},
        )
    if not guard.check(client, credentials.credentials if credentials is not None else None):
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="presenter token missing or wrong (send Authorization: Bearer <token>)",
            headers={"WWW-Authenticate": "Bearer"},
        )


PresenterOnly = [Depends(require_presenter)]


def get_controller(runtime: RuntimeDep) -> ScenarioController:
    if runtime.scenario is None:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, "no scenario controller: no cluster backend wired"
        )
    return runtime.scenario


ControllerDep = Annotated[ScenarioController, Depends(get_controller)]


def not_in_auto(runtime: RuntimeDep) -> None:
    """409 while the demo script drives the load (auto mode): the presenter switches first."""
    if runtime.scenario is not None and runtime.scenario.mode == "auto":
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            "auto mode: the demo script drives the load; switch to manual mode first",
        )


NotInAuto = [Depends(not_in_auto)]
