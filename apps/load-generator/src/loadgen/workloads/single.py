"""Workloads B (summarization, prefill-heavy) and C (reasoning, decode-heavy): one request each."""

from __future__ import annotations

import random
from collections.abc import Sequence
from itertools import count

from loadgen.demo_script.models import ReasoningShape, SummarizationShape
from loadgen.errors import WorkloadDataError
from loadgen.records import ChatRequest, Workload
from loadgen.workloads.base import DocumentLike, PromptLike, Runner


class SummarizationWorkload:
    """One 10-20k-token document -> a short summary with bounded `max_tokens`."""

    def __init__(
        self, shape: SummarizationShape, documents: Sequence[DocumentLike], rng: random.Random
    ) -> None:
        wanted = set(shape.buckets)
        self._documents = [d for d in documents if not wanted or d.bucket in wanted]
        if not self._documents:
            raise WorkloadDataError(
                "summarization: the corpus has no documents"
                + (f" in buckets {sorted(wanted)}" if wanted else "")
            )
        self._shape = shape
        self._rng = rng
        self._ids = count(1)

    @property
    def name(self) -> Workload:
        return "summarization"

    def build(self) -> ChatRequest:
        doc = self._rng.choice(self._documents)
        # A unique first line keeps repeated documents out of the prefix cache.
        salt = f"[request s-{next(self._ids)}-{self._rng.getrandbits(32):08x}]\n"
        prefix = salt if self._shape.unique_prefix else ""
        content = f"{prefix}{self._shape.instruction}\n\nTitle: {doc.title}\n\n{doc.text}"
        return ChatRequest(
            workload="summarization",
            messages=({"role": "user", "content": content},),
            max_tokens=self._shape.max_tokens,
        )

    async def run_arrival(self, runner: Runner, intended_ns: int) -> None:
        await runner.send(self.build(), intended_ns)


class ReasoningWorkload:
    """A short prompt -> 500..2000 output tokens, asked for with max_tokens (+ min_tokens)."""

    def __init__(
        self, shape: ReasoningShape, prompts: Sequence[PromptLike], rng: random.Random
    ) -> None:
        if not prompts:
            raise WorkloadDataError("reasoning: the corpus has no prompts")
        self._prompts = list(prompts)
        self._shape = shape
        self._rng = rng

    @property
    def name(self) -> Workload:
        return "reasoning"

    def build(self) -> ChatRequest:
        prompt = self._rng.choice(self._prompts)
        length = max(1, round(prompt.expected_output_tokens * self._shape.output_tokens_scale))
        honour = self._shape.request_min_tokens
        return ChatRequest(
            workload="reasoning",
            messages=({"role": "user", "content": prompt.text},),
            max_tokens=length,
            min_tokens=length if honour else None,
            ignore_eos=honour,
        )

    async def run_arrival(self, runner: Runner, intended_ns: int) -> None:
        await runner.send(self.build(), intended_ns)
