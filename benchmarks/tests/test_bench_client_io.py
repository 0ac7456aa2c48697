"""The bytes the SSE source sends parse in the load generator's client as Dynamo's do; the
probe transport counts events and reads the server's TTFT; the driven workload's requests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from demo_bench.client_drive import DriveSpec, DriveStep, FixedShapeWorkload, load_prompts
from demo_bench.client_sse_source import (
    closing_events,
    content_event,
    http_chunk,
    parse_request,
)
from demo_bench.client_tap import (
    CURRENT_SLOT,
    TIMING_EXTRA_BODY,
    EventCounter,
    ProbeTransport,
    TimingSlot,
    extract_server_ttft_ms,
)
from demo_common.tokenizer import count_tokens
from demo_testing.doubles import FakeClock, MemoryTransport, ScriptedResponse
from loadgen.client import ChatRequest, StreamingClient

MS = 1_000_000


def source_stream(tokens: int, ttft_ms: float) -> list[bytes]:
    events = [
        content_event("m", i, 12, ttft_ms if i == tokens - 1 else None) for i in range(tokens)
    ]
    return [*events, closing_events("m", 12, tokens)]


async def test_source_stream_parses_like_dynamos_and_probe_reads_it() -> None:
    clock = FakeClock(start_ns=0)
    # The last two events arrive split across reads, the timing chunk cut in the middle.
    events = source_stream(4, ttft_ms=0.25)
    tail = events[-2] + events[-1]
    reads = [*events[:-2], tail[:40], tail[40:]]
    memory = MemoryTransport(clock, [ScriptedResponse(chunks=[(MS, r) for r in reads])])
    counter = EventCounter()
    client = StreamingClient(
        ProbeTransport(memory, counter), base_url="http://x", model="m",
        count_tokens=lambda text: 1, clock=clock,
    )  # fmt: skip
    slot = TimingSlot()
    token = CURRENT_SLOT.set(slot)
    try:
        record = await client.send(
            ChatRequest("reasoning", ({"role": "user", "content": "hi"},), max_tokens=4)
        )
    finally:
        CURRENT_SLOT.reset(token)
    assert record.status == "ok", record.detail
    assert record.output_tokens == 4
    assert record.token_source == "usage"
    assert record.finish_reason == "length"
    assert record.content_events == 4
    assert slot.server_ttft_ms() == pytest.approx(0.25)
    # 4 content events + usage-only + [DONE], counted on the probe's own (real) clock
    assert sum(counter.bins.values()) == 6


def test_extract_ttft_ignores_partial_and_foreign_lines() -> None:
    good = b'data: {"choices":[],"nvext":{"timing":{"ttft_ms":31.9}}}\n\n'
    assert extract_server_ttft_ms(b'ing":{"ttft_ms":1}}}\n\n' + good) == pytest.approx(31.9)
    assert extract_server_ttft_ms(b'data: {"nvext":{"timing":{}}}\n\n') is None
    assert extract_server_ttft_ms(b"data: [DONE]\n\n") is None


def test_http_chunk_and_request_parsing() -> None:
    assert http_chunk(b"abc") == b"3\r\nabc\r\n"
    body = json.dumps(
        {"model": "m", "max_tokens": 7, "messages": [{"role": "user", "content": "x" * 40}]}
    ).encode()
    assert parse_request(body) == ("m", 7, 10)
    with pytest.raises(json.JSONDecodeError):
        parse_request(b"not json")


def spec(**kw: object) -> DriveSpec:
    values: dict[str, object] = {
        "base_url": "http://x", "model": "m", "max_tokens": 16,
        "steps": [DriveStep(rate_rps=1.0, duration_s=1.0)],
    }  # fmt: skip
    values.update(kw)
    return DriveSpec.model_validate(values)


def test_workload_replays_aiperf_prompts_with_a_unique_first_line(tmp_path: Path) -> None:
    inputs = tmp_path / "inputs.json"
    payload = {"messages": [{"role": "user", "content": "sonnet text"}], "max_tokens": 16}
    inputs.write_text(json.dumps({"data": [{"session_id": "s0", "payloads": [payload]}]}))
    s = spec(prompts_file=inputs, server_timing=True, seed=3)
    workload = FixedShapeWorkload(s, load_prompts(s))
    first, second = workload.build(), workload.build()
    assert first.messages[0]["content"] == "[loadgen 3-1] sonnet text"
    assert second.messages[0]["content"] == "[loadgen 3-2] sonnet text"
    assert (first.max_tokens, first.min_tokens, first.ignore_eos) == (16, 16, True)
    assert first.extra_body == TIMING_EXTRA_BODY


def test_synthetic_prompt_reaches_the_requested_size() -> None:
    s = spec(isl_tokens=120, ignore_eos=False)
    (messages,) = load_prompts(s)
    assert 120 <= count_tokens(messages[0]["content"]) <= 140
    request = FixedShapeWorkload(s, [messages]).build()
    assert request.min_tokens is None
    assert not request.ignore_eos
    assert request.extra_body == {}
