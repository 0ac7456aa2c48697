"""Probes on the bytes the load generator receives: SSE events counted by arrival time, and
the server's own per-request TTFT read off the stream.

Events are counted per network read (every `data:` line, usage-only and [DONE] included: all
of them cost the client a parse) into 10 ms bins, so a step's events/s includes streams that
were still open, or cancelled, when the run stopped.

Dynamo 1.6.1 returns `nvext.timing` (request received -> first token, in float ms) in the last
content chunk when the request asks for `nvext.extra_fields: ["timing"]`. A transport wrapper
keeps the last few network reads of each stream (that chunk is near the end) and parses them
once the stream is over; nothing else in the client changes. Which request a
stream belongs to travels in a context variable, because the streaming client calls the
transport inside the task that sends the request.
"""

from __future__ import annotations

import contextvars
import json
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from loadgen.client.transport import PushResponse, StreamResponse, Transport

TIMING_MARKER = b'"timing"'
TIMING_EXTRA_BODY = {"nvext": {"extra_fields": ["timing"]}}


BIN_NS = 10_000_000
KEPT_READS = 8  # the timing chunk, the usage-only chunk and [DONE] may each be a read


@dataclass
class TimingSlot:
    """The last network reads of one request's stream."""

    reads: deque[bytes] = field(default_factory=lambda: deque(maxlen=KEPT_READS))

    def server_ttft_ms(self) -> float | None:
        return extract_server_ttft_ms(b"".join(self.reads))


class EventCounter:
    """SSE `data:` lines received, in 10 ms bins of the perf_counter clock."""

    def __init__(self) -> None:
        self.bins: dict[int, int] = {}

    def add(self, at_ns: int, chunk: bytes) -> None:
        n = chunk.count(b"data:")
        if n:
            key = at_ns // BIN_NS
            self.bins[key] = self.bins.get(key, 0) + n

    def between(self, start_ns: int, end_ns: int) -> int:
        """Events in the bins that start inside [start_ns, end_ns)."""
        first, last = -(-start_ns // BIN_NS), end_ns // BIN_NS
        return sum(n for key, n in self.bins.items() if first <= key < last)


CURRENT_SLOT: contextvars.ContextVar[TimingSlot | None] = contextvars.ContextVar(
    "loadgen_bench_timing_slot", default=None
)


def extract_server_ttft_ms(raw: bytes) -> float | None:
    """`nvext.timing.ttft_ms` from raw SSE bytes (the chunks around the marker), if present."""
    for line in raw.splitlines():
        if not line.startswith(b"data:") or TIMING_MARKER not in line:
            continue
        try:
            chunk = json.loads(line[5:])
        except ValueError:
            continue  # a partial line at the start of the kept bytes
        timing = (chunk.get("nvext") or {}).get("timing") if isinstance(chunk, dict) else None
        value = timing.get("ttft_ms") if isinstance(timing, dict) else None
        if isinstance(value, int | float):
            return float(value)
    return None


class _Tapped:
    """What both tapped responses pass through unchanged."""

    def __init__(
        self, inner: StreamResponse | PushResponse, counter: EventCounter, slot: TimingSlot | None
    ) -> None:
        self._counter = counter
        self._slot = slot
        self._base = inner

    @property
    def status(self) -> int:
        return self._base.status

    async def read_body(self, limit: int) -> bytes:
        return await self._base.read_body(limit)

    def tap(self, chunk: bytes) -> None:
        self._counter.add(time.perf_counter_ns(), chunk)
        if self._slot is not None:
            self._slot.reads.append(chunk)


class _TappedResponse(_Tapped):
    def __init__(
        self, inner: StreamResponse, counter: EventCounter, slot: TimingSlot | None
    ) -> None:
        super().__init__(inner, counter, slot)
        self._inner = inner

    async def chunks(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner.chunks():
            self.tap(chunk)
            yield chunk


class _TappedPushResponse(_Tapped):
    def __init__(self, inner: PushResponse, counter: EventCounter, slot: TimingSlot | None) -> None:
        super().__init__(inner, counter, slot)
        self._inner = inner

    async def pump(self, on_chunk: Callable[[bytes], bool]) -> bool:
        def tapped(chunk: bytes) -> bool:
            self.tap(chunk)
            return on_chunk(chunk)

        return await self._inner.pump(tapped)


class ProbeTransport:
    """A Transport that passes everything through, counts events and fills the current
    TimingSlot (when the sender set one)."""

    def __init__(self, inner: Transport, counter: EventCounter) -> None:
        self._inner = inner
        self._counter = counter

    @asynccontextmanager
    async def post_stream(
        self, url: str, body: bytes, headers: Mapping[str, str]
    ) -> AsyncIterator[StreamResponse | PushResponse]:
        async with self._inner.post_stream(url, body, headers) as response:
            slot = CURRENT_SLOT.get()
            if isinstance(response, PushResponse):
                yield _TappedPushResponse(response, self._counter, slot)
            else:
                yield _TappedResponse(response, self._counter, slot)
