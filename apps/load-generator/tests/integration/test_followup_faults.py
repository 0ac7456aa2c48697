"""The follow-up question endpoint times out, returns 500, returns garbage: every chat turn
still gets a question (the local bank), within the timeout, counted by reason; the endpoint
is left alone for the cool-down, then tried again."""

from __future__ import annotations

import random
import time

import aiohttp
import pytest

from demo_testing.bad_openai import bad_openai_server
from demo_testing.doubles import FakeClock
from loadgen.workloads.followup import FollowupQuestions
from loadgen.workloads.followup_remote import OpenAIQuestionSource

pytestmark = pytest.mark.integration
BANK = ["What else?", "Why is that?"]
HISTORY = [{"role": "user", "content": "Tell me about rivers."}]


@pytest.mark.parametrize(
    ("mode", "reason"),
    [("stall", "timeout"), ("http_500", "http_500"), ("garbage", "bad_response"),
     ("binary", "bad_response"), ("html", "bad_response")],
)  # fmt: skip
async def test_a_failing_followup_endpoint_falls_back_within_the_timeout(
    mode: str, reason: str
) -> None:
    clock = FakeClock()
    async with bad_openai_server() as server, aiohttp.ClientSession() as session:
        remote = OpenAIQuestionSource(session, base_url=f"{server.url}/{mode}/v1", model="small",
                                      api_key="k", timeout_s=0.5)  # fmt: skip
        questions = FollowupQuestions(remote, BANK, random.Random(1), clock, cooldown_s=15)
        started = time.monotonic()
        first = await questions.next("rivers", HISTORY)
        elapsed = time.monotonic() - started
        second = await questions.next("rivers", HISTORY)  # inside the cool-down: not tried
        clock.advance(16_000_000_000)
        third = await questions.next("rivers", HISTORY)  # tried again after it
    assert (first.source, first.reason) == ("fallback", reason)
    assert first.text in BANK
    # The stall lasts an hour and the bound is 0.5 s: under 10 s proves the bound ended it, with
    # room for the event-loop stalls of a loaded 2-core machine (~1 s seen).
    assert elapsed < 10.0
    assert (second.source, second.reason) == ("fallback", "circuit_open")
    assert (third.source, third.reason) == ("fallback", reason)
    assert server.served[mode] == 2
    status = questions.status()
    assert status.counts == {f"fallback/{reason}": 2, "fallback/circuit_open": 1}
    assert status.last_fallback_reason == reason
