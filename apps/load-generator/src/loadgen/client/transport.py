"""The HTTP transport port of the streaming client, and its aiohttp adapter.

The client logic (stream.py) only sees `Transport`/`StreamResponse` and the TransportError
subclasses, so unit tests drive it with an in-memory transport and a fake clock.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from typing import Protocol

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


class Transport(Protocol):
    """Opens streaming POSTs; raises TransportConnectError / TransportTimeout /
    TransportDisconnected, never library-specific exceptions."""

    def post_stream(
        self, url: str, body: bytes, headers: Mapping[str, str]
    ) -> AbstractAsyncContextManager[StreamResponse]: ...


class _AiohttpResponse:
    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response

    @property
    def status(self) -> int:
        return self._response.status

    async def read_body(self, limit: int) -> bytes:
        with _mapped_errors():
            return await self._response.content.read(limit)

    async def chunks(self) -> AsyncIterator[bytes]:
        content = self._response.content
        while True:
            with _mapped_errors():
                chunk = await content.readany()
            if not chunk:
                return
            yield chunk


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
        self._timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=connect_timeout_s, sock_read=read_timeout_s
        )
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
            response = await self._session.post(url, data=body, headers=dict(headers))
        try:
            yield _AiohttpResponse(response)
        finally:
            if response.content.is_eof():
                response.release()  # back to the pool for the next request
            else:
                response.close()  # drops an unfinished stream; the server sees the disconnect
