"""Benchmark: cold start of `make demo` to the first streamed token, and the local stack's CPU
and memory idle and under a moderate chat load (prod layout, all 8 GPU slots in use).

The stack runs as its own process tree (the real CLI), so its cost is measured apart from the
load driver, which runs in this process and is reported on its own line.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import psutil

from demo_common.tokenizer import count_tokens
from loadgen.benchmarks.procs import process_tree, tree_cpu_s
from loadgen.client.records import ChatRequest, RequestRecord
from loadgen.client.stream import StreamingClient
from loadgen.client.transport import AiohttpTransport
from loadgen.localcluster.cluster import free_port

REPO_ROOT = Path(__file__).resolve().parents[5]
TARGETS = {"cold_start_s": 60.0, "cpu_cores_at_load": 1.5, "rss_mb": 2048.0}


def _ports_env(workdir: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DEMO_FRONTEND_PORT=str(free_port()),
        DEMO_PROMETHEUS_PORT=str(free_port()),
        DEMO_CONTROL_PORT=str(free_port()),
        LOADGEN_PORT=str(free_port()),
        DEMO_WORKDIR=str(workdir),
        **extra,
    )
    return env


def _first_token_s(frontend_url: str, model: str, started: float, timeout_s: float) -> float:
    """Seconds from `started` until a streamed completion delivers its first content token."""
    body = {
        "model": model,
        "messages": [{"role": "user", "content": "Say hello to the booth."}],
        "max_tokens": 4,
        "stream": True,
    }
    while time.monotonic() - started < timeout_s:
        try:
            with httpx.stream(
                "POST", f"{frontend_url}/v1/chat/completions", json=body, timeout=10
            ) as resp:
                if resp.status_code == 200:
                    for line in resp.iter_lines():
                        if '"content":"' in line:
                            return time.monotonic() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"no streamed token within {timeout_s:.0f} s")


def cold_start(workdir: Path, env_name: str = "prod") -> dict[str, Any]:
    """`make demo` (already installed) until the first streamed token through the frontend."""
    env = _ports_env(workdir / "cold", ENV=env_name, SPEED="1")
    started = time.monotonic()
    with process_tree(["make", "-s", "demo"], env, workdir / "cold-start.log", cwd=REPO_ROOT):
        seconds = _first_token_s(
            f"http://127.0.0.1:{env['DEMO_FRONTEND_PORT']}",
            "meta-llama/Llama-3.1-70B-Instruct" if env_name == "prod"
            else "meta-llama/Llama-3.1-8B-Instruct",
            started,
            timeout_s=180,
        )  # fmt: skip
    return {"env": env_name, "seconds": round(seconds, 2), "target_s": TARGETS["cold_start_s"]}


def _tree_rss_mb(root: psutil.Process) -> tuple[float, int]:
    """(RSS MB summed over the tree, process count)."""
    rss = 0.0
    procs = [root, *root.children(recursive=True)]
    for p in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            rss += p.memory_info().rss / 2**20
    return rss, len(procs)


async def _window(root: psutil.Process, seconds: float) -> dict[str, float]:
    me = psutil.Process()
    cpu0 = tree_cpu_s(root)
    mine0 = sum(me.cpu_times()[:2])
    t0 = time.monotonic()
    peak_rss = 0.0
    count = 0
    while time.monotonic() - t0 < seconds:
        await asyncio.sleep(1.0)
        rss, count = _tree_rss_mb(root)
        peak_rss = max(peak_rss, rss)
    cpu1 = tree_cpu_s(root)
    wall = time.monotonic() - t0
    return {
        "stack_cpu_cores": round((cpu1 - cpu0) / wall, 3),
        "stack_rss_mb_peak": round(peak_rss, 1),
        "stack_processes": count,
        "load_driver_cpu_cores": round((sum(me.cpu_times()[:2]) - mine0) / wall, 3),
        "seconds": round(wall, 1),
    }


def _median(values: list[float]) -> float | None:
    return round(values[len(values) // 2], 2) if values else None


def _chat_prompt(rng: random.Random, shared: str) -> list[dict[str, str]]:
    question = f"Question {rng.randrange(10**9)}: summarise the passage in three bullet points."
    return [{"role": "system", "content": shared}, {"role": "user", "content": question}]


async def _drive(frontend_url: str, model: str, rps: float, seconds: float) -> list[RequestRecord]:
    """Open-loop Poisson chat load: ~3k shared-prefix prompt tokens, 300 output tokens each."""
    rng = random.Random(7)
    shared = " ".join(
        f"Booth fact {i}: disaggregation splits prefill from decode." for i in range(230)
    )
    records: list[RequestRecord] = []
    async with AiohttpTransport() as transport, asyncio.TaskGroup() as group:
        client = StreamingClient(
            transport, base_url=frontend_url, model=model, count_tokens=count_tokens
        )

        async def one() -> None:
            request = ChatRequest("chat", tuple(_chat_prompt(rng, shared)), max_tokens=300)
            records.append(await client.send(request))

        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            group.create_task(one())
            await asyncio.sleep(rng.expovariate(rps))
    return records


async def _resources(root: psutil.Process, env: dict[str, str], rps: float, load_s: float,
                     idle_s: float) -> dict[str, Any]:  # fmt: skip
    control = f"http://127.0.0.1:{env['DEMO_CONTROL_PORT']}"
    frontend = f"http://127.0.0.1:{env['DEMO_FRONTEND_PORT']}"
    model = "meta-llama/Llama-3.1-70B-Instruct"
    _first_token_s(frontend, model, time.monotonic(), timeout_s=180)
    async with httpx.AsyncClient(timeout=10) as http:
        # All 8 GPU slots: 3 prefill + 5 decode (the prod layout after every scale-out).
        await http.put(f"{control}/pools/prefill", json={"replicas": 3})
        await http.put(f"{control}/pools/decode", json={"replicas": 5})
        for _ in range(120):
            pools = (await http.get(f"{control}/pools")).json()["pools"]
            if pools["prefill"]["ready"] == 3 and pools["decode"]["ready"] == 5:
                break
            await asyncio.sleep(0.5)
        else:
            raise TimeoutError("pools did not reach 3 + 5 ready workers")
    idle = await _window(root, idle_s)
    load_task = asyncio.create_task(_drive(frontend, model, rps, load_s))
    await asyncio.sleep(min(15.0, load_s / 4))  # let concurrency build up first
    loaded = await _window(root, load_s - min(15.0, load_s / 4))
    records = await load_task
    ok = [r for r in records if r.status == "ok"]
    out_tokens = sum(r.output_tokens or 0 for r in ok)
    ttft_ms = sorted(r.ttft_ns / 1e6 for r in ok if r.ttft_ns is not None)
    itl_ms = sorted(itl / 1e6 for r in ok for itl, _ in r.itl_per_token_ns())
    return {
        "layout": "prod, 3 prefill + 5 decode mocker workers, speed 1",
        "idle": idle,
        "load": {
            **loaded,
            "rps": rps,
            "requests": len(records),
            "errors": len(records) - len(ok),
            "output_tokens_per_s": round(out_tokens / load_s, 1),
            "ttft_p50_ms": _median(ttft_ms),
            "itl_p50_ms": _median(itl_ms),
        },
        "targets": {"cpu_cores": TARGETS["cpu_cores_at_load"], "rss_mb": TARGETS["rss_mb"]},
    }


def stack_resources(workdir: Path, rps: float, load_s: float, idle_s: float) -> dict[str, Any]:
    workdir.mkdir(parents=True, exist_ok=True)
    env = _ports_env(workdir / "resources", ENV="prod", SPEED="1", DEMO_READINESS_DELAY_S="0")
    argv = [sys.executable, "-m", "loadgen.localcluster", "up"]
    with process_tree(argv, env, workdir / "resources.log", cwd=REPO_ROOT) as (_, root):
        return asyncio.run(_resources(root, env, rps, load_s, idle_s))


def run(workdir: Path, quick: bool, log: Callable[[str], None]) -> dict[str, Any]:
    workdir.mkdir(parents=True, exist_ok=True)
    log("stack: cold start of `make demo` ...")
    result: dict[str, Any] = {"cold_start": cold_start(workdir)}
    log(f"stack: cold start {result['cold_start']['seconds']} s; resources ...")
    result["resources"] = stack_resources(
        workdir, rps=4.0, load_s=30.0 if quick else 90.0, idle_s=10.0 if quick else 30.0
    )
    return result
