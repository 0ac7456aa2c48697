"""The aiohttp transport against a real HTTP server that goes silent mid-stream."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from loadgen.client.transport import AiohttpTransport
from loadgen.errors import TransportTimeout

pytestmark = pytest.mark.integration
RELEASE = web.AppKey("release", asyncio.Event)


# Bounds wide enough for a loaded 2-core machine, whose event loop stalls for up to ~1 s.
STALL_BOUND_S = 1.0
STEADY_BOUND_S = 2.0  # against 0.1 s gaps: only a ~2 s stall of this loop could cut the stream


async def _stalls_after_one_event(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)
    await response.write(b'data: {"choices": []}\n\n')
    await request.app[RELEASE].wait()  # silent until the test ends: only the bound can end it
    return response


async def _steady(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)
    for _ in range(30):  # 3 s in all, longer than the bound; each gap a twentieth of it
        await response.write(b'data: {"choices": []}\n\n')
        await asyncio.sleep(0.1)
    await response.write(b"data: [DONE]\n\n")
    return response


@pytest.fixture
async def server() -> AsyncIterator[str]:
    app = web.Application()
    app[RELEASE] = asyncio.Event()
    app.router.add_post("/stall", _stalls_after_one_event)
    app.router.add_post("/steady", _steady)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}"
    app[RELEASE].set()
    await runner.cleanup()


async def _read_all(transport: AiohttpTransport, url: str, chunks: list[bytes]) -> None:
    async with transport.post_stream(url, b"{}", {}) as response:
        async for chunk in response.chunks():
            chunks.append(chunk)


async def test_silence_longer_than_the_bound_is_a_timeout(server: str) -> None:
    chunks: list[bytes] = []
    async with AiohttpTransport(read_timeout_s=STALL_BOUND_S) as transport:
        started = time.monotonic()
        with pytest.raises(TransportTimeout, match=r"no data for 1 s"):
            await _read_all(transport, f"{server}/stall", chunks)
        elapsed = time.monotonic() - started
    assert chunks  # the first event arrived before the silence
    # Not before the bound; well before the silence's end (never): the bound, not the server,
    # ended it, with ~9 s for the loop stalls of a loaded machine.
    assert STALL_BOUND_S <= elapsed < 10 * STALL_BOUND_S


async def test_a_long_stream_with_short_gaps_is_not_cut(server: str) -> None:
    chunks: list[bytes] = []
    async with AiohttpTransport(read_timeout_s=STEADY_BOUND_S) as transport:
        await _read_all(transport, f"{server}/steady", chunks)
    body = b"".join(chunks)
    assert body.count(b"data:") == 31
    assert body.endswith(b"data: [DONE]\n\n")
