"""Benchmark: what disaggregation buys on the local stack, against the aggregated baseline.

Same two GPU slots, same 70B-on-H200 profile, real time: 2 aggregated workers (the baseline)
versus 1 prefill + 1 decode worker. Decode-heavy streams run closed-loop while long prompts
arrive open-loop; prefill work that shares a worker with decoding stretches the streams'
inter-token latency, which is the interference the booth demo is about.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from demo_common.net import free_port
from demo_common.percentile import percentile
from demo_common.tokenizer import count_tokens
from loadgen.client.stream import StreamingClient
from loadgen.client.transport import AiohttpTransport
from loadgen.records import ChatRequest, RequestRecord
from localcluster.background import BackgroundCluster
from localcluster.settings import LocalClusterSettings

Serving = Literal["aggregated", "disaggregated"]
ITL_SLO_MS = 60.0  # the demo's ITL SLO (demo_script/demo-script.yaml)
DECODE_STREAMS = 16
DECODE_OUTPUT_TOKENS = 400
LONG_PROMPT_TOKENS = 12_000


def _long_prompt(rng: random.Random) -> str:
    """~12k tokens, unique from its first line so no request hits the prefix cache."""
    sentence = "The booth compares prefill and decode on separate GPUs with a shared pool. "
    per_sentence = count_tokens(sentence)
    body = sentence * (LONG_PROMPT_TOKENS // per_sentence)
    return f"Request {rng.randrange(10**12)}. Summarise in one line.\n{body}"


def _ms(values: list[float], q: float) -> float | None:
    value = percentile(values, q)
    return None if value is None else round(value, 2)


async def _drive(url: str, model: str, seconds: float, long_rps: float) -> dict[str, Any]:
    rng = random.Random(11)
    streams: list[RequestRecord] = []
    longs: list[RequestRecord] = []
    deadline = time.monotonic() + seconds
    async with AiohttpTransport() as transport, asyncio.TaskGroup() as group:
        client = StreamingClient(transport, base_url=url, model=model, count_tokens=count_tokens)

        async def decode_stream(index: int) -> None:
            while time.monotonic() < deadline:
                request = ChatRequest(
                    "reasoning",
                    ({"role": "user", "content": f"Stream {index}-{rng.random()}: explain."},),
                    max_tokens=DECODE_OUTPUT_TOKENS,
                    min_tokens=DECODE_OUTPUT_TOKENS,
                    ignore_eos=True,
                )
                streams.append(await client.send(request))

        async def long_prompt() -> None:
            messages = ({"role": "user", "content": _long_prompt(rng)},)
            longs.append(await client.send(ChatRequest("summarization", messages, max_tokens=8)))

        for index in range(DECODE_STREAMS):
            group.create_task(decode_stream(index))
        await asyncio.sleep(3.0)  # the decode batch fills up before the first long prompt
        while time.monotonic() < deadline - 5.0:
            group.create_task(long_prompt())
            await asyncio.sleep(rng.expovariate(long_rps))
    itl_ms = [itl / 1e6 for r in streams if r.ok for itl, _ in r.itl_per_token_ns()]
    long_ttft_ms = [r.ttft_ns / 1e6 for r in longs if r.ok and r.ttft_ns is not None]
    return {
        "decode_requests": len(streams),
        "long_prompts": len(longs),
        "errors": sum(not r.ok for r in [*streams, *longs]),
        "long_prompt_input_tokens": max((r.input_tokens or 0 for r in longs), default=0),
        "decode_itl_ms": {
            "p50": _ms(itl_ms, 50),
            "p99": _ms(itl_ms, 99),
            "p99.9": _ms(itl_ms, 99.9),
            "max": _ms(itl_ms, 100),
        },
        # Stalls are rare per token but every stream sees them: count the tokens over the SLO.
        "decode_tokens_over_itl_slo": sum(v > ITL_SLO_MS for v in itl_ms),
        "decode_tokens": len(itl_ms),
        "long_prompt_ttft_ms": {
            "p50": _ms(long_ttft_ms, 50),
            "p95": _ms(long_ttft_ms, 95),
        },
    }


def measure(serving: Serving, workdir: Path, seconds: float, long_rps: float) -> dict[str, Any]:
    settings = LocalClusterSettings(
        env="prod",
        serving=serving,
        speed=1.0,
        frontend_port=free_port(),
        prometheus_port=free_port(),
        control_port=free_port(),
        workdir=workdir / serving,
        initial_prefill=1 if serving == "disaggregated" else 0,
        initial_decode=1 if serving == "disaggregated" else 2,
    )
    with BackgroundCluster(settings) as cluster:
        result = asyncio.run(_drive(cluster.frontend_url, cluster.model_name, seconds, long_rps))
    return {"serving": serving, "gpus": 2, **result}


def render_markdown(result: dict[str, Any]) -> str:
    rows = []
    for serving in ("aggregated", "disaggregated"):
        r = result[serving]
        itl, ttft = r["decode_itl_ms"], r["long_prompt_ttft_ms"]
        rows.append(
            f"| {serving} | {r['decode_requests']} | {r['long_prompts']} | {r['errors']} "
            f"| {itl['p50']} / {itl['p99']} / {itl['p99.9']} / {itl['max']} "
            f"| {r['decode_tokens_over_itl_slo']} of {r['decode_tokens']} "
            f"| {ttft['p50']} / {ttft['p95']} |"
        )
    header = [
        "# Disaggregation versus the aggregated baseline (local stack, 70B/H200 profile)",
        "",
        f"2 GPU slots either way, real time. {DECODE_STREAMS} closed-loop decode streams of "
        f"{DECODE_OUTPUT_TOKENS} tokens; ~{LONG_PROMPT_TOKENS:,}-token prompts arriving at "
        f"{result['long_rps']:g}/s for {result['seconds']:g} s.",
        "",
        "| serving | decode requests | long prompts | errors "
        "| decode ITL p50 / p99 / p99.9 / max (ms) "
        f"| decode tokens over the {ITL_SLO_MS:g} ms ITL SLO | long-prompt TTFT p50 / p95 (ms) |",
        "|---|---|---|---|---|---|---|",
    ]
    return "\n".join([*header, *rows]) + "\n"


def run(workdir: Path, quick: bool, log: Callable[[str], None]) -> dict[str, Any]:
    workdir.mkdir(parents=True, exist_ok=True)
    seconds, long_rps = (25.0, 0.5) if quick else (60.0, 0.5)
    result: dict[str, Any] = {"seconds": seconds, "long_rps": long_rps}
    for serving in ("aggregated", "disaggregated"):
        log(f"disagg: {serving}, {seconds:g} s ...")
        result[serving] = measure(serving, workdir, seconds, long_rps)
    (workdir / "disagg.md").write_text(render_markdown(result))
    return result
