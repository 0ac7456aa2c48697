"""Benchmark instrument (not part of the demo): a minimal OpenAI-style chat-completions server
that streams Dynamo-shaped SSE chunks at a fixed pace and does nothing else.

On a 2-core machine the real stack (frontend + mockers) saturates long before the load
generator does, so the client's own ceiling is measured against this source on the other core.
Each chunk carries the same fields Dynamo 1.6.1 sends (cumulative `usage` on every chunk,
`nvext.timing.ttft_ms` on the last content chunk), so the client parses the same bytes.

Run: `python -m demo_bench.client_sse_source --port P --interval-ms 20`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import time
from collections.abc import Sequence
from typing import cast

from pydantic import BaseModel, ConfigDict, Field

_HEAD = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n"
)
_MAX_HEADER_BYTES = 64 * 1024
_WORDS = (" the", " booth", " streams", " tokens", " quickly", " and", " evenly", ".")


class SourceSettings(BaseModel):
    """How the source paces its streams."""

    model_config = ConfigDict(extra="forbid")

    host: str = "127.0.0.1"
    port: int = Field(ge=1, le=65535)
    interval_ms: float = Field(default=20.0, ge=0.0, le=10_000.0, description="between events")
    first_token_ms: float = Field(default=0.0, ge=0.0, le=60_000.0)


def content_event(
    model: str, index: int, prompt_tokens: int, timing_ttft_ms: float | None
) -> bytes:
    """The SSE event carrying output token `index` (0-based) with cumulative usage."""
    chunk: dict[str, object] = {
        "id": "chatcmpl-bench",
        "choices": [
            {
                "index": 0,
                "delta": {"content": _WORDS[index % len(_WORDS)]},
                "finish_reason": None if timing_ttft_ms is None else "length",
                "logprobs": None,
            }
        ],
        "created": 0,
        "model": model,
        "object": "chat.completion.chunk",
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": index + 1,
            "total_tokens": prompt_tokens + index + 1,
            "prompt_tokens_details": {"cached_tokens": 0},
        },
    }
    if timing_ttft_ms is not None:
        chunk["nvext"] = {"timing": {"ttft_ms": round(timing_ttft_ms, 6)}}
    return b"data: " + json.dumps(chunk, separators=(",", ":")).encode() + b"\n\n"


def closing_events(model: str, prompt_tokens: int, completion_tokens: int) -> bytes:
    """The usage-only chunk and [DONE]."""
    usage = {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }
    chunk = {"id": "chatcmpl-bench", "choices": [], "model": model, "usage": usage}
    return b"data: " + json.dumps(chunk, separators=(",", ":")).encode() + b"\n\ndata: [DONE]\n\n"


def http_chunk(data: bytes) -> bytes:
    """One piece of a chunked transfer-encoded body."""
    return b"%x\r\n%b\r\n" % (len(data), data)


def parse_request(body: bytes) -> tuple[str, int, int]:
    """(model, max_tokens, rough prompt tokens) of a chat-completions request body."""
    request = json.loads(body)
    text = "".join(str(m.get("content", "")) for m in request.get("messages", []))
    return str(request.get("model", "bench")), int(request.get("max_tokens", 16)), len(text) // 4


class _Connection(asyncio.Protocol):
    def __init__(self, settings: SourceSettings) -> None:
        self._settings = settings
        self._buffer = bytearray()
        self._transport: asyncio.Transport | None = None
        self._task: asyncio.Task[None] | None = None
        self._close_after = False  # the request said `Connection: close`

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def connection_lost(self, exc: Exception | None) -> None:
        if self._task is not None:
            self._task.cancel()
        self._transport = None

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        if self._task is None:
            self._try_start()

    def _try_start(self) -> None:
        end = self._buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(self._buffer) > _MAX_HEADER_BYTES and self._transport is not None:
                self._transport.close()
            return
        head = bytes(self._buffer[:end])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
            elif name.strip().lower() == b"connection":  # as a real server (hyper) honours it
                self._close_after = value.strip().lower() == b"close"
        if len(self._buffer) < end + 4 + length:
            return
        body = bytes(self._buffer[end + 4 : end + 4 + length])
        del self._buffer[: end + 4 + length]
        received_ns = time.perf_counter_ns()
        self._task = asyncio.get_running_loop().create_task(self._stream(body, received_ns))

    async def _stream(self, body: bytes, received_ns: int) -> None:
        transport = self._transport
        if transport is None:
            return
        try:
            model, tokens, prompt_tokens = parse_request(body)
        except (ValueError, AttributeError, TypeError):
            transport.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            self._task = None
            return
        transport.write(_HEAD)
        interval_s = self._settings.interval_ms / 1000
        if self._settings.first_token_ms:
            await asyncio.sleep(self._settings.first_token_ms / 1000)
        ttft_ms = 0.0
        for index in range(tokens):
            if index == 0:
                ttft_ms = (time.perf_counter_ns() - received_ns) / 1e6
            last = index == tokens - 1
            event = content_event(model, index, prompt_tokens, ttft_ms if last else None)
            transport.write(http_chunk(event))
            if not last and interval_s:
                await asyncio.sleep(interval_s)
        transport.write(http_chunk(closing_events(model, prompt_tokens, tokens)) + b"0\r\n\r\n")
        self._task = None
        if self._close_after:
            transport.close()
        elif self._buffer:  # the next request on this keep-alive connection
            self._try_start()


async def serve(settings: SourceSettings) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    server = await loop.create_server(
        lambda: _Connection(settings), settings.host, settings.port, backlog=4096
    )
    print(f"sse source listening on {settings.host}:{settings.port}", flush=True)
    async with server:
        await stop.wait()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="client_sse_source", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--interval-ms", type=float, default=20.0)
    parser.add_argument("--first-token-ms", type=float, default=0.0)
    args = parser.parse_args(argv)
    settings = SourceSettings(
        host=args.host,
        port=args.port,
        interval_ms=args.interval_ms,
        first_token_ms=args.first_token_ms,
    )
    try:
        import uvloop  # the source must not be the bottleneck: use the fastest loop there is

        uvloop.run(serve(settings))
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
