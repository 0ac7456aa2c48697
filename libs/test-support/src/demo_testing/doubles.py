"""Test doubles: a virtual-time clock and an in-memory transport for the load generator's ports.

They let unit tests (and benchmark self-checks) drive the engine and the streaming client
without sleeping or opening sockets.
"""

from __future__ import annotations

import asyncio
import heapq
import json
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_SETTLE_ROUNDS = 50


class FakeClock:
    """Virtual monotonic time: sleepers wake only when a test advances the clock."""

    def __init__(self, start_ns: int = 1_000_000_000) -> None:
        self._now = start_ns
        self._seq = 0
        self._sleepers: list[tuple[int, int, asyncio.Future[Any]]] = []

    speed = 1.0

    def now_ns(self) -> int:
        return self._now

    def advance(self, delta_ns: int) -> None:
        """Move time forward without waking anyone (for code that only reads the clock)."""
        self._now += delta_ns

    async def sleep_until(self, deadline_ns: int, wake: asyncio.Event | None = None) -> bool:
        if wake is not None and wake.is_set():
            return False
        if deadline_ns <= self._now:
            await asyncio.sleep(0)
            return True
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._seq += 1
        heapq.heappush(self._sleepers, (deadline_ns, self._seq, fut))
        if wake is None:
            await fut
            return True
        waiter: asyncio.Future[Any] = asyncio.ensure_future(wake.wait())
        try:
            done, _ = await asyncio.wait({fut, waiter}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()
        if fut in done:
            return True
        fut.cancel()
        return False

    async def settle(self) -> None:
        """Let every runnable task run until it waits again."""
        for _ in range(_SETTLE_ROUNDS):
            await asyncio.sleep(0)

    async def run_until(self, target_ns: int) -> None:
        """Advance to `target_ns`, waking sleepers in deadline order."""
        await self.settle()
        while self._sleepers and self._sleepers[0][0] <= target_ns:
            deadline, _, fut = heapq.heappop(self._sleepers)
            if fut.done():
                continue
            self._now = max(self._now, deadline)
            fut.set_result(None)
            await self.settle()
        self._now = max(self._now, target_ns)
        await self.settle()

    async def run_for(self, delta_ns: int) -> None:
        await self.run_until(self._now + delta_ns)


@dataclass
class ScriptedResponse:
    """A canned HTTP response: status, and body chunks each preceded by a clock advance."""

    status: int = 200
    chunks: Sequence[tuple[int, bytes | Exception]] = ()
    error_body: bytes = b""
    open_error: Exception | None = None


@dataclass
class MemoryTransport:
    """Transport port over canned responses; remembers every request body it was given."""

    clock: FakeClock
    responses: list[ScriptedResponse]
    requests: list[dict[str, Any]] = field(default_factory=list)

    @asynccontextmanager
    async def post_stream(
        self, url: str, body: bytes, headers: Mapping[str, str]
    ) -> AsyncIterator[_MemoryResponse]:
        self.requests.append({"url": url, "body": json.loads(body), "headers": dict(headers)})
        script = self.responses.pop(0)
        if script.open_error is not None:
            raise script.open_error
        yield _MemoryResponse(self.clock, script)


class _MemoryResponse:
    def __init__(self, clock: FakeClock, script: ScriptedResponse) -> None:
        self._clock = clock
        self._script = script

    @property
    def status(self) -> int:
        return self._script.status

    async def read_body(self, limit: int) -> bytes:
        return self._script.error_body[:limit]

    async def chunks(self) -> AsyncIterator[bytes]:
        for advance_ns, data in self._script.chunks:
            self._clock.advance(advance_ns)
            if isinstance(data, Exception):
                raise data
            yield data


def sse_chunk(content: str, completion_tokens: int | None = None, **extra: Any) -> bytes:
    """One `data:` event of an OpenAI chat-completion stream (cumulative usage optional)."""
    payload: dict[str, Any] = {
        "choices": [{"index": 0, "delta": {"content": content}, "finish_reason": None}]
    }
    if completion_tokens is not None:
        payload["usage"] = {"prompt_tokens": 10, "completion_tokens": completion_tokens}
    payload.update(extra)
    return b"data: " + json.dumps(payload).encode() + b"\n\n"


def sse_usage(prompt: int, completion: int, cached: int | None = None) -> bytes:
    """The final usage-only event."""
    usage: dict[str, Any] = {"prompt_tokens": prompt, "completion_tokens": completion}
    if cached is not None:
        usage["prompt_tokens_details"] = {"cached_tokens": cached}
    return b"data: " + json.dumps({"choices": [], "usage": usage}).encode() + b"\n\n"


SSE_DONE = b"data: [DONE]\n\n"


def write_tiny_corpus(folder: Path, *, passage_words: int = 300, document_words: int = 800) -> Path:
    """A small but valid corpus folder (layout: docs/contracts.md) for tests and smoke runs."""
    from demo_common.corpus import (
        COMPLETE_MARKER,
        DOCUMENTS_FILE,
        MANIFEST_FILE,
        PASSAGES_FILE,
        PROMPTS_FILE,
        Document,
        Passage,
        Prompt,
        encode_jsonl,
    )
    from demo_common.objectstore import sha256_hex
    from demo_common.tokenizer import count_tokens

    def words(topic: str, n: int) -> str:
        return " ".join(
            f"{topic}{i % 17} flows." if i % 9 == 8 else f"{topic}{i % 13}" for i in range(n)
        )

    passages = [
        Passage(id=f"p{i}", topic=topic, text=(t := words(topic, passage_words)),
                tokens=count_tokens(t), source="generated")
        for i, topic in enumerate(("rivers", "volcanoes", "orbits"))
    ]  # fmt: skip
    documents = [
        Document(id=f"d{i}", title=f"Document {i}", text=(t := words(f"doc{i}x", document_words)),
                 tokens=count_tokens(t), bucket=10000, source="generated")
        for i in range(3)
    ]  # fmt: skip
    prompts = [
        Prompt(id=f"q{i}", category="explain", text=(t := f"Explain topic {i} step by step."),
               tokens=count_tokens(t), expected_output_tokens=500 + 100 * i)
        for i in range(3)
    ]  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    files: dict[str, Any] = {}
    for name, records in (
        (DOCUMENTS_FILE, documents),
        (PASSAGES_FILE, passages),
        (PROMPTS_FILE, prompts),
    ):
        data = encode_jsonl(records)
        (folder / name).write_bytes(data)
        files[name] = {"sha256": sha256_hex(data), "records": len(records), "bytes": len(data)}
    manifest = {"version": 1, "seed": 1, "created_at": "2026-01-01T00:00:00Z",
                "tokenizer": "llama-3", "files": files}  # fmt: skip
    (folder / MANIFEST_FILE).write_text(json.dumps(manifest))
    (folder / COMPLETE_MARKER).write_text("")
    return folder
