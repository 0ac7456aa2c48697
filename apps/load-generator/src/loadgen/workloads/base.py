"""What a workload needs from the engine (Runner) and from the corpus (record shapes)."""

from __future__ import annotations

from typing import Protocol

from loadgen.records import ChatRequest, RequestRecord, Workload, turn_label

__all__ = ["DocumentLike", "PassageLike", "PromptLike", "Runner", "WorkloadDriver", "turn_label"]


class Runner(Protocol):
    """The engine's side of one arrival: send requests, wait, know when to stop."""

    def now_ns(self) -> int: ...

    @property
    def stopping(self) -> bool: ...

    async def pause_until(self, deadline_ns: int) -> bool:
        """Wait until `deadline_ns`; False (early) when the session is stopping."""
        ...

    async def send(self, request: ChatRequest, intended_ns: int) -> RequestRecord:
        """Send one request (intended at `intended_ns`) and return its record."""
        ...


class WorkloadDriver(Protocol):
    """Turns one arrival into requests (a chat arrival is a whole conversation)."""

    @property
    def name(self) -> Workload: ...

    async def run_arrival(self, runner: Runner, intended_ns: int) -> None: ...


class PassageLike(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def topic(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def tokens(self) -> int: ...


class DocumentLike(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def tokens(self) -> int: ...
    @property
    def bucket(self) -> int: ...


class PromptLike(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def tokens(self) -> int: ...
    @property
    def expected_output_tokens(self) -> int: ...
