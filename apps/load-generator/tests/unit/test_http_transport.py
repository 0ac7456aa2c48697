"""The streaming HTTP/1.1 connection without a socket: response heads and bodies (chunked,
sized, until close) fed to its read callback in arbitrary pieces."""

from __future__ import annotations

import asyncio
import random

import pytest

from loadgen.client.http import StreamingHttpTransport, _Connection, _Response
from loadgen.errors import TransportConnectError, TransportDisconnected, TransportTimeout

EVENTS = [b"data: a\n\n", b"data: bb\n\n", b"data: [DONE]\n\n"]
CHUNKED_HEAD = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
)


class FakeSocket:
    """What the connection needs of an asyncio transport."""

    def __init__(self) -> None:
        self.written = b""
        self.closed = False

    def write(self, data: bytes) -> None:
        self.written += data

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed


def chunked(*pieces: bytes) -> bytes:
    return (
        b"".join(b"%x;ext=1\r\n%b\r\n" % (len(p), p) for p in pieces) + b"0\r\nX-Trailer: 1\r\n\r\n"
    )


def connect() -> tuple[_Connection, FakeSocket]:
    conn = _Connection(b"POST / HTTP/1.1\r\n\r\n")
    sock = FakeSocket()
    conn.connection_made(sock)  # type: ignore[arg-type]
    return conn, sock


def feed_in_pieces(conn: _Connection, raw: bytes, rng: random.Random) -> None:
    cuts = sorted(rng.sample(range(1, len(raw)), k=rng.randrange(1, 30)))
    for a, b in zip([0, *cuts], [*cuts, len(raw)], strict=True):
        conn.data_received(raw[a:b])


@pytest.mark.parametrize("seed", range(30))
async def test_chunked_body_cut_anywhere_reaches_the_client_whole(seed: int) -> None:
    conn, sock = connect()
    assert sock.written.startswith(b"POST / HTTP/1.1")
    got: list[bytes] = []
    raw = CHUNKED_HEAD + chunked(*EVENTS)
    early = len(CHUNKED_HEAD) + seed  # the head and some body before the client asks
    feed_in_pieces(conn, raw[:early], random.Random(seed))
    assert await conn.head == 200
    response = _Response(conn, 200, idle_s=5.0)
    pumping = asyncio.ensure_future(response.pump(lambda data: got.append(data) is not None))
    await asyncio.sleep(0)
    feed_in_pieces(conn, raw[early:], random.Random(seed + 100))
    assert await pumping is False  # the body ended; the client callback never said stop
    assert b"".join(got) == b"".join(EVENTS)


async def test_the_client_stopping_ends_the_pump() -> None:
    conn, _ = connect()
    conn.data_received(CHUNKED_HEAD + chunked(EVENTS[0], EVENTS[1]))
    response = _Response(conn, await conn.head, idle_s=5.0)
    assert await response.pump(lambda data: b"bb" in data) is True


