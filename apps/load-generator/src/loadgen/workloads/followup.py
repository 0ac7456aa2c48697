"""Follow-up questions for chat turns 2+: a remote small model when configured, else a local bank.

Every question is counted by source and reason (`remote/ok`, `fallback/not_configured`,
`fallback/timeout`, ...), so a fallback is visible on the status route and in the metrics,
never silent. After a remote failure the remote is left alone for a cool-down (reason
`circuit_open`) so a dead endpoint does not stall every conversation by its timeout.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from loadgen.clock import Clock, s_to_ns
from loadgen.errors import FollowupError
from loadgen.records import Message

QuestionOrigin = Literal["remote", "fallback"]


class QuestionSource(Protocol):
    """Writes the next question of a conversation; raises FollowupError(reason, detail)."""

    @property
    def description(self) -> str: ...

    async def next_question(self, topic: str, history: Sequence[Message]) -> str: ...


@dataclass(frozen=True, slots=True)
class Question:
    text: str
    source: QuestionOrigin
    reason: str  # "ok" for remote questions


@dataclass(frozen=True, slots=True)
class FollowupStatus:
    mode: Literal["remote", "local_bank"]
    remote: str | None
    counts: dict[str, int]
    last_fallback_reason: str | None
    last_error: str | None


class FollowupQuestions:
    """Chooses remote or fallback for each question and counts what it chose."""

    def __init__(
        self,
        remote: QuestionSource | None,
        bank: Sequence[str],
        rng: random.Random,
        clock: Clock,
        *,
        cooldown_s: float = 15.0,
        on_question: Callable[[QuestionOrigin, str], None] | None = None,
    ) -> None:
        if not bank:
            raise ValueError("the fallback question bank is empty")
        self._remote = remote
        self._bank = list(bank)
        self._rng = rng
        self._clock = clock
        self._cooldown_ns = s_to_ns(cooldown_s)
        self._retry_at_ns: int | None = None
        self._on_question = on_question
        self._counts: Counter[str] = Counter()
        self._last_fallback_reason: str | None = None
        self._last_error: str | None = None

    async def next(self, topic: str, history: Sequence[Message]) -> Question:
        if self._remote is None:
            return self._fallback("not_configured")
        now = self._clock.now_ns()
        if self._retry_at_ns is not None and now < self._retry_at_ns:
            return self._fallback("circuit_open")
        try:
            text = await self._remote.next_question(topic, history)
        except FollowupError as exc:
            self._retry_at_ns = self._clock.now_ns() + self._cooldown_ns
            self._last_error = exc.detail[:300]
            return self._fallback(exc.reason)
        self._retry_at_ns = None
        self._count("remote", "ok")
        return Question(text, "remote", "ok")

    def _fallback(self, reason: str) -> Question:
        self._last_fallback_reason = reason
        self._count("fallback", reason)
        return Question(self._rng.choice(self._bank), "fallback", reason)

    def _count(self, source: QuestionOrigin, reason: str) -> None:
        self._counts[f"{source}/{reason}"] += 1
        if self._on_question is not None:
            self._on_question(source, reason)

    def status(self) -> FollowupStatus:
        return FollowupStatus(
            mode="remote" if self._remote is not None else "local_bank",
            remote=None if self._remote is None else self._remote.description,
            counts=dict(self._counts),
            last_fallback_reason=self._last_fallback_reason,
            last_error=self._last_error,
        )
