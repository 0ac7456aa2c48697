"""Follow-up questions (remote vs counted fallback) and the bounded conversation store."""

from __future__ import annotations

import json
import random
from collections.abc import Sequence

import pytest

from demo_testing.doubles import FakeClock
from loadgen.errors import FollowupError
from loadgen.records import Message, RequestRecord
from loadgen.workloads.conversations import ConversationStore
from loadgen.workloads.followup import FollowupQuestions
from loadgen.workloads.followup_remote import _extract_question

S = 1_000_000_000


class ScriptedSource:
    description = "scripted"

    def __init__(self, answers: list[str | FollowupError]) -> None:
        self.answers = answers
        self.calls = 0

    async def next_question(self, topic: str, history: Sequence[Message]) -> str:
        self.calls += 1
        answer = self.answers.pop(0)
        if isinstance(answer, FollowupError):
            raise answer
        return answer


async def test_remote_questions_fallback_reasons_and_cooldown() -> None:
    clock = FakeClock()
    source = ScriptedSource(["Why?", FollowupError("timeout", "slow"), "And then?"])
    counted: list[tuple[str, str]] = []
    questions = FollowupQuestions(
        source,
        ["bank question"],
        random.Random(1),
        clock,
        cooldown_s=10,
        on_question=lambda s, r: counted.append((s, r)),
    )
    history: list[Message] = []
    first = await questions.next("rivers", history)
    second = await questions.next("rivers", history)
    third = await questions.next("rivers", history)  # still cooling down: remote not asked
    clock.advance(11 * S)
    fourth = await questions.next("rivers", history)
    assert [(q.text, q.source, q.reason) for q in (first, second, third, fourth)] == [
        ("Why?", "remote", "ok"),
        ("bank question", "fallback", "timeout"),
        ("bank question", "fallback", "circuit_open"),
        ("And then?", "remote", "ok"),
    ]
    assert source.calls == 3
    assert counted == [(q.source, q.reason) for q in (first, second, third, fourth)]
    status = questions.status()
    assert status.mode == "remote"
    assert status.counts == {"remote/ok": 2, "fallback/timeout": 1, "fallback/circuit_open": 1}
    assert (status.last_fallback_reason, status.last_error) == ("circuit_open", "slow")


async def test_unconfigured_remote_is_a_counted_fallback() -> None:
    questions = FollowupQuestions(None, ["q"], random.Random(1), FakeClock())
    question = await questions.next("t", [])
    assert (question.source, question.reason) == ("fallback", "not_configured")
    assert questions.status().mode == "local_bank"


def completion(content: object) -> bytes:
    return json.dumps({"choices": [{"message": {"content": content}}]}).encode()


def test_question_extraction() -> None:
    assert _extract_question(completion('\n "What next?"\nextra line')) == "What next?"
    for raw, reason in (
        (b"not json", "bad_response"),
        (json.dumps({"choices": []}).encode(), "bad_response"),
        (completion(5), "bad_response"),
        (completion("  \n "), "empty"),
    ):
        with pytest.raises(FollowupError) as info:
            _extract_question(raw)
        assert info.value.reason == reason


def turn_record(turn: int, text: str) -> RequestRecord:
    return RequestRecord(
        request_id="r",
        workload="chat",
        turn=turn,
        conversation_id="c",
        status="ok",
        reason="none",
        intended_ns=0,
        send_ns=0,
        first_token_ns=5_000_000,
        last_token_ns=9_000_000,
        gaps=[(4_000_000, 2)],
        text=text,
        cached_tokens=64 * turn,
    )


def test_store_keeps_newest_and_records_turns() -> None:
    store = ConversationStore(capacity=2, answer_chars=5)
    for name in ("a", "b", "c"):
        store.start(name, topic="t", passage_id="p", planned_turns=2)
    assert [c.id for c in store.summaries()] == ["c", "b"]
    assert store.get("a") is None
    store.add_turn("a", "q", "opening", "ok", turn_record(1, "x"))  # evicted: ignored
    store.add_turn("c", "q1", "opening", "ok", turn_record(1, "answer text"))
    store.add_turn("c", "q2", "fallback", "not_configured", turn_record(2, "more"))
    store.finish("c", "complete")
    conv = store.get("c")
    assert conv is not None
    assert (conv.state, conv.turns_done) == ("complete", 2)
    first = conv.turns[0]
    assert (first.answer, first.ttft_ms, first.itl_mean_ms, first.cached_tokens) == (
        "answe",
        5.0,
        2.0,
        64,
    )
    assert conv.turns[1].question_reason == "not_configured"
