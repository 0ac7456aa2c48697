"""Dependencies of the routes: the runtime, and the presenter-token check for mutating routes."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from loadgen.runtime import Runtime

_bearer = HTTPBearer(auto_error=False, description="the presenter token")


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def require_presenter(
    runtime: RuntimeDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """401 unless `Authorization: Bearer <presenter token>` is sent."""
    given = credentials.credentials if credentials is not None else ""
    if not secrets.compare_digest(given.encode(), runtime.presenter_token.encode()):
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="presenter token missing or wrong (send Authorization: Bearer <token>)",
            headers={"WWW-Authenticate": "Bearer"},
        )


PresenterOnly = [Depends(require_presenter)]
