"""Turns a preset's traffic into a mooncake trace for dynamo.replay, from the load generator's code.

Same seed, same sources as a live run: arrivals come from `loadgen.arrivals.PoissonArrivals`
seeded as the engine seeds its first session; summarization and reasoning requests are built by
the load generator's own workload classes (same RNG streams) and counted with the Llama-3 chat
format; chat conversations draw passage, turn count, opening question and think times the way
`ChatWorkload` does. What a trace cannot replay exactly, and how it is approximated:
- a chat answer is `max_tokens` tokens (the mocker always generates that many) and a follow-up
  question one of the fallback questions; turn k+1 arrives `think time` after turn k completes
  (mooncake `delay`), as the live conversation does;
- the interleaving of RNG draws between concurrent conversations follows arrival order, not
  completion order, so chat is the same distribution, not the same draws;
- the per-workload in-flight cap is not applied (presets are sized to stay under it).
Prefix sharing: each request's block hashes come from its content: a conversation's turns share
their history blocks; summarization prompts are salted (unique); a reasoning prompt that repeats
has the same blocks.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from demo_common.corpus import Corpus
from demo_common.tokenizer import count_chat_tokens, count_tokens
from loadgen.clock import NS_PER_S
from loadgen.demo_script.load import LoadConfig
from loadgen.demo_script.models import DemoScript
from loadgen.engine.arrivals import PoissonArrivals
from loadgen.records import ChatRequest, Workload
from loadgen.workloads.single import ReasoningWorkload, SummarizationWorkload

ANSWER_OVERHEAD_TOKENS = 5  # <|start_header_id|>assistant<|end_header_id|>\n\n ... <|eot_id|>


@dataclass(frozen=True)
class TraceRow:
    """One request as a mooncake trace line (times in ms; `delay` after the previous turn)."""

    session_id: str
    input_length: int
    output_length: int
    hash_ids: list[int]
    timestamp: float | None = None
    delay: float | None = None

    def to_json(self) -> str:
        row = {k: v for k, v in asdict(self).items() if v is not None}
        return json.dumps(row, separators=(",", ":"))


def workload_of(session_id: str) -> Workload:
    """The workload a trace session belongs to (its id starts with the workload's name)."""
    name = session_id.split("-", 1)[0]
    if name not in ("chat", "summarization", "reasoning"):
        raise ValueError(f"not a sizing session id: {session_id!r}")
    return name  # type: ignore[return-value]


def _block_ids(key: str, blocks: int) -> list[int]:
    """Stable ids for the blocks of a content stream (63-bit, from a hash of the key)."""
    base = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=7).digest(), "big")
    return [(base + i * 0x9E3779B1) % (1 << 62) for i in range(blocks)]


def _blocks(tokens: int, block: int) -> int:
    return (tokens + block - 1) // block


def _arrivals_ms(seed: int, workload: Workload, rate: float, duration_s: float) -> Iterator[float]:
    if rate <= 0:
        return
    schedule = PoissonArrivals(f"{seed}:{workload}:1:arrivals", rate, 0)
    while (due_ns := schedule.pop()) <= duration_s * NS_PER_S:
        yield due_ns / 1e6


def _single_rows(
    workload: Workload, request: ChatRequest, index: int, at_ms: float, block: int
) -> TraceRow:
    tokens = count_chat_tokens([dict(m) for m in request.messages])
    content_key = "|".join(m["content"] for m in request.messages)
    return TraceRow(
        session_id=f"{workload}-{index}",
        input_length=tokens,
        output_length=request.max_tokens,
        hash_ids=_block_ids(content_key, _blocks(tokens, block)),
        timestamp=round(at_ms, 3),
    )


def _chat_rows(
    script: DemoScript, corpus: Corpus, rng: random.Random, questions: random.Random,
    index: int, at_ms: float, block: int,
) -> list[TraceRow]:  # fmt: skip
    shape = script.workloads.chat
    conversation = f"c{index}-{rng.getrandbits(32):08x}"
    passage = rng.choice(corpus.passages)
    turns = rng.randint(shape.turns_min, shape.turns_max)
    system = shape.system_prompt.format(topic=passage.topic, passage=passage.text)
    if shape.unique_prefix:
        system = f"Conversation {conversation}.\n{system}"
    question = rng.choice(shape.opening_questions).format(topic=passage.topic, passage="")
    tokens = count_chat_tokens([{"role": "system", "content": system},
                                {"role": "user", "content": question}])  # fmt: skip
    stream = _block_ids(f"chat|{conversation}", _blocks(tokens, block) + turns * 64)
    rows: list[TraceRow] = []
    delay_ms: float | None = None
    for turn in range(1, turns + 1):
        rows.append(
            TraceRow(
                session_id=f"chat-{index}",
                input_length=tokens,
                output_length=shape.max_tokens,
                hash_ids=stream[: _blocks(tokens, block)],
                timestamp=round(at_ms, 3) if turn == 1 else None,
                delay=delay_ms,
            )
        )
        if turn == turns:
            break
        think_s = rng.expovariate(1.0 / shape.think_time_s) if shape.think_time_s else 0.0
        delay_ms = round(think_s * 1e3, 3)
        follow_up = questions.choice(shape.fallback_questions)
        tokens += shape.max_tokens + ANSWER_OVERHEAD_TOKENS + count_tokens(follow_up) + 5
    return rows


def build_trace(
    script: DemoScript, corpus: Corpus, load: LoadConfig, *, seed: int, duration_s: float,
    block: int,
) -> list[TraceRow]:  # fmt: skip
    """Every request `load` sends in `duration_s` seconds, ordered by first arrival."""
    shapes = script.workloads
    summarize = SummarizationWorkload(
        shapes.summarization, corpus.documents, random.Random(f"{seed}:summarization")
    )
    reason = ReasoningWorkload(shapes.reasoning, corpus.prompts, random.Random(f"{seed}:reasoning"))
    chat_rng, questions = random.Random(f"{seed}:chat"), random.Random(f"{seed}:questions")
    timed: list[tuple[float, list[TraceRow]]] = []
    workloads: tuple[Workload, ...] = ("chat", "summarization", "reasoning")
    for workload in workloads:
        rate = load.rate_of(workload)
        for index, at_ms in enumerate(_arrivals_ms(seed, workload, rate, duration_s), start=1):
            if workload == "chat":
                rows = _chat_rows(script, corpus, chat_rng, questions, index, at_ms, block)
            elif workload == "summarization":
                rows = [_single_rows("summarization", summarize.build(), index, at_ms, block)]
            else:
                rows = [_single_rows("reasoning", reason.build(), index, at_ms, block)]
            timed.append((at_ms, rows))
    timed.sort(key=lambda item: item[0])
    return [row for _, rows in timed for row in rows]


def write_trace(rows: list[TraceRow], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(row.to_json() + "\n" for row in rows))
    return path
