"""The UI build served at `/`: static files, and index.html for the UI's own paths (/audience)."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

# Paths that are never UI routes: a miss there stays a 404 instead of returning the page.
_NOT_UI = ("api/", "metrics", "healthz", "assets/")


class UiFiles(StaticFiles):
    """StaticFiles(html=True) that answers an unknown extension-less path with index.html,
    so the single-page app can be opened (or reloaded) at any of its routes."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        try:
            return await super().get_response(path, scope)
        except HTTPException as exc:
            last = path.rsplit("/", 1)[-1]
            if exc.status_code != 404 or path.startswith(_NOT_UI) or "." in last:
                raise
            return await super().get_response("index.html", scope)
