"""Ports between the engine and its collaborators (the streaming client, record sinks)."""

from __future__ import annotations

from typing import Protocol

from loadgen.records import ChatRequest, RequestRecord


class RequestSender(Protocol):
    """What the engine needs from the streaming client (StreamingClient satisfies it)."""

    async def send(
        self, request: ChatRequest, *, intended_ns: int | None = None
    ) -> RequestRecord: ...


class RecordSink(Protocol):
    """Receives every finished or dropped request record."""

    def write(self, record: RequestRecord) -> None: ...

    def flush(self, *, wait: bool = True) -> None:
        """Persist what was written; wait=False (the 1 Hz tick) may finish in the background."""
        ...

    def close(self) -> None: ...
