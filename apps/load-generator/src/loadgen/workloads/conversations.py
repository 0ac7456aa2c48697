"""Bounded store of recent chat conversations (newest kept) with per-turn measurements and text."""

from __future__ import annotations

from collections import OrderedDict
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from loadgen.records import RequestRecord

ConversationState = Literal["active", "complete", "failed", "stopped"]
QuestionKind = Literal["opening", "remote", "fallback"]


class TurnView(BaseModel):
    """One turn as the UI shows it."""

    model_config = ConfigDict(extra="forbid")

    turn: int
    question: str
    question_source: QuestionKind
    question_reason: str
    status: str
    reason: str
    answer: str
    ttft_ms: float | None
    ttst_ms: float | None
    itl_mean_ms: float | None
    e2e_ms: float | None
    input_tokens: int | None
    output_tokens: int | None
    cached_tokens: int | None


class ConversationSummary(BaseModel):
    """A conversation without its turns (list route)."""

    model_config = ConfigDict(extra="forbid")

    id: str
    topic: str
    passage_id: str
    started_at: datetime
    state: ConversationState
    planned_turns: int
    turns_done: int


class Conversation(ConversationSummary):
    """A conversation with its turns (detail route)."""

    turns: list[TurnView]


def _ms(value_ns: int | float | None) -> float | None:
    return None if value_ns is None else round(value_ns / 1e6, 3)


class ConversationStore:
    """Keeps the `capacity` most recently started conversations."""

    def __init__(self, capacity: int = 200, answer_chars: int = 4000) -> None:
        if capacity < 1:
            raise ValueError("capacity must be >= 1")
        self._capacity = capacity
        self._answer_chars = answer_chars
        self._items: OrderedDict[str, Conversation] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def start(self, conversation_id: str, topic: str, passage_id: str, planned_turns: int) -> None:
        self._items[conversation_id] = Conversation(
            id=conversation_id,
            topic=topic,
            passage_id=passage_id,
            started_at=datetime.now(UTC),
            state="active",
            planned_turns=planned_turns,
            turns_done=0,
            turns=[],
        )
        while len(self._items) > self._capacity:
            self._items.popitem(last=False)

    def add_turn(
        self,
        conversation_id: str,
        question: str,
        question_source: QuestionKind,
        question_reason: str,
        record: RequestRecord,
    ) -> None:
        conv = self._items.get(conversation_id)
        if conv is None:  # evicted meanwhile: the newest are kept, by design
            return
        itl = [v for v, n in record.itl_per_token_ns() for _ in range(n)]
        conv.turns.append(
            TurnView(
                turn=record.turn,
                question=question,
                question_source=question_source,
                question_reason=question_reason,
                status=record.status,
                reason=record.reason,
                answer=record.text[: self._answer_chars],
                ttft_ms=_ms(record.ttft_ns),
                ttst_ms=_ms(record.ttst_ns),
                itl_mean_ms=_ms(sum(itl) / len(itl)) if itl else None,
                e2e_ms=_ms(record.e2e_ns),
                input_tokens=record.input_tokens,
                output_tokens=record.output_tokens,
                cached_tokens=record.cached_tokens,
            )
        )
        conv.turns_done = len(conv.turns)

    def finish(self, conversation_id: str, state: ConversationState) -> None:
        conv = self._items.get(conversation_id)
        if conv is not None:
            conv.state = state

    def summaries(self) -> list[ConversationSummary]:
        """Newest first."""
        return [
            ConversationSummary.model_validate(c.model_dump(exclude={"turns"}))
            for c in reversed(self._items.values())
        ]

    def get(self, conversation_id: str) -> Conversation | None:
        return self._items.get(conversation_id)
