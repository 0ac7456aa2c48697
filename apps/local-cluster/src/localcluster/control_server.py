"""The pool control API served by uvicorn on the stack's own event loop."""

from __future__ import annotations

import asyncio

import uvicorn
from fastapi import FastAPI


class ControlServer:
    """`start()` serves in a background task; `stop()` asks uvicorn to exit and waits."""

    def __init__(self, app: FastAPI, host: str, port: int) -> None:
        self._server = uvicorn.Server(
            uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off")
        )
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._server.serve(), name="control-api")

    async def stop(self) -> None:
        if self._task is None:
            return
        self._server.should_exit = True
        await asyncio.gather(self._task, return_exceptions=True)
        self._task = None
