"""Incremental Server-Sent Events parser that stamps each event with its first byte's arrival.

Bytes arrive in arbitrary chunks; each chunk comes with the instant it was read. An event's
timestamp is that of the chunk holding its first byte, so a slow reader never shifts it later
than the bytes actually arrived (docs/measurement-conventions.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from loadgen.errors import LoadgenError

_CR = 0x0D
_LF = 0x0A
DEFAULT_MAX_EVENT_BYTES = 8 * 1024 * 1024


class SSEFormatError(LoadgenError):
    """The byte stream is not valid SSE (e.g. an event larger than the bound)."""


@dataclass(frozen=True, slots=True)
class SSEEvent:
    """One dispatched event: its `event:` name, joined `data:` lines and first-byte instant."""

    event: str
    data: bytes
    first_byte_ns: int


class SSEParser:
    """Feed chunks with their arrival instant; get the events they complete."""

    def __init__(self, max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES) -> None:
        self._max_event_bytes = max_event_bytes
        self._partial = bytearray()
        self._data: list[bytes] = []
        self._event_name = ""
        self._start_ns: int | None = None
        self._event_bytes = 0
        self._skip_lf = False  # a CR ended the previous chunk: a leading LF belongs to it

    def feed(self, chunk: bytes, now_ns: int) -> list[SSEEvent]:
        events: list[SSEEvent] = []
        pos, size = 0, len(chunk)
        if self._skip_lf and size and chunk[0] == _LF:
            pos = 1
        self._skip_lf = False
        while pos < size:
            end = _next_terminator(chunk, pos)
            if end < 0:
                if self._start_ns is None:
                    self._start_ns = now_ns
                self._partial += chunk[pos:]
                self._check_size(size - pos)
                break
            line = chunk[pos:end]
            if self._partial:
                line = bytes(self._partial) + line
                self._partial.clear()
            if chunk[end] == _CR:
                if end + 1 < size and chunk[end + 1] == _LF:
                    end += 1
                elif end + 1 == size:
                    self._skip_lf = True
            pos = end + 1
            self._line(line, now_ns, events)
        return events

    def _check_size(self, added: int) -> None:
        self._event_bytes += added
        if self._event_bytes > self._max_event_bytes:
            raise SSEFormatError(f"SSE event larger than {self._max_event_bytes} bytes")

    def _line(self, line: bytes, now_ns: int, events: list[SSEEvent]) -> None:
        if not line:
            if self._data and self._start_ns is not None:
                events.append(
                    SSEEvent(self._event_name or "message", b"\n".join(self._data), self._start_ns)
                )
            self._data = []
            self._event_name = ""
            self._start_ns = None
            self._event_bytes = 0
            return
        if self._start_ns is None:
            self._start_ns = now_ns
        self._check_size(len(line))
        if line[0] == 0x3A:  # ":" comment (keep-alive)
            return
        name, sep, value = line.partition(b":")
        if sep and value[:1] == b" ":
            value = value[1:]
        if name == b"data":
            self._data.append(value)
        elif name == b"event":
            self._event_name = value.decode("utf-8", errors="replace")
        # "id" and "retry" mean nothing for a one-shot completion stream.

    @property
    def pending(self) -> bool:
        """True while an event has started but not been dispatched."""
        return bool(self._partial or self._data)


def _next_terminator(chunk: bytes, start: int) -> int:
    lf = chunk.find(b"\n", start)
    cr = chunk.find(b"\r", start, lf if lf >= 0 else len(chunk))
    return cr if cr >= 0 else lf
