"""Plays a sizing trace against a live local stack, to check the replay against the real thing.

Each trace row becomes a chat request whose prompt has the row's token count and block-level
prefix sharing: block `h` of `hash_ids` is 32 single-token words drawn from `h`, so two rows
sharing leading hash ids share leading tokens (and the live KV router sees the same reuse the
replay does). A session's first turn is sent at its timestamp, later turns `delay` after the
previous one completes, as the replay schedules them. Times are measured at the client: TTFT to
the first content event, a request's ITL = (last - first event) / (tokens - 1).
"""

from __future__ import annotations

import asyncio
import functools
import json
import random
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

import aiohttp

from demo_bench.sizing.trace import TraceRow
from demo_common.tokenizer import count_chat_tokens, count_tokens

_CANDIDATE_WORDS = (
    "time year people way day man thing woman life child world school state family student "
    "group country problem hand part place case week company system program question work "
    "government number night point home water room mother area money story fact month lot "
    "right study book eye job word business issue side kind head house service friend father "
    "power hour game line end member law car city community name president team minute idea "
    "kid body information back parent face others level office door health person art war "
    "history party result change morning reason research girl guy moment air teacher force "
)


@functools.cache
def _single_token_words() -> tuple[str, ...]:
    return tuple(w for w in _CANDIDATE_WORDS.split() if count_tokens(" " + w) == 1)


def _block_text(block_id: int, tokens: int) -> str:
    rng = random.Random(block_id)
    words = _single_token_words()
    return "".join(" " + rng.choice(words) for _ in range(tokens))


def prompt_for(row: TraceRow, block: int) -> list[dict[str, str]]:
    """A one-message chat prompt with about `row.input_length` tokens and the row's blocks."""
    overhead = count_chat_tokens([{"role": "user", "content": ""}])
    body = max(1, row.input_length - overhead)
    parts, left = [], body
    for block_id in row.hash_ids:
        take = min(block, left)
        parts.append(_block_text(block_id, take))
        left -= take
        if left <= 0:
            break
    return [{"role": "user", "content": "".join(parts).strip()}]


async def _send(
    session: aiohttp.ClientSession, url: str, model: str, row: TraceRow, block: int
) -> dict[str, Any]:
    body = {
        "model": model, "messages": prompt_for(row, block), "max_tokens": row.output_length,
        "min_tokens": row.output_length, "ignore_eos": True, "stream": True,
        "stream_options": {"include_usage": True},
    }  # fmt: skip
    stamps: list[int] = []
    tokens = 0
    sent = time.perf_counter_ns()
    async with session.post(f"{url}/v1/chat/completions", json=body) as resp:
        if resp.status != 200:
            raise RuntimeError(f"HTTP {resp.status}: {await resp.text()}")
        async for raw in resp.content:
            line = raw.strip()
            if not line.startswith(b"data:") or line == b"data: [DONE]":
                continue
            event = json.loads(line[5:])
            if event.get("usage"):
                tokens = int(event["usage"]["completion_tokens"])
            choices = event.get("choices") or []
            if choices and choices[0].get("delta", {}).get("content"):
                stamps.append(time.perf_counter_ns())
    itl = (stamps[-1] - stamps[0]) / 1e6 / (tokens - 1) if tokens > 1 and stamps else 0.0
    return {"session_id": row.session_id, "ttft_ms": (stamps[0] - sent) / 1e6, "itl_ms": itl}


async def play(
    rows: Sequence[TraceRow], url: str, model: str, *, block: int, speed: float = 1.0
) -> list[Mapping[str, Any]]:
    """Send every row; per-request records shaped like the replay's (times in model ms)."""
    sessions: dict[str, list[TraceRow]] = defaultdict(list)
    for row in rows:
        sessions[row.session_id].append(row)
    records: list[Mapping[str, Any]] = []
    start = time.perf_counter()

    async def run_session(turns: list[TraceRow], http: aiohttp.ClientSession) -> None:
        first = turns[0].timestamp or 0.0
        await asyncio.sleep(max(0.0, first / 1e3 / speed - (time.perf_counter() - start)))
        for turn in turns:
            if turn.delay:
                await asyncio.sleep(turn.delay / 1e3 / speed)
            record = await _send(http, url, model, turn, block)
            record["ttft_ms"] *= speed
            record["itl_ms"] *= speed
            records.append(record)

    timeout = aiohttp.ClientTimeout(total=None, sock_read=600)
    connector = aiohttp.TCPConnector(limit=0)
    async with (
        aiohttp.ClientSession(timeout=timeout, connector=connector) as http,
        asyncio.TaskGroup() as group,
    ):
        for turns in sessions.values():
            group.create_task(run_session(turns, http))
    return records
