"""SSE parsing: framing across chunk boundaries and first-byte timestamps."""

from __future__ import annotations

import pytest

from loadgen.client.sse import SSEFormatError, SSEParser


def test_event_split_across_chunks_keeps_first_byte_instant() -> None:
    parser = SSEParser()
    assert parser.feed(b"da", 100) == []
    assert parser.feed(b"ta: hel", 200) == []
    events = parser.feed(b"lo\n\n", 300)
    assert [(e.event, e.data, e.first_byte_ns) for e in events] == [("message", b"hello", 100)]


def test_several_events_in_one_chunk_share_its_instant() -> None:
    events = SSEParser().feed(b"data: a\n\ndata: b\n\n", 50)
    assert [(e.data, e.first_byte_ns) for e in events] == [(b"a", 50), (b"b", 50)]


@pytest.mark.parametrize("newline", [b"\n", b"\r\n", b"\r"])
def test_line_endings(newline: bytes) -> None:
    stream = b"event: error" + newline + b"data: x" + newline + b"data: y" + newline + newline
    events = SSEParser().feed(stream, 7)
    assert [(e.event, e.data) for e in events] == [("error", b"x\ny")]


def test_crlf_split_between_chunks_is_one_terminator() -> None:
    parser = SSEParser()
    assert parser.feed(b"data: a\r", 1) == []
    first = parser.feed(b"\n\r", 2)  # CRLF ends the line, the lone CR the (empty) next one
    second = parser.feed(b"\ndata: b\n\n", 3)  # this LF belongs to that CR: no extra line
    assert [(e.data, e.first_byte_ns) for e in first + second] == [(b"a", 1), (b"b", 3)]


def test_comments_and_blank_lines_are_not_events_and_do_not_stamp() -> None:
    parser = SSEParser()
    assert parser.feed(b": keep-alive\n\n\n", 10) == []
    events = parser.feed(b"data: z\n\n", 20)
    assert [(e.data, e.first_byte_ns) for e in events] == [(b"z", 20)]


def test_field_without_space_and_unknown_fields() -> None:
    events = SSEParser().feed(b"id: 3\nretry: 10\ndata:raw\n\n", 1)
    assert [e.data for e in events] == [b"raw"]


def test_oversized_event_is_rejected() -> None:
    parser = SSEParser(max_event_bytes=16)
    with pytest.raises(SSEFormatError):
        parser.feed(b"data: " + b"x" * 64, 1)
