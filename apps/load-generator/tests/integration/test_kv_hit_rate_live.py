"""The KV cache hit rate the audience sees, on the live local stack: one prompt sent six times
reads >= 5/6 on the app's own API (GET /api/kv-cache and the newest GET /api/history point),
and a Prometheus that does not answer reads "unavailable", never a number."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from demo_common.corpus import load_corpus
from demo_common.net import free_port
from demo_testing.app_server import app_serving
from demo_testing.doubles import write_tiny_corpus
from demo_testing.prompts import prompt_of_exact_length
from loadgen.adapters.prometheus_query import PrometheusReader
from loadgen.api import create_app
from loadgen.demo_script import load_demo_script
from loadgen.settings import Settings
from localcluster import LocalCluster

pytestmark = pytest.mark.integration
REPEATS = 6
WINDOW_S = 60.0  # the query's rate window
PROMPT_TOKENS = 'sum(dynamo_component_router_input_sequence_tokens_sum{phase="prefill"})'


@asynccontextmanager
async def app_on(stack: LocalCluster, prometheus_url: str, tmp: Path) -> AsyncIterator[str]:
    settings = Settings(
        endpoint_url=stack.frontend_url,
        model=stack.model_name,
        prometheus_url=prometheus_url,
        port=free_port(),
        ui_dir=tmp / "no-ui",
        summary_dir=tmp / "sessions",
    )
    app = create_app(
        settings,
        script=load_demo_script(),
        corpus=load_corpus(write_tiny_corpus(tmp / "corpus")),
        presenter_token="kv-test-presenter",
        metrics_reader=PrometheusReader(prometheus_url),
    )
    async with app_serving(app, settings.port) as url:
        yield url


async def get(http: aiohttp.ClientSession, url: str, **params: str) -> Any:
    async with http.get(url, params=params) as response:
        assert response.status == 200, await response.text()
        return await response.json()


async def prometheus_value(http: aiohttp.ClientSession, base: str, expr: str) -> float | None:
    answer = await get(http, f"{base}/api/v1/query", query=expr)
    result = answer["data"]["result"]
    return float(result[0]["value"][1]) if result else None


async def chat(http: aiohttp.ClientSession, stack: LocalCluster, text: str) -> int:
    """One non-streaming request straight to the Dynamo frontend; its prompt tokens."""
    body = {
        "model": stack.model_name,
        "messages": [{"role": "user", "content": text}],
        "max_tokens": 2,
        "stream": False,
    }
    async with http.post(f"{stack.frontend_url}/v1/chat/completions", json=body) as response:
        assert response.status == 200, await response.text()
        return int((await response.json())["usage"]["prompt_tokens"])


async def points_after(http: aiohttp.ClientSession, app: str, after_s: float) -> Any:
    """GET /api/history?after=; the view once it holds a point, else None."""
    view = await get(http, f"{app}/api/history", after=str(after_s))
    return view if view["points"] else None


def epoch_s(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


async def block_size(http: aiohttp.ClientSession, stack: LocalCluster) -> int:
    async with http.get(f"{stack.frontend_url}/metrics") as response:
        for line in (await response.text()).splitlines():
            if line.startswith("dynamo_frontend_model_kv_cache_block_size"):
                return int(float(line.rsplit(" ", 1)[1]))
    raise AssertionError("the frontend exports no dynamo_frontend_model_kv_cache_block_size")


async def until(check: Any, timeout_s: float, what: str) -> Any:
    deadline = time.monotonic() + timeout_s
    last = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(0.5)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what} (last: {last!r})")


async def test_one_prompt_sent_six_times_reads_at_least_five_sixths(
    local_stack: LocalCluster, tmp_path: Path
) -> None:
    prom = local_stack.prometheus_url
    async with app_on(local_stack, prom, tmp_path) as app, aiohttp.ClientSession() as http:
        block = await block_size(http, local_stack)
        # A warm-up prompt sent twice: both router counters exist and the cached one is not 0.
        # (rate() never extrapolates a counter to before its zero: a cached counter still at 0
        # when the window opens would be extrapolated less than the prompt-token counter.)
        warm, _ = prompt_of_exact_length(f"warm {secrets.token_hex(8)}", 600, block)
        for _ in range(2):
            await chat(http, local_stack, warm)
        # A quiet minute: the window then holds the repeats and nothing else. Meanwhile the
        # screens say so rather than show the warm-up's number.
        await asyncio.sleep(WINDOW_S + 3)
        quiet = await until(
            lambda: get(http, f"{app}/api/kv-cache"), 10, "a KV reading after the quiet minute"
        )
        assert quiet["status"] == "no_data", quiet
        assert quiet["ratio"] is None

        text, tokens = prompt_of_exact_length(f"repeat {secrets.token_hex(8)}", 1500, block)
        before = await prometheus_value(http, prom, PROMPT_TOKENS) or 0.0
        sent = [await chat(http, local_stack, text) for _ in range(REPEATS)]
        assert sent == [tokens] * REPEATS, "the tokenizer disagrees with Dynamo"

        async def scraped() -> bool:
            value = await prometheus_value(http, prom, PROMPT_TOKENS)
            return value is not None and value >= before + REPEATS * tokens

        await until(scraped, 30, "Prometheus scraping every repeat")
        scraped_at = time.time()

        async def fresh_reading() -> Any:
            kv = await get(http, f"{app}/api/kv-cache")
            # Read after the scrape, even had the query taken its whole timeout (2 s).
            later = kv["read_at"] and epoch_s(kv["read_at"]) > scraped_at + 2.5
            return kv if kv["status"] == "live" and later else None

        kv = await until(fresh_reading, 15, "a live KV reading after the scrape")
        # A point's KV is read after its snapshot: points stamped after the scrape hold it.
        history = await until(
            lambda: points_after(http, app, scraped_at + 2.5), 15, "a point after the scrape"
        )

    floor = (REPEATS - 1) / REPEATS
    print(f"KV hit rate on /api/kv-cache after {REPEATS} x {tokens} tokens: {kv['ratio']:.4f}")
    assert floor - 1e-9 <= kv["ratio"] <= 1 + 1e-9, kv
    newest = history["points"][-1]
    assert newest["kv_hit_ratio"] is not None
    assert floor - 1e-9 <= newest["kv_hit_ratio"] <= 1 + 1e-9, newest


async def test_prometheus_not_answering_reads_unavailable(
    local_stack: LocalCluster, tmp_path: Path
) -> None:
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    async with app_on(local_stack, dead, tmp_path) as app, aiohttp.ClientSession() as http:

        async def read() -> Any:
            kv = await get(http, f"{app}/api/kv-cache")
            return kv if kv["detail"].startswith("Prometheus") else None

        kv = await until(read, 15, "a KV reading from the dead Prometheus")
        history = await until(lambda: points_after(http, app, 0), 15, "a first point")
    assert kv["status"] == "unavailable"
    assert kv["ratio"] is None
    assert history["kv"]["status"] == "unavailable"
    # Points are still recorded while Prometheus is down: gaps in the KV line, not a stop.
    assert all(p["kv_hit_ratio"] is None for p in history["points"])
