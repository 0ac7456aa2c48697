"""The streaming client against an in-memory transport and a fake clock: timings and errors."""

from __future__ import annotations

import pytest

from demo_testing.doubles import (
    SSE_DONE,
    FakeClock,
    MemoryTransport,
    ScriptedResponse,
    sse_chunk,
    sse_usage,
)
from loadgen.client import ChatRequest, StreamingClient
from loadgen.errors import TransportConnectError, TransportDisconnected, TransportTimeout

MS = 1_000_000


def make_client(*responses: ScriptedResponse) -> tuple[StreamingClient, MemoryTransport, FakeClock]:
    clock = FakeClock(start_ns=0)
    transport = MemoryTransport(clock, list(responses))
    client = StreamingClient(
        transport,
        base_url="http://x/",
        model="m",
        count_tokens=lambda text: len(text.split()),
        count_chat_tokens=lambda messages: 99,
        clock=clock,
    )
    return client, transport, clock


def request(**kw: object) -> ChatRequest:
    base: dict[str, object] = {
        "workload": "reasoning",
        "messages": ({"role": "user", "content": "hi"},),
        "max_tokens": 8,
    }
    base.update(kw)
    return ChatRequest(**base)  # type: ignore[arg-type]


async def test_timings_from_cumulative_usage() -> None:
    client, transport, _ = make_client(
        ScriptedResponse(
            chunks=[
                (100 * MS, sse_chunk("Hello", completion_tokens=1)),
                (20 * MS, sse_chunk(" big", completion_tokens=3)),  # 2 tokens in one event
                (30 * MS, sse_chunk(" world", completion_tokens=4)),
                (1 * MS, sse_usage(prompt=12, completion=4, cached=8) + SSE_DONE),
            ]
        )
    )
    record = await client.send(request(min_tokens=8, ignore_eos=True), intended_ns=-5 * MS)
    assert record.status == "ok", record.detail
    assert record.reason == "none"
    assert record.schedule_lag_ns == 5 * MS
    assert record.ttft_ns == 100 * MS
    assert record.ttst_ns == 20 * MS
    assert record.e2e_ns == 150 * MS
    assert list(record.itl_per_token_ns()) == [(10 * MS, 2), (30 * MS, 1)]
    assert (record.input_tokens, record.output_tokens, record.cached_tokens) == (12, 4, 8)
    assert record.token_source == "usage"
    body = transport.requests[0]["body"]
    assert transport.requests[0]["url"] == "http://x/v1/chat/completions"
    assert body["stream_options"] == {"include_usage": True, "continuous_usage_stats": True}
    assert (body["min_tokens"], body["ignore_eos"], body["max_tokens"]) == (8, True, 8)
    assert "nvext" not in body


async def test_tokenizer_fallback_without_streamed_usage() -> None:
    client, _, _ = make_client(
        ScriptedResponse(
            chunks=[
                (5 * MS, sse_chunk("one two")),
                (6 * MS, sse_chunk(" three four five")),
                (0, SSE_DONE),
            ]
        )
    )
    record = await client.send(request(keep_text=True))
    assert record.status == "ok"
    assert record.token_source == "tokenizer"
    assert record.output_tokens == 5
    assert record.input_tokens == 99  # from count_chat_tokens, as the server sent no usage
    assert list(record.itl_per_token_ns()) == [(2 * MS, 3)]
    assert record.text == "one two three four five"


async def test_reasoning_content_counts_as_content() -> None:
    reasoning = sse_chunk("", completion_tokens=1).replace(
        b'"content": ""', b'"reasoning_content": "think"'
    )
    client, _, _ = make_client(
        ScriptedResponse(chunks=[(7 * MS, reasoning), (3 * MS, sse_chunk("x", 2)), (0, SSE_DONE)])
    )
    record = await client.send(request())
    assert (record.status, record.ttft_ns, record.content_events) == ("ok", 7 * MS, 2)


async def test_http_error_status_is_classified_with_body() -> None:
    client, _, _ = make_client(ScriptedResponse(status=503, error_body=b'{"message":"busy"}'))
    record = await client.send(request())
    assert (record.status, record.reason, record.http_status) == ("error", "http_503", 503)
    assert "busy" in record.detail


