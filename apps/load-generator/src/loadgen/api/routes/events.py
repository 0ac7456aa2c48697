"""GET /api/events: the live aggregates as Server-Sent Events, one `snapshot` event a second."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from loadgen.api.deps import RuntimeDep
from loadgen.metrics.snapshot import LiveSnapshot
from loadgen.runtime import Runtime

router = APIRouter(prefix="/api", tags=["events"])
KEEPALIVE_S = 10.0


def _event(snapshot: LiveSnapshot) -> bytes:
    return b"event: snapshot\ndata: " + snapshot.model_dump_json().encode() + b"\n\n"


async def _stream(runtime: Runtime) -> AsyncIterator[bytes]:
    engine = runtime.engine
    async with engine.subscribe() as queue:
        yield _event(engine.latest_snapshot or engine.snapshot())
        while not runtime.shutdown.is_set():
            try:
                async with asyncio.timeout(KEEPALIVE_S):
                    snapshot = await queue.get()
            except TimeoutError:
                yield b": keep-alive\n\n"
                continue
            yield _event(snapshot)


@router.get(
    "/events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "LiveSnapshot JSON"}},
)
async def events(runtime: RuntimeDep) -> StreamingResponse:
    return StreamingResponse(
        _stream(runtime),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
