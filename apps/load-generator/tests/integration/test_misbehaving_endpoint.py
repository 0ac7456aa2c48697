"""A misbehaving OpenAI endpoint (garbage SSE, truncated streams, stalls, huge events, wrong
content type, 500s, error events): every request ends as a counted error with its reason, the
app keeps serving, and the session's counts add up."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest

from demo_common.corpus import load_corpus
from demo_common.net import free_port
from demo_common.tokenizer import count_chat_tokens, count_tokens
from demo_testing.accounting import error_reasons, totals, unaccounted
from demo_testing.bad_openai import EXPECTED_REASON, MODES, bad_openai_server
from demo_testing.doubles import write_tiny_corpus
from loadgen.client import AiohttpTransport, StreamingClient, StreamingHttpTransport
from loadgen.clock import MonotonicClock
from loadgen.demo_script.load import LoadConfig, Mix
from loadgen.records import ChatRequest
from loadgen.settings import Settings

from .test_loadgen_api import AUTH, served_app

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("transport_type", [AiohttpTransport, StreamingHttpTransport])
@pytest.mark.parametrize("mode", sorted(MODES))
async def test_each_misbehaviour_ends_as_one_record_with_its_reason(
    mode: str, transport_type: type[AiohttpTransport | StreamingHttpTransport]
) -> None:
    request = ChatRequest(workload="reasoning", messages=({"role": "user", "content": "hi"},),
                          max_tokens=8)  # fmt: skip
    async with (
        bad_openai_server() as server,
        transport_type(read_timeout_s=0.5) as transport,
    ):
        client = StreamingClient(
            transport, base_url=f"{server.url}/{mode}", model="m", count_tokens=count_tokens,
            count_chat_tokens=count_chat_tokens, clock=MonotonicClock(), request_timeout_s=5.0,
        )  # fmt: skip
        record = await asyncio.wait_for(client.send(request), 10)
    assert (record.status, record.reason) == (
        "ok" if mode == "ok" else "error",
        EXPECTED_REASON[mode],
    ), record.detail
    assert len(record.detail) <= 500  # a huge body is not copied into the record


async def test_the_app_keeps_serving_and_counts_every_misbehaviour(tmp_path: Path) -> None:
    corpus = load_corpus(write_tiny_corpus(tmp_path / "corpus"))
    async with bad_openai_server() as server:
        settings = Settings(
            endpoint_url=f"{server.url}/cycle", port=free_port(), ui_dir=tmp_path / "no-ui",
            read_timeout_s=0.5, request_timeout_s=5.0, summary_dir=tmp_path / "sessions",
            drain_s=2.0,
        )  # fmt: skip
        config = LoadConfig(rps=8, mix=Mix(chat=1, summarization=1, reasoning=1), max_in_flight=8)
        async with served_app(settings, corpus) as url, aiohttp.ClientSession() as http:
            put = await http.put(f"{url}/api/workload/config", json=config.model_dump(),
                                 headers=AUTH)  # fmt: skip
            assert put.status == 200
            assert (await http.post(f"{url}/api/workload/start", headers=AUTH)).status == 200
            for _ in range(8):
                await asyncio.sleep(0.5)
                assert (await http.get(f"{url}/healthz")).status == 200
                assert (await http.get(f"{url}/api/status")).status == 200
            stopped = await http.post(f"{url}/api/workload/stop", headers=AUTH)
            summary = (await stopped.json())["summary"]
            assert (await http.get(f"{url}/metrics")).status == 200
    assert unaccounted(summary) == []
    total = totals(summary)
    assert total["arrivals"] >= 15
    assert total["errors"] > 0
    assert total["ok"] > 0
    seen = set(error_reasons(summary))
    # Every failing mode served during the run shows up as its reason.
    expected = {EXPECTED_REASON[m] for m in server.served if m != "ok"}
    assert expected <= seen | {"stopped"}, (expected, seen)
