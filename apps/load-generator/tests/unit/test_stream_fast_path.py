"""The client's cheap per-event path gives the very record the full parse gives.

Each stream is Dynamo-shaped compact JSON (the shape the byte checks read); it is sent through
the client with `event_parsing="fast"` and `"full"`, cut into network reads at every kind of
boundary, and the two records must be equal field for field.
"""

from __future__ import annotations

import json
import random
from typing import Any

import orjson
import pytest

from demo_testing.doubles import FakeClock, MemoryTransport, ScriptedResponse
from loadgen.client import ChatRequest, StreamingClient, scan
from loadgen.client.stream import EventParsing
from loadgen.records import RequestRecord

MS = 1_000_000


def event(obj: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(obj, separators=(",", ":")).encode() + b"\n\n"


def chunk(
    content: str | None = None,
    tokens: int | None = None,
    *,
    role: bool = False,
    reasoning: str | None = None,
    finish: str | None = None,
) -> bytes:
    """A compact chat.completion.chunk like Dynamo 1.6.1's (cumulative usage per event)."""
    delta: dict[str, Any] = {}
    if role:
        delta["role"] = "assistant"
    if content is not None:
        delta["content"] = content
    if reasoning is not None:
        delta["reasoning_content"] = reasoning
    body: dict[str, Any] = {
        "id": "chatcmpl-1",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
        "created": 1,
        "model": "m",
        "object": "chat.completion.chunk",
    }
    if tokens is not None:
        body["usage"] = {"prompt_tokens": 12, "completion_tokens": tokens,
                         "total_tokens": 12 + tokens}  # fmt: skip
    return event(body)


def usage_only(completion: int, cached: int = 4) -> bytes:
    return event({"id": "chatcmpl-1", "choices": [], "model": "m", "usage": {
        "prompt_tokens": 12, "completion_tokens": completion, "total_tokens": 12 + completion,
        "prompt_tokens_details": {"cached_tokens": cached}}})  # fmt: skip


DONE = b"data: [DONE]\n\n"
TYPICAL = [
    chunk("", 0, role=True),  # role-only first chunk
    chunk("Hello", 1),
    chunk(' "quoted" \\"content\\":\\"x', 2),  # text that looks like a key
    chunk("", 2),  # empty content: not a content event
    chunk(" two", 4),  # two tokens in one event
    chunk(None, 5, reasoning=" think"),
    chunk(" end", 6, finish="length"),
    usage_only(6),
    DONE,
]


def reads(events: list[bytes], rng: random.Random | None) -> list[tuple[int, bytes]]:
    """The stream as network reads 7 ms apart: one per event, or cut at random offsets."""
    raw = b"".join(events)
    if rng is None:
        return [(7 * MS, e) for e in events]
    cuts = sorted(rng.sample(range(1, len(raw)), k=min(len(raw) - 1, rng.randrange(1, 40))))
    pieces = [raw[a:b] for a, b in zip([0, *cuts], [*cuts, len(raw)], strict=True)]
    return [(7 * MS, p) for p in pieces]


async def send(
    chunks: list[tuple[int, bytes | Exception]], mode: EventParsing, keep_text: bool = True
) -> RequestRecord:
    clock = FakeClock(start_ns=0)
    transport = MemoryTransport(clock, [ScriptedResponse(chunks=chunks)])
    client = StreamingClient(transport, base_url="http://x", model="m",
                             count_tokens=lambda text: len(text.split()), clock=clock,
                             event_parsing=mode)  # fmt: skip
    request = ChatRequest(workload="chat", messages=({"role": "user", "content": "hi"},),
                          max_tokens=8, keep_text=keep_text)  # fmt: skip
    return await client.send(request, intended_ns=0)


def view(record: RequestRecord) -> dict[str, Any]:
    return {**record.to_json(), "gaps": record.gaps, "text": record.text,
            "first": record.first_token_ns, "second": record.second_token_ns}  # fmt: skip


async def same_record(chunks: list[tuple[int, bytes | Exception]]) -> RequestRecord:
    fast, full = await send(chunks, "fast"), await send(chunks, "full")
    assert view(fast) == view(full)
    return fast


async def test_typical_stream_fields() -> None:
    record = await same_record(list(reads(TYPICAL, None)))
    assert record.ok, record.detail
    assert record.content_events == 5
    assert [n for _, n in record.gaps] == [1, 2, 1, 1]  # the empty event's token rides along
    assert (record.output_tokens, record.input_tokens, record.cached_tokens) == (6, 12, 4)
    assert record.finish_reason == "length"
    assert record.text == 'Hello "quoted" \\"content\\":\\"x two think end'


@pytest.mark.parametrize("seed", range(40))
async def test_reads_cut_anywhere_give_the_same_record(seed: int) -> None:
    record = await same_record(reads(TYPICAL, random.Random(seed)))
    assert record.ok, record.detail


async def test_the_fast_path_skips_the_json_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = 0
    real = orjson.loads

    def counting(data: bytes | str) -> Any:
        nonlocal calls
        calls += 1
        return real(data)

    monkeypatch.setattr(orjson, "loads", counting)
    events = [chunk("", 0, role=True)] + [chunk(" w", n) for n in range(1, 101)] + [DONE]
    record = await send(reads(events, None), "fast", keep_text=False)
    assert record.ok
    assert record.content_events == 100
    assert calls <= 3  # role chunk, first content chunk, the last usage at the end
    calls = 0
    await send(reads(events, None), "full", keep_text=False)
    assert calls == 101


@pytest.mark.parametrize(
    ("tail", "reason"),
    [
        ([event({"error": {"message": "worker died", "code": 503}}), DONE], "stream_error"),
        ([b"event: error\ndata: {}\n\n"], "stream_error"),
        ([b"data: {not json}\n\n"], "malformed"),
        ([b'data: {"id":1}\n\n'], "malformed"),
        ([], "disconnect"),
    ],
)
async def test_failures_after_the_fast_path_started(tail: list[bytes], reason: str) -> None:
    record = await same_record(reads([chunk("a", 1), chunk("b", 2), *tail], None))
    assert (record.status, record.reason) == ("error", reason)
    assert record.content_events == 2  # what was measured before the failure is kept


async def test_usage_missing_mid_stream_falls_back_to_the_tokenizer() -> None:
    events = [chunk("a", 1), chunk("b", 2), chunk(" three words here"), chunk("c", 6), DONE]
    record = await same_record(reads(events, None))
    assert record.ok
    assert record.token_source == "tokenizer"  # as the full parse says: one event had no usage


@pytest.mark.parametrize(
    "events",
    [
        [b"data: " + json.dumps({"choices": [{"delta": {"content": "a"}}],
                                 "usage": {"completion_tokens": 1}}).encode() + b"\n\n",
         b"data: " + json.dumps({"choices": [{"delta": {"content": "b"}}],
                                 "usage": {"completion_tokens": 2}}).encode() + b"\n\n",
         DONE],  # spaced JSON: the byte checks would miss it, so it is parsed in full
        [chunk("a", 1).replace(b"\n", b"\r\n"), chunk("b", 2).replace(b"\n", b"\r\n"),
         DONE.replace(b"\n", b"\r\n")],  # CRLF line ends
        [chunk("a", 1), b": keep-alive\n\n", chunk("b", 2), DONE],  # a comment mid-stream
        [chunk("a", 1), b"data: " + chunk("b", 2)[6:-2] + b"\n\n\n", DONE],  # extra blank line
    ],
)  # fmt: skip
async def test_unusual_framing_takes_the_exact_path(events: list[bytes]) -> None:
    record = await same_record(reads(events, None))
    assert record.ok, record.detail
    assert record.content_events == 2


def test_byte_checks_on_compact_chunks() -> None:
    data = chunk(' "content":"', 3, finish="stop")[6:-2]
    assert scan.carries_text(data)
    assert scan.plain_chunk(data)
    assert (scan.completion_tokens(data), scan.finish_reason(data)) == (3, "stop")
    assert not scan.carries_text(chunk("", 1, role=True)[6:-2])
    assert not scan.carries_text(usage_only(3)[6:-2])
    assert scan.carries_text(chunk(None, 1, reasoning="r")[6:-2])
    assert scan.finish_reason(chunk("x", 1)[6:-2]) is None
    assert not scan.plain_chunk(event({"error": "x", "choices": []})[6:-2])


def test_framer_stamps_each_event_with_its_first_byte() -> None:
    seen: list[tuple[bytes, int]] = []
    framer = scan.EventFramer(lambda name, data, at: seen.append((data, at)) and False)
    assert not framer.feed(b"data: a\n", 1)
    assert not framer.feed(b"\ndata: b\n\nda", 2)
    assert not framer.feed(b"ta: c\n\n", 3)
    assert seen == [(b"a", 1), (b"b", 2), (b"c", 2)]
