"""The cheap per-event path of the streaming client: SSE framing and byte-level checks.

At 20k events/s a full `orjson.loads` and a walk over the chunk per event is more loop time
than the rest of the client's own work; so after the first content event (parsed in full, and
used to check that the server writes compact JSON these checks read right), an event is only
searched for the few fields the measurement needs: whether its delta carries text, the
cumulative `usage.completion_tokens`, and a finish reason. Anything that is not plainly such a
chunk (an error, a missing count, an event of another name, CR line ends, comments) goes to
the exact path (`SSEParser` and a full parse), so the fast path only ever skips work.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from loadgen.client.sse import DEFAULT_MAX_EVENT_BYTES, SSEFormatError, SSEParser

_QUOTE = 0x22
_CONTENT = b'"content":"'
_REASONING = b'"reasoning_content":"'
_FINISH = b'"finish_reason":"'
_ERROR = b'"error"'
_CHOICES = b'"choices":['
_COMPLETION = re.compile(rb'"completion_tokens":(\d+)')

# (event name, data, first-byte instant) -> True at the end of the stream.
OnEvent = Callable[[str, bytes, int], bool]


def carries_text(data: bytes) -> bool:
    """Whether a compact chat chunk's delta holds non-empty content or reasoning text.

    Inside a JSON string every quote is escaped, so `"content":"` can only be the key of a
    string value (not `reasoning_content`, whose key ends in `_content`), and the byte after
    it is the closing quote exactly when the string is empty.
    """
    at = data.find(_CONTENT)
    if at >= 0 and data[at + len(_CONTENT)] != _QUOTE:
        return True
    at = data.find(_REASONING)
    return at >= 0 and data[at + len(_REASONING)] != _QUOTE


def completion_tokens(data: bytes) -> int | None:
    """The `completion_tokens` count a compact chunk carries, if any."""
    found = _COMPLETION.search(data)
    return None if found is None else int(found[1])


def finish_reason(data: bytes) -> str | None:
    """A non-null `finish_reason` of a compact chunk (a plain word: stop, length, ...)."""
    at = data.find(_FINISH)
    if at < 0:
        return None
    start = at + len(_FINISH)
    return data[start : data.index(b'"', start)].decode("utf-8", errors="replace")


def plain_chunk(data: bytes) -> bool:
    """A JSON object with a choices list and no error: what the byte checks may read."""
    return data[-1:] == b"}" and _CHOICES in data and _ERROR not in data


class EventFramer:
    """Splits a body into SSE events and stamps each with its first byte's arrival.

    The common shape (`data: ...` then a blank line, LF line ends) is cut with two `find`s
    per event; at the first block of any other shape the rest of the stream goes through the
    exact parser (`SSEParser`), which handles every line ending, comments and named events.
    """

    def __init__(self, on_event: OnEvent, max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES) -> None:
        self._on_event = on_event
        self._max_event_bytes = max_event_bytes
        self._partial = b""
        self._partial_ns = 0
        self._exact: SSEParser | None = None
        self.events = 0

    def feed(self, chunk: bytes, now_ns: int) -> bool:
        """Handle one network read; True once an event ended the stream."""
        if self._exact is not None:
            return self._feed_exact(chunk, now_ns)
        head = len(self._partial)
        buf = self._partial + chunk if head else chunk
        if b"\r" in chunk:
            return self._switch(buf, head, now_ns)
        pos = 0
        while (end := buf.find(b"\n\n", pos)) >= 0:
            if not buf.startswith(b"data: ", pos) or buf.find(b"\n", pos, end) >= 0:
                return self._switch(buf[pos:], head - pos, now_ns)
            self.events += 1
            if self._on_event(
                "message", buf[pos + 6 : end], self._partial_ns if pos < head else now_ns
            ):
                return True
            pos = end + 2
        if pos < len(buf):
            if pos >= head:
                self._partial_ns = now_ns
            self._partial = buf[pos:]
            if len(self._partial) > self._max_event_bytes:
                raise SSEFormatError(f"SSE event larger than {self._max_event_bytes} bytes")
        else:
            self._partial = b""
        return False

    def _switch(self, buf: bytes, head: int, now_ns: int) -> bool:
        """Hand the rest (starting at an event boundary) to the exact parser."""
        self._exact = SSEParser(self._max_event_bytes)
        self._partial = b""
        if head > 0 and self._feed_exact(buf[:head], self._partial_ns):
            return True
        return self._feed_exact(buf[max(head, 0) :], now_ns)

    def _feed_exact(self, chunk: bytes, now_ns: int) -> bool:
        assert self._exact is not None
        for event in self._exact.feed(chunk, now_ns):
            self.events += 1
            if self._on_event(event.event, event.data, event.first_byte_ns):
                return True
        return False
