"""The HTTP transport port of the streaming client, and its aiohttp adapter.

The client logic (stream.py) only sees `Transport`/`StreamResponse` and the TransportError
subclasses, so unit tests drive it with an in-memory transport and a fake clock.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from typing import Protocol, runtime_checkable

import aiohttp

from loadgen.errors import TransportConnectError, TransportDisconnected, TransportTimeout


class StreamResponse(Protocol):
    """An HTTP response whose body is read chunk by chunk as it arrives."""

    @property
    def status(self) -> int: ...

    async def read_body(self, limit: int) -> bytes:
        """Up to `limit` bytes of the body (for error messages)."""
        ...

    def chunks(self) -> AsyncIterator[bytes]:
        """The body in the chunks the network delivered."""
        ...


@runtime_checkable
class PushResponse(Protocol):
    """A response that hands each read of its body to a callback as it arrives, from the
    network callback itself (no task switch per read: loadgen.client.http)."""

    @property
    def status(self) -> int: ...

    async def read_body(self, limit: int) -> bytes: ...

    async def pump(self, on_chunk: Callable[[bytes], bool]) -> bool:
        """Until `on_chunk` returns True (then True) or the body ends (False)."""
        ...


class Transport(Protocol):
    """Opens streaming POSTs; raises TransportConnectError / TransportTimeout /
    TransportDisconnected, never library-specific exceptions."""

    def post_stream(
        self, url: str, body: bytes, headers: Mapping[str, str]
    ) -> AbstractAsyncContextManager[StreamResponse | PushResponse]: ...


class _AiohttpResponse:
    def __init__(self, response: aiohttp.ClientResponse, idle_s: float) -> None:
        self._response = response
        self._idle_s = idle_s

    @property
    def status(self) -> int:
        return self._response.status

    async def read_body(self, limit: int) -> bytes:
        with _mapped_errors():
            async with asyncio.timeout(self._idle_s):
                return await self._response.content.read(limit)

    async def chunks(self) -> AsyncIterator[bytes]:
        """The body as it arrives; TransportTimeout after `idle_s` without a byte.

        One timer per stream that re-arms itself once per idle bound: aiohttp's own sock_read
        timeout re-arms a timer on every chunk, ~10 % of the client's CPU at 10k events/s
        (client benchmark).
        """
        loop = asyncio.get_running_loop()
        last_s = loop.time()
        silent = False
        timer: asyncio.TimerHandle | None = None

        def check_silence() -> None:
            nonlocal timer, silent
            due_s = last_s + self._idle_s
            if loop.time() < due_s:
                timer = loop.call_at(due_s, check_silence)
            else:
                silent = True
                self._response.close()  # wakes the pending read

        timer = loop.call_at(last_s + self._idle_s, check_silence)
        try:
            while True:
                try:
                    with _mapped_errors():
                        chunk = await self._response.content.readany()
                except TransportDisconnected:
                    if not silent:
                        raise
                    chunk = b""
                if not chunk:
                    if silent:
                        raise TransportTimeout(f"no data for {self._idle_s:g} s")
                    return
                last_s = loop.time()
                yield chunk
        finally:
            if timer is not None:
                timer.cancel()


@contextmanager
def _mapped_errors() -> Iterator[None]:
    """Turn aiohttp/asyncio failures into the port's exceptions (cancellation passes through)."""
    try:
        yield
    except (aiohttp.ServerTimeoutError, TimeoutError) as exc:
        raise TransportTimeout(str(exc) or "timed out") from exc
    except aiohttp.ClientConnectorError as exc:
        raise TransportConnectError(str(exc)) from exc
    except (aiohttp.ClientPayloadError, aiohttp.ServerDisconnectedError) as exc:
        raise TransportDisconnected(str(exc) or "server disconnected") from exc
    except (aiohttp.ClientError, ConnectionError) as exc:
        raise TransportDisconnected(f"{type(exc).__name__}: {exc}") from exc


class AiohttpTransport:
    """Transport over one shared aiohttp session with a large connection pool."""

    def __init__(
        self,
        *,
        connect_timeout_s: float = 10.0,
        read_timeout_s: float = 60.0,
        max_connections: int = 4096,
    ) -> None:
        # No sock_read: the body's silence bound is the cheaper per-stream timer in chunks().
        self._timeout = aiohttp.ClientTimeout(total=None, sock_connect=connect_timeout_s)
        self._read_timeout_s = read_timeout_s
        self._max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> AiohttpTransport:
        connector = aiohttp.TCPConnector(limit=self._max_connections, limit_per_host=0)
        self._session = aiohttp.ClientSession(
            connector=connector, timeout=self._timeout, auto_decompress=False
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    @asynccontextmanager
    async def post_stream(
        self, url: str, body: bytes, headers: Mapping[str, str]
    ) -> AsyncIterator[StreamResponse]:
        if self._session is None:
            raise RuntimeError("AiohttpTransport used outside `async with`")
        with _mapped_errors():
            async with asyncio.timeout(self._read_timeout_s):  # until the response headers
                response = await self._session.post(url, data=body, headers=dict(headers))
        try:
            yield _AiohttpResponse(response, self._read_timeout_s)
        finally:
            if response.content.is_eof():
                response.release()  # back to the pool for the next request
            else:
                response.close()  # drops an unfinished stream; the server sees the disconnect