@pytest.mark.parametrize(
    ("script", "reason"),
    [
        (ScriptedResponse(open_error=TransportConnectError("refused")), "connect"),
        (ScriptedResponse(open_error=TransportTimeout("slow")), "timeout"),
        (
            ScriptedResponse(chunks=[(1, sse_chunk("a", 1)), (1, TransportTimeout("idle"))]),
            "timeout",
        ),
        (
            ScriptedResponse(chunks=[(1, sse_chunk("a", 1)), (1, TransportDisconnected("reset"))]),
            "disconnect",
        ),
        (ScriptedResponse(chunks=[(1, sse_chunk("a", 1))]), "disconnect"),  # EOF before [DONE]
        (ScriptedResponse(chunks=[(1, b"data: {not json\n\n")]), "malformed"),
        (ScriptedResponse(chunks=[(1, b'data: {"id": 1}\n\n')]), "malformed"),
        (ScriptedResponse(chunks=[(1, b"data: [1, 2]\n\n")]), "malformed"),
        (
            ScriptedResponse(
                chunks=[
                    (1, sse_chunk("a", 1)),
                    (1, b'data: {"error": {"message": "Service unavailable", "code": 503}}\n\n'),
                    (0, SSE_DONE),
                ]
            ),
            "stream_error",
        ),
        (ScriptedResponse(chunks=[(1, b"event: error\ndata: {}\n\n")]), "stream_error"),
        (ScriptedResponse(chunks=[(1, sse_usage(3, 0) + SSE_DONE)]), "empty"),
    ],
)
async def test_bad_streams_become_error_records(script: ScriptedResponse, reason: str) -> None:
    client, _, _ = make_client(script)
    record = await client.send(request())
    assert (record.status, record.reason) == ("error", reason)
    assert record.end_ns is not None


async def test_partial_stream_keeps_what_was_measured() -> None:
    client, _, _ = make_client(
        ScriptedResponse(
            chunks=[
                (10 * MS, sse_chunk("a", 1)),
                (10 * MS, sse_chunk("b", 2)),
                (1, TransportDisconnected("worker died")),
            ]
        )
    )
    record = await client.send(request())
    assert (record.reason, record.ttft_ns, record.content_events) == ("disconnect", 10 * MS, 2)
    assert "worker died" in record.detail


async def test_request_ids_are_unique() -> None:
    ok = ScriptedResponse(chunks=[(1, sse_chunk("a", 1) + SSE_DONE)])
    client, _, _ = make_client(ok, ScriptedResponse(chunks=list(ok.chunks)))
    first, second = await client.send(request()), await client.send(request())
    assert first.request_id != second.request_id


async def test_longest_pause_and_frozen_time_come_from_the_content_gaps() -> None:
    client, _, _ = make_client(
        ScriptedResponse(
            chunks=[
                (100 * MS, sse_chunk("a", completion_tokens=1)),
                (30 * MS, sse_chunk(" b", completion_tokens=2)),
                (900 * MS, sse_chunk(" c", completion_tokens=3)),  # a co-scheduled prefill
                (250 * MS, sse_chunk(" d", completion_tokens=4)),  # exactly the threshold
                (300 * MS, sse_chunk(" e", completion_tokens=5)),
                (2 * MS, sse_usage(prompt=5, completion=5) + SSE_DONE),
            ]
        )
    )
    record = await client.send(request())
    assert record.ok, record.detail
    assert record.max_gap_ns == 900 * MS
    assert record.frozen_ns == 900 * MS + 300 * MS  # a gap of exactly 250 ms is not a freeze
    assert record.frozen
    line = record.to_json()
    assert (line["max_gap_ms"], line["frozen_ms"]) == (900.0, 1200.0)


async def test_one_content_event_has_no_gap() -> None:
    client, _, _ = make_client(
        ScriptedResponse(
            chunks=[(50 * MS, sse_chunk("all at once", completion_tokens=3)), (0, SSE_DONE)]
        )
    )
    record = await client.send(request())
    assert record.ok
    assert (record.max_gap_ns, record.frozen_ns, record.frozen) == (None, 0, False)


async def test_no_content_has_no_gap() -> None:
    client, _, _ = make_client(ScriptedResponse(chunks=[(5 * MS, sse_usage(3, 0) + SSE_DONE)]))
    record = await client.send(request())
    assert (record.status, record.reason) == ("error", "empty")
    assert (record.max_gap_ns, record.frozen_ns) == (None, 0)


async def test_a_late_usage_only_event_is_not_a_pause() -> None:
    # The final usage event comes 2 s after the last token: no reader waits for it.
    client, _, _ = make_client(
        ScriptedResponse(
            chunks=[
                (10 * MS, sse_chunk("x", completion_tokens=1)),
                (20 * MS, sse_chunk(" y", completion_tokens=2)),
                (2000 * MS, sse_usage(prompt=5, completion=2) + SSE_DONE),
            ]
        )
    )
    record = await client.send(request())
    assert record.ok
    assert (record.max_gap_ns, record.frozen_ns) == (20 * MS, 0)
