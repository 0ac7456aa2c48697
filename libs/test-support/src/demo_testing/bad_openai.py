"""A small aiohttp OpenAI-compatible server that misbehaves on request, for the client's tests.

The mode is the first path segment: base URL `http://host:port/<mode>`, so the client posts to
`/<mode>/v1/chat/completions`. Mode `cycle` rotates through every mode per request. It records
the Authorization headers it saw (the secrets test checks the key was sent, not logged).
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
SSE = {"Content-Type": "text/event-stream"}


def chunk(text: str, *, usage: dict[str, int] | None = None) -> bytes:
    body: dict[str, object] = {
        "id": "x", "object": "chat.completion.chunk", "model": "m",
        "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}],
    }  # fmt: skip
    if usage is not None:
        body["usage"] = usage
    return b"data: " + json.dumps(body).encode() + b"\n\n"


async def _open(request: web.Request, headers: dict[str, str] | None = None) -> web.StreamResponse:
    response = web.StreamResponse(headers=headers or SSE)
    await response.prepare(request)
    return response


async def ok(request: web.Request) -> web.StreamResponse:
    response = await _open(request)
    for n in range(4):
        await response.write(chunk(f" word{n}"))
    usage = {"prompt_tokens": 12, "completion_tokens": 4, "total_tokens": 16}
    await response.write(b'data: {"choices": [], "usage": ' + json.dumps(usage).encode() + b"}\n\n")
    await response.write(b"data: [DONE]\n\n")
    return response


async def garbage(request: web.Request) -> web.StreamResponse:
    response = await _open(request)
    await response.write(chunk(" fine"))
    await response.write(b"data: {not json at all\n\n")
    await response.write(b"data: [DONE]\n\n")
    return response


async def binary(request: web.Request) -> web.StreamResponse:
    response = await _open(request)
    await response.write(bytes(range(256)) * 64 + b"\n\n")
    return response


async def truncated(request: web.Request) -> web.StreamResponse:
    response = await _open(request)
    await response.write(chunk(" one") + chunk(" two"))
    await response.write(b'data: {"choices": [{"delta": {"content": "th')
    request.transport.close() if request.transport else None  # cut mid-event, no [DONE]
    return response


async def stall(request: web.Request) -> web.StreamResponse:
    response = await _open(request)
    await response.write(chunk(" first"))
    await asyncio.sleep(3600)  # the client's silence bound must end it
    return response


async def huge(request: web.Request) -> web.StreamResponse:
    response = await _open(request)
    await response.write(chunk(" start"))
    piece = b"x" * (1 << 20)
    await response.write(b"data: " + piece)
    for _ in range(16):  # 17 MiB without an event terminator: over the client's event bound
        await response.write(piece)
    await response.write(b"\n\n")
    return response


async def wrong_type(request: web.Request) -> web.StreamResponse:
    body = {"choices": [{"message": {"role": "assistant", "content": "not streamed"}}]}
    return web.json_response(body)


async def html(request: web.Request) -> web.StreamResponse:
    return web.Response(text="<html>captive portal</html>", content_type="text/html")


async def http_500(request: web.Request) -> web.StreamResponse:
    return web.json_response({"error": {"message": "boom"}}, status=500)


async def error_event(request: web.Request) -> web.StreamResponse:
    response = await _open(request)
    await response.write(chunk(" a"))
    await response.write(b'data: {"error": {"message": "worker lost", "code": 500}}\n\n')
    return response


async def empty(request: web.Request) -> web.StreamResponse:
    response = await _open(request)
    await response.write(b"data: [DONE]\n\n")
    return response


MODES: dict[str, Handler] = {
    "ok": ok, "garbage": garbage, "binary": binary, "truncated": truncated, "stall": stall,
    "huge": huge, "wrong_type": wrong_type, "html": html, "http_500": http_500,
    "error_event": error_event, "empty": empty,
}  # fmt: skip
# What the streaming client must call each mode (reason of its record).
EXPECTED_REASON = {
    "ok": "none", "garbage": "malformed", "binary": "malformed", "truncated": "disconnect",
    "stall": "timeout", "huge": "malformed", "wrong_type": "malformed", "html": "malformed",
    "http_500": "http_500", "error_event": "stream_error", "empty": "empty",
}  # fmt: skip


@dataclass
class BadOpenAI:
    url: str
    authorizations: list[str] = field(default_factory=list)
    served: dict[str, int] = field(default_factory=dict)


@asynccontextmanager
async def bad_openai_server(cycle: tuple[str, ...] = tuple(MODES)) -> AsyncIterator[BadOpenAI]:
    """Serve on a free loopback port; `cycle` is the rotation used by mode `cycle`."""
    rotation = itertools.cycle(cycle)
    server = BadOpenAI(url="")

    async def dispatch(request: web.Request) -> web.StreamResponse:
        mode = request.match_info["mode"]
        if mode == "cycle":
            mode = next(rotation)
        if mode not in MODES:
            raise web.HTTPNotFound(text=f"unknown mode {mode}")
        server.authorizations.append(request.headers.get("Authorization", ""))
        server.served[mode] = server.served.get(mode, 0) + 1
        await request.read()
        return await MODES[mode](request)

    app = web.Application()
    app.router.add_post("/{mode}/v1/chat/completions", dispatch)
    runner = web.AppRunner(app, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    server.url = f"http://127.0.0.1:{port}"
    try:
        yield server
    finally:
        await runner.cleanup()
