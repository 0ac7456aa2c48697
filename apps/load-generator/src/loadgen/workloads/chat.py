"""Workload A: multi-turn chat over a topic passage, resending the full history every turn.

The passage sits in the system message, first in every turn's history, so turns 2+ reuse its
KV blocks. Turn 1 asks an opening question; later turns ask follow-ups from FollowupQuestions.
A failed turn ends its conversation (there is no answer to build the next turn on).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from itertools import count

from loadgen.clock import s_to_ns
from loadgen.demo_script.models import ChatShape
from loadgen.errors import WorkloadDataError
from loadgen.records import ChatRequest, Message, Workload
from loadgen.workloads.base import PassageLike, Runner
from loadgen.workloads.conversations import ConversationStore, QuestionKind
from loadgen.workloads.followup import FollowupQuestions


class ChatWorkload:
    """Runs whole conversations; one arrival = one conversation."""

    def __init__(
        self,
        shape: ChatShape,
        passages: Sequence[PassageLike],
        questions: FollowupQuestions,
        store: ConversationStore,
        rng: random.Random,
    ) -> None:
        if not passages:
            raise WorkloadDataError("chat: the corpus has no passages")
        self._shape = shape
        self._passages = list(passages)
        self._questions = questions
        self._store = store
        self._rng = rng
        self._ids = count(1)

    @property
    def name(self) -> Workload:
        return "chat"

    def _system_message(self, conversation_id: str, passage: PassageLike) -> Message:
        text = self._shape.system_prompt.format(topic=passage.topic, passage=passage.text)
        if self._shape.unique_prefix:
            text = f"Conversation {conversation_id}.\n{text}"
        return {"role": "system", "content": text}

    async def run_arrival(self, runner: Runner, intended_ns: int) -> None:
        conversation_id = f"c{next(self._ids)}-{self._rng.getrandbits(32):08x}"
        passage = self._rng.choice(self._passages)
        turns = self._rng.randint(self._shape.turns_min, self._shape.turns_max)
        self._store.start(conversation_id, passage.topic, passage.id, turns)
        try:
            await self._converse(runner, intended_ns, conversation_id, passage, turns)
        except asyncio.CancelledError:  # cancelled by a stop after the drain bound
            self._store.finish(conversation_id, "stopped")
            raise

    async def _converse(
        self, runner: Runner, intended_ns: int, conversation_id: str, passage: PassageLike,
        turns: int,
    ) -> None:  # fmt: skip
        history: list[Message] = [self._system_message(conversation_id, passage)]
        question = self._rng.choice(self._shape.opening_questions).format(
            topic=passage.topic, passage=""
        )
        kind: QuestionKind = "opening"
        reason = "ok"
        due_ns = intended_ns
        for turn in range(1, turns + 1):
            history.append({"role": "user", "content": question})
            request = ChatRequest(
                workload="chat",
                messages=tuple(history),
                max_tokens=self._shape.max_tokens,
                turn=turn,
                conversation_id=conversation_id,
                keep_text=True,
            )
            record = await runner.send(request, due_ns)
            self._store.add_turn(conversation_id, question, kind, reason, record)
            if not record.ok:
                self._store.finish(conversation_id, "failed")
                return
            if turn == turns:
                break
            if runner.stopping:
                self._store.finish(conversation_id, "stopped")
                return
            history.append({"role": "assistant", "content": record.text})
            think_ns = self._think_ns()
            ready_ns = (record.end_ns or runner.now_ns()) + think_ns
            asked = await self._questions.next(passage.topic, history)
            question, kind, reason = asked.text, asked.source, asked.reason
            # A slow question source delays the turn; that is not scheduler lateness.
            due_ns = max(ready_ns, runner.now_ns())
            if not await runner.pause_until(due_ns):
                self._store.finish(conversation_id, "stopped")
                return
        self._store.finish(conversation_id, "complete")

    def _think_ns(self) -> int:
        mean_s = self._shape.think_time_s
        return s_to_ns(self._rng.expovariate(1.0 / mean_s)) if mean_s > 0 else 0