@pytest.mark.parametrize(
    ("head", "body"),
    [
        (b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n", b"abcdef"),
        (b"HTTP/1.0 200 OK\r\n\r\n", b"abcdef"),  # until the connection closes
    ],
)
async def test_sized_and_close_delimited_bodies(head: bytes, body: bytes) -> None:
    conn, _ = connect()
    conn.data_received(head + body[:2])
    conn.data_received(body[2:])
    if b"Content-Length" not in head:
        conn.connection_lost(None)
    response = _Response(conn, await conn.head, idle_s=5.0)
    got: list[bytes] = []
    assert await response.pump(lambda data: got.append(data) is not None) is False
    assert b"".join(got) == body


async def test_error_status_body_is_read() -> None:
    conn, _ = connect()
    conn.data_received(b"HTTP/1.1 503 Busy\r\nTransfer-Encoding: chunked\r\n\r\n")
    conn.data_received(chunked(b'{"message":"busy"}'))
    response = _Response(conn, await conn.head, idle_s=5.0)
    assert response.status == 503
    assert await response.read_body(1000) == b'{"message":"busy"}'


async def test_a_cut_body_is_a_disconnect() -> None:
    conn, _ = connect()
    conn.data_received(CHUNKED_HEAD + b"9\r\ndata: a\n\n\r\n")
    response = _Response(conn, await conn.head, idle_s=5.0)
    pumping = asyncio.ensure_future(response.pump(lambda data: False))
    await asyncio.sleep(0)
    conn.connection_lost(ConnectionResetError("reset by peer"))
    with pytest.raises(TransportDisconnected, match="reset by peer"):
        await pumping


@pytest.mark.parametrize(
    "raw", [b"SSH-2.0-OpenSSH\r\n\r\n", CHUNKED_HEAD + b"zz\r\n", CHUNKED_HEAD + b"2\r\nabc\r\n"]
)
async def test_bytes_that_are_not_http_are_a_disconnect(raw: bytes) -> None:
    conn, sock = connect()
    conn.data_received(raw)

    async def status_then_body() -> None:
        await _Response(conn, await conn.head, idle_s=5.0).pump(lambda data: False)

    with pytest.raises(TransportDisconnected, match="bad HTTP response"):
        await status_then_body()
    assert sock.closed


async def test_the_client_callback_failing_reaches_the_awaiting_task() -> None:
    conn, sock = connect()
    conn.data_received(CHUNKED_HEAD)
    response = _Response(conn, await conn.head, idle_s=5.0)

    def refuse(data: bytes) -> bool:
        raise ValueError("not a chat chunk")

    pumping = asyncio.ensure_future(response.pump(refuse))
    await asyncio.sleep(0)
    conn.data_received(chunked(b"data: x\n\n"))
    with pytest.raises(ValueError, match="not a chat chunk"):
        await pumping
    assert sock.closed


async def test_silence_is_a_timeout() -> None:
    conn, _ = connect()
    conn.data_received(CHUNKED_HEAD)
    response = _Response(conn, await conn.head, idle_s=0.0)
    with pytest.raises(TransportTimeout):
        await response.pump(lambda data: False)


async def test_only_http_urls() -> None:
    transport = StreamingHttpTransport()
    with pytest.raises(TransportConnectError, match="not an http"):
        async with transport.post_stream("ftp://x/y", b"{}", {}):
            pass


async def test_a_name_is_looked_up_once_per_ttl(monkeypatch: pytest.MonkeyPatch) -> None:
    loop = asyncio.get_running_loop()
    lookups: list[str] = []

    async def getaddrinfo(host: str, port: int, **kw: object) -> list[tuple[object, ...]]:
        lookups.append(host)
        return [(2, 1, 6, "", ("10.0.0.7", port))]

    monkeypatch.setattr(loop, "getaddrinfo", getaddrinfo)
    transport = StreamingHttpTransport()
    assert await transport._address("frontend", 8000) == "10.0.0.7"
    assert await transport._address("frontend", 8000) == "10.0.0.7"
    assert lookups == ["frontend"]
    monkeypatch.setattr(loop, "time", lambda: 1e12)  # long after the TTL
    await transport._address("frontend", 8000)
    assert lookups == ["frontend", "frontend"]


async def test_a_whole_answer_is_left_for_the_server_to_close() -> None:
    conn, sock = connect()
    conn.data_received(CHUNKED_HEAD + chunked(*EVENTS))
    response = _Response(conn, await conn.head, idle_s=5.0)
    assert await response.pump(lambda data: b"[DONE]" in data) is True
    conn.release()
    assert not sock.closed  # the server closes first (it was asked to): its TIME_WAIT
    conn.connection_lost(None)  # and nothing is raised to anybody


async def test_a_cut_stream_is_closed_at_once() -> None:
    conn, sock = connect()
    conn.data_received(CHUNKED_HEAD + b"9\r\ndata: a\n\n\r\n")  # the answer goes on
    response = _Response(conn, await conn.head, idle_s=5.0)
    pumping = asyncio.ensure_future(response.pump(lambda data: False))
    await asyncio.sleep(0)
    pumping.cancel()  # e.g. the presenter's stop: the server must see the client go
    with pytest.raises(asyncio.CancelledError):
        await pumping
    conn.release()
    assert sock.closed
