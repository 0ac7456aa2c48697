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


async def _stalls_after_one_event(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)
    await response.write(b'data: {"choices": []}\n\n')
    await asyncio.sleep(3)  # silence, far beyond the 0.5 s bound
    return response


async def _steady(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)
    for _ in range(6):  # 1.2 s in all, each gap well under the bound
        await response.write(b'data: {"choices": []}\n\n')
        await asyncio.sleep(0.2)
    await response.write(b"data: [DONE]\n\n")
    return response


@pytest.fixture
async def server() -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_post("/stall", _stalls_after_one_event)
    app.router.add_post("/steady", _steady)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def _read_all(transport: AiohttpTransport, url: str, chunks: list[bytes]) -> None:
    async with transport.post_stream(url, b"{}", {}) as response:
        async for chunk in response.chunks():
            chunks.append(chunk)


async def test_silence_longer_than_the_bound_is_a_timeout(server: str) -> None:
    chunks: list[bytes] = []
    async with AiohttpTransport(read_timeout_s=0.5) as transport:
        started = time.monotonic()
        with pytest.raises(TransportTimeout, match=r"no data for 0\.5 s"):
            await _read_all(transport, f"{server}/stall", chunks)
        elapsed = time.monotonic() - started
    assert chunks  # the first event arrived before the silence
    assert 0.5 <= elapsed < 2.0


async def test_a_long_stream_with_short_gaps_is_not_cut(server: str) -> None:
    chunks: list[bytes] = []
    async with AiohttpTransport(read_timeout_s=0.5) as transport:
        await _read_all(transport, f"{server}/steady", chunks)
    body = b"".join(chunks)
    assert body.count(b"data:") == 7
    assert body.endswith(b"data: [DONE]\n\n")
