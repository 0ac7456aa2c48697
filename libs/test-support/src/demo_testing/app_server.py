"""The load generator app served in-process by uvicorn on a free port, for fault tests."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import uvicorn
from fastapi import FastAPI

from demo_common.net import free_port
from loadgen.cli import AppServer
from loadgen.demo_script import default_script_path, load_demo_script
from loadgen.demo_script.models import DemoScript

# A two-phase cycle for the prod layout (8 GPUs, 2 prefill + 3 decode): short enough to run a
# few cycles at SPEED 10 in seconds, with a scale step early in each phase.
SHORT_CYCLE = """
layout:
  budget_gpus: 8
  initial: {prefill: 2, decode: 3}
phases:
  - id: decode-up
    name: Decode up
    caption: "a fourth decode worker"
    duration: 30s
    load: {rps: 2.0, mix: {chat: 1, reasoning: 1}, max_in_flight: 20}
    scale:
      - {at: +2s, pool: decode, replicas: 4}
  - id: prefill-up
    name: Prefill up
    caption: "decode gives a GPU to prefill"
    duration: 30s
    load: {rps: 2.0, mix: {chat: 1, summarization: 1}, max_in_flight: 20}
    scale:
      - {at: +2s, pool: decode, replicas: 3}
      - {at: +4s, pool: prefill, replicas: 3}
"""


def short_cycle_script(folder: Path) -> tuple[Path, DemoScript]:
    """The packaged script's presets and workloads with SHORT_CYCLE's layout and phases."""
    text = default_script_path().read_text()
    path = folder / "short-cycle.yaml"
    path.write_text(text[: text.index("\nlayout:")] + "\n" + SHORT_CYCLE)
    return path, load_demo_script(path)


@asynccontextmanager
async def app_serving(app: FastAPI, port: int | None = None) -> AsyncIterator[str]:
    """Serve `app` until the block ends; yields its base URL."""
    port = port or free_port()
    server = AppServer(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    async with asyncio.TaskGroup() as tg:
        task = tg.create_task(server.serve())
        await asyncio.wait_for(server.up.wait(), 60)
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            server.should_exit = True
            await task


async def wait_healthy(
    http: aiohttp.ClientSession, url: str, process: asyncio.subprocess.Process | None = None
) -> None:
    """Poll `url`/healthz until it answers 200 (60 s at most); fail early if `process` exits."""
    for _ in range(600):
        try:
            async with http.get(f"{url}/healthz") as response:
                if response.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        assert process is None or process.returncode is None, "the app exited at start"
        await asyncio.sleep(0.1)
    raise AssertionError(f"{url} did not become healthy in 60 s")


def record_numbers(results: Path, name: str, numbers: dict[str, Any]) -> None:
    """Write a fault's measured numbers to `results`/<name>.json (and print them)."""
    results.mkdir(parents=True, exist_ok=True)
    (results / f"{name}.json").write_text(json.dumps(numbers, indent=2) + "\n")
    print(f"\n{name}: {json.dumps(numbers)}")
