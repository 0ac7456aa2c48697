"""A streaming HTTP/1.1 transport on an asyncio Protocol: each network read reaches the client
from the loop's read callback, with no task switch, future or async generator per read.

With aiohttp every SSE event costs a task wake-up and a chain of awaits (its StreamReader,
the response iterator, the client's loop): measured, more loop time than reading and
checking the event itself (client benchmark, 2026-12-07). Here the body is decoded
(chunked, sized, or until close) in `data_received` and each read is handed to the
client's callback at once. One connection per request (`Connection: close`): nothing is
pooled, so a POST never lands on a keep-alive connection the server is closing.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import cast
from urllib.parse import urlsplit

from loadgen.errors import TransportConnectError, TransportDisconnected, TransportTimeout

OnChunk = Callable[[bytes], bool]  # one read of the body; True: the client has all it needs
MAX_HEAD_BYTES = 64 * 1024
# A name is resolved at most this often (aiohttp's default): looked up per request, every
# TTFT would include the cluster DNS round trips (several, with Kubernetes' search domains).
DNS_TTL_S = 10.0
# After a whole answer the server closes first (the request said `Connection: close`), so the
# closed socket's TIME_WAIT is its, not one of our ephemeral ports; we close after this.
CLOSE_GRACE_S = 5.0
_UNTIL_CLOSE = -1


class _BadResponse(Exception):
    """Internal: the bytes are not an HTTP/1.1 response."""


class _Connection(asyncio.Protocol):
    """One request's connection: its response head, then its body as it arrives."""

    def __init__(self, request: bytes) -> None:
        loop = asyncio.get_running_loop()
        self._request = request
        self.transport: asyncio.Transport | None = None
        self.head: asyncio.Future[int] = loop.create_future()  # the status code
        self.done: asyncio.Future[bool] = loop.create_future()  # True: the client stopped
        self.last_read_s = loop.time()
        self._loop = loop
        self._buf = b""  # unparsed head or chunk framing
        self._body_left = 0  # bytes left in the current chunk, or of a sized body
        self._mode = ""  # "chunked", "sized", "close" once the head is read
        self._trailer = False  # after the last chunk: skipping trailer lines
        self._early: list[bytes] = []  # body read before the client asked for it
        self._sink: OnChunk | None = None
        self._complete = False  # the body's framing said it is over
        self._closing = False  # we closed it: nobody waits for these futures any more
        self._linger: asyncio.TimerHandle | None = None
        self.on_lost: Callable[[], None] | None = None

    # ----- asyncio callbacks ---------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        self.transport.write(self._request)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._linger is not None:
            self._linger.cancel()
        if self.on_lost is not None:
            self.on_lost()
        if self._closing:
            return
        if self._mode == "close" and exc is None:
            self._complete = True  # a body delimited by the end of the connection
        if self._complete:
            if self._sink is not None:
                self._finish(False)
            return
        detail = f"{type(exc).__name__}: {exc}" if exc else "server disconnected"
        self._fail(TransportDisconnected(detail))

    def data_received(self, data: bytes) -> None:
        self.last_read_s = self._loop.time()
        try:
            if not self._mode:
                data = self._read_head(data)
            if data:
                self._body(data)
        except Exception as exc:  # loop-callback edge: the awaiting task re-raises it
            if isinstance(exc, _BadResponse):
                exc = TransportDisconnected(f"bad HTTP response: {exc}")
            self._fail(exc)
            self.close()

    # ----- parsing -------------------------------------------------------------------------
    def _read_head(self, data: bytes) -> bytes:
        buf = self._buf + data
        end = buf.find(b"\r\n\r\n")
        if end < 0:
            if len(buf) > MAX_HEAD_BYTES:
                raise _BadResponse("response head too large")
            self._buf = buf
            return b""
        self._buf = b""
        lines = buf[:end].split(b"\r\n")
        parts = lines[0].split(b" ", 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
            raise _BadResponse(repr(lines[0][:80]))
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip().lower()
        if b"chunked" in headers.get(b"transfer-encoding", b""):
            self._mode = "chunked"
        elif (length := headers.get(b"content-length")) is not None:
            if not length.isdigit():
                raise _BadResponse(f"content-length {length!r}")
            self._mode, self._body_left = "sized", int(length)
        else:
            self._mode, self._body_left = "close", _UNTIL_CLOSE
        if not self.head.done():
            self.head.set_result(int(parts[1]))
        self._complete = self._mode == "sized" and not self._body_left
        return buf[end + 4 :]

    def _body(self, data: bytes) -> None:
        if self._mode == "chunked":
            data = self._dechunk(data)
        elif self._mode == "sized":
            data = data[: self._body_left]
            self._body_left -= len(data)
            self._complete = not self._body_left
        if data:
            if self._sink is None:
                self._early.append(data)
            elif self._sink(data):
                self._finish(True)
                return
        if self._complete and self._sink is not None:
            self._finish(False)

    def _dechunk(self, data: bytes) -> bytes:
        """The payload bytes of this read; the end of the body finishes the stream."""
        left = self._body_left
        if not self._buf and left == 0 and not self._trailer:  # common: one whole chunk
            eol = data.find(b"\r\n")
            if eol > 0 and b";" not in data[:eol]:
                try:
                    size = int(data[:eol], 16)
                except ValueError:
                    size = -1
                if size > 0 and len(data) == eol + size + 4 and data.endswith(b"\r\n"):
                    return data[eol + 2 : eol + 2 + size]
        buf = self._buf + data if self._buf else data
        self._buf = b""
        out: list[bytes] = []
        pos, n = 0, len(buf)
        while pos < n:
            if left > 0:
                take = min(left, n - pos)
                out.append(buf[pos : pos + take])
                pos += take
                left -= take
                if left == 0:
                    left = -2  # its CRLF is next
                continue
            eol = buf.find(b"\r\n", pos)
            if eol < 0:
                self._buf = buf[pos:]
                if len(self._buf) > MAX_HEAD_BYTES:
                    raise _BadResponse("chunk header too large")
                break
            line = buf[pos:eol]
            pos = eol + 2
            if left == -2:  # the CRLF closing a chunk's data
                if line:
                    raise _BadResponse("chunk data longer than its size")
                left = 0
            elif self._trailer:
                if not line:  # the blank line after the last chunk: the body is over
                    self._complete = True
                    break
            else:
                try:
                    left = int(line.split(b";", 1)[0], 16)
                except ValueError:
                    raise _BadResponse(f"chunk size {line[:40]!r}") from None
                if left == 0:
                    self._trailer = True
        self._body_left = left
        return b"".join(out)

    # ----- the client's side ---------------------------------------------------------------
    def _finish(self, stopped: bool) -> None:
        if not self.done.done():
            self.done.set_result(stopped)

    def _fail(self, exc: BaseException) -> None:
        """Raise `exc` in the one task waiting: for the head, else for the body."""
        if not self.head.done():
            self.head.set_exception(exc)
            self.done.cancel()  # nobody will wait for a body
        elif not self.done.done():
            self.done.set_exception(exc)

    def close(self) -> None:
        self._closing = True
        if self.transport is not None:
            self.transport.close()

    def release(self) -> None:
        """Done with it: a stream that ended well is left for the server to close (within
        CLOSE_GRACE_S); any other is closed now, so the server sees the client go."""
        done = self.done
        if not done.done() or done.cancelled() or done.exception() is not None:
            self.close()
            return
        self._closing = True
        if self.transport is not None and not self.transport.is_closing():
            self._linger = self._loop.call_later(CLOSE_GRACE_S, self.transport.close)

    def attach(self, sink: OnChunk) -> None:
        """From now on every body read goes to `sink` (first what arrived with the head)."""
        early, self._early = self._early, []
        for data in early:
            if sink(data):
                self._finish(True)
                return
        self._sink = sink
        if self._complete:
            self._finish(False)


class _Response:
    def __init__(self, connection: _Connection, status: int, idle_s: float) -> None:
        self._conn = connection
        self._status = status
        self._idle_s = idle_s

    @property
    def status(self) -> int:
        return self._status

    async def read_body(self, limit: int) -> bytes:
        body: list[bytes] = []
        size = 0

        def collect(data: bytes) -> bool:
            nonlocal size
            body.append(data)
            size += len(data)
            return size >= limit

        with contextlib.suppress(TransportDisconnected):  # a body cut short is still shown
            await self.pump(collect)
        return b"".join(body)[:limit]

    async def pump(self, on_chunk: OnChunk) -> bool:
        """Hand every body read to `on_chunk` until it returns True (then True) or the body
        ends (False); TransportTimeout after `idle_s` without a byte."""
        conn = self._conn
        conn.attach(on_chunk)
        loop = asyncio.get_running_loop()
        while True:
            due_s = conn.last_read_s + self._idle_s
            try:
                async with asyncio.timeout_at(due_s):
                    return await asyncio.shield(conn.done)
            except TimeoutError:
                if conn.done.done():
                    return conn.done.result()
                if loop.time() >= conn.last_read_s + self._idle_s:
                    raise TransportTimeout(f"no data for {self._idle_s:g} s") from None


class StreamingHttpTransport:
    """The Transport port on one asyncio connection per request (see module docstring)."""

    def __init__(self, *, connect_timeout_s: float = 10.0, read_timeout_s: float = 60.0) -> None:
        self._connect_timeout_s = connect_timeout_s
        self._read_timeout_s = read_timeout_s
        self._open: set[_Connection] = set()
        self._ssl: ssl.SSLContext | None = None
        self._resolved: dict[tuple[str, int], tuple[float, str]] = {}  # -> (until, address)

    async def __aenter__(self) -> StreamingHttpTransport:
        return self

    async def __aexit__(self, *exc: object) -> None:
        for conn in list(self._open):
            conn.close()

    def _request(
        self, url: str, body: bytes, headers: Mapping[str, str]
    ) -> tuple[bytes, str, int, bool]:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise TransportConnectError(f"not an http(s) URL: {url!r}")
        secure = parts.scheme == "https"
        port = parts.port or (443 if secure else 80)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        lines = [f"POST {path} HTTP/1.1", f"Host: {parts.netloc}", f"Content-Length: {len(body)}",
                 "Connection: close", *(f"{k}: {v}" for k, v in headers.items())]  # fmt: skip
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        return head + body, parts.hostname, port, secure

    async def _address(self, host: str, port: int) -> str:
        """`host`'s address, looked up at most once per DNS_TTL_S."""
        loop = asyncio.get_running_loop()
        now = loop.time()
        cached = self._resolved.get((host, port))
        if cached is not None and now < cached[0]:
            return cached[1]
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        if not infos:
            raise OSError(f"no address for {host}")
        address = str(infos[0][4][0])
        self._resolved[(host, port)] = (now + DNS_TTL_S, address)
        return address

    @asynccontextmanager
    async def post_stream(
        self, url: str, body: bytes, headers: Mapping[str, str]
    ) -> AsyncIterator[_Response]:
        request, host, port, secure = self._request(url, body, headers)
        if secure and self._ssl is None:
            self._ssl = ssl.create_default_context()
        loop = asyncio.get_running_loop()
        conn = _Connection(request)
        try:
            async with asyncio.timeout(self._connect_timeout_s):
                address = await self._address(host, port)
                await loop.create_connection(
                    lambda: conn, address, port, ssl=self._ssl if secure else None,
                    server_hostname=host if secure else None,
                )  # fmt: skip
        except TimeoutError:
            raise TransportTimeout(f"connect to {host}:{port} timed out") from None
        except OSError as exc:
            self._resolved.pop((host, port), None)  # the next request looks the name up again
            raise TransportConnectError(f"{host}:{port}: {exc.strerror or exc}") from exc
        self._open.add(conn)
        conn.on_lost = lambda: self._open.discard(conn)
        try:
            try:
                async with asyncio.timeout(self._read_timeout_s):  # until the response head
                    status = await conn.head
            except TimeoutError:
                raise TransportTimeout(f"no response within {self._read_timeout_s:g} s") from None
            yield _Response(conn, status, self._read_timeout_s)
        finally:
            conn.release()
