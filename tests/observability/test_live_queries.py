"""Every dashboard, rule and KEDA expression evaluated on live data, and the KV hit rate proven.

One real `loadgen demo` (Dynamo frontend + mocker pools + Prometheus with the project's rules +
the load generator) serves the module. The tests run in file order on it:
1. unique prompts on the fresh stack: the audience's KV hit rate reads ~0;
2. the scenario controller's auto mode (script phases, load, scaling steps), then manual mode
   with a presenter scale: every expression returns data, except the cluster-only ones
   (demo_observability.scope, the one list), and the audience layout is drawn as a PNG;
3. after a quiet minute, one long prompt sent N times: the hit rate reads >= (N-1)/N.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import time
import urllib.error
from collections.abc import Iterator
from pathlib import Path

import pytest
from live_stack import (
    LiveDemo,
    http,
    prompt_of_exact_length,
    start_demo,
    stop_demo,
    unique_prefix,
)

from demo_observability import rules as r
from demo_observability.catalogue import Expression, all_expressions, load_dashboards
from demo_observability.promapi import PrometheusAPI
from demo_observability.render import render_dashboard
from demo_testing.doubles import write_tiny_corpus

pytestmark = pytest.mark.integration

SCRAPE_S = 2.0  # the local stack's default scrape and rule-evaluation interval
WINDOW_S = 60.0  # the recording rules' rate window
REPEATS = 6
ISL_WORDS_REPEAT = 1500
PROMPT_TOKENS = 'sum(dynamo_component_router_input_sequence_tokens_sum{phase="prefill"})'


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveDemo]:
    work = tmp_path_factory.mktemp("live-obs")
    running = start_demo(work, write_tiny_corpus(work / "corpus"), preset="baseline")
    try:
        yield running
    finally:
        stop_demo(running)


@pytest.fixture(scope="module")
def api(demo: LiveDemo) -> PrometheusAPI:
    return PrometheusAPI(demo.prometheus)


def scalar(api: PrometheusAPI, expr: str) -> float | None:
    series = api.instant(expr)
    return series[0].points[-1][1] if series else None


def wait_until(api: PrometheusAPI, expr: str, ok: object, timeout_s: float = 60.0) -> float:
    deadline = time.monotonic() + timeout_s
    while True:
        value = scalar(api, expr)
        if value is not None and ok(value):  # type: ignore[operator]
            return value
        assert time.monotonic() < deadline, f"{expr} stayed at {value}"
        time.sleep(0.5)


def settle(api: PrometheusAPI, tokens_before: float, tokens_sent: int) -> None:
    """Wait until Prometheus scraped every sent prompt token, then for one more rule evaluation."""
    wait_until(api, PROMPT_TOKENS, lambda v: v >= tokens_before + tokens_sent, timeout_s=30)
    time.sleep(2 * SCRAPE_S)


def block_size(api: PrometheusAPI) -> int:
    value = wait_until(api, "max(dynamo_frontend_model_kv_cache_block_size)", lambda v: v > 0)
    return int(value)


def test_unique_prompts_read_as_no_kv_cache_hits(demo: LiveDemo, api: PrometheusAPI) -> None:
    """A stream of prompts sharing no KV block: the audience's hit rate reads ~0."""
    sent = 0
    before = scalar(api, PROMPT_TOKENS) or 0.0
    for i in range(8):
        text, _ = prompt_of_exact_length(unique_prefix(i), 400, block_size(api))
        sent += demo.chat(text)["prompt_tokens"]
        time.sleep(1.0)  # spread over several scrapes, so the 1m rate has samples to use
    settle(api, before, sent)
    value = scalar(api, r.KV_HIT_RATIO)
    assert value is not None
    assert math.isfinite(value), value
    print(f"KV hit rate after 8 unique prompts ({sent} tokens): {value:.4f}")
    assert value < 0.02, f"unique prompts read a KV hit rate of {value:.3f}"


def classify(api: PrometheusAPI, exprs: list[Expression], start_s: float, end_s: float) -> dict:
    """Range-evaluate each expression as Grafana would; what came back per expression."""
    out = {}
    for e in exprs:
        series = api.range(e.expr, start_s, end_s, SCRAPE_S)
        values = [v for s in series for _, v in s.points if math.isfinite(v)]
        out[e.label() + " | " + e.expr] = {
            "scope": e.scope,
            "series": len(series),
            "finite_points": len(values),
            "last": values[-1] if values else None,
        }
    return out


def presenter_scale(demo: LiveDemo) -> tuple[str, int]:
    """One pool change the GPU budget allows: grow prefill if a GPU is free, else shrink one."""
    pools = http("GET", f"{demo.app}/api/pools")
    desired = {name: pool["desired"] for name, pool in pools["pools"].items()}
    if pools["free_gpus"] > 0:
        pool, target = "prefill", desired["prefill"] + 1
    else:
        pool = "prefill" if desired["prefill"] > 1 else "decode"
        target = desired[pool] - 1
    assert target >= 1, pools
    http("PUT", f"{demo.app}/api/pools/{pool}", {"replicas": target}, token=demo.token)
    return pool, target


def drive_with_controller(demo: LiveDemo, api: PrometheusAPI) -> None:
    """Auto mode (the script's phases, loads and scaling steps), then manual mode with all
    three workloads (baseline preset) and a presenter scale."""
    http("POST", f"{demo.app}/api/scenario/auto", token=demo.token)
    wait_until(api, "count(loadgen_scenario_phase_info == 1)", lambda v: v >= 1)
    time.sleep(12)
    http("POST", f"{demo.app}/api/scenario/manual", token=demo.token)
    http("POST", f"{demo.app}/api/presets/baseline", token=demo.token)
    with contextlib.suppress(urllib.error.HTTPError):  # 409: the script's load still runs
        http("POST", f"{demo.app}/api/workload/start", token=demo.token)
    pool, target = presenter_scale(demo)
    wait_until(
        api,
        f'sum(dynamo_component_router_worker_registered{{worker_type="{pool}"}})',
        lambda v: v == target,
    )


def test_every_query_returns_data_under_load(demo: LiveDemo, api: PrometheusAPI) -> None:
    start_s = time.time()
    drive_with_controller(demo, api)
    time.sleep(max(0.0, start_s + 50 - time.time()))
    end_s = time.time()

    groups = {g["name"]: g for g in api.rule_groups()}
    assert r.GROUP in groups, f"the local Prometheus did not load {r.GROUP}: {list(groups)}"
    loaded = groups[r.GROUP]["rules"]
    assert {x["name"] for x in loaded} == {x.record for x in r.recording_rules()}
    assert all(x["health"] == "ok" for x in loaded), [
        (x["name"], x.get("lastError")) for x in loaded
    ]

    exprs = all_expressions()
    results = classify(api, exprs, start_s, end_s)
    print(json.dumps(results, indent=1))
    empty = [k for k, v in results.items() if v["scope"] == "live" and not v["finite_points"]]
    assert not empty, f"live queries without data: {empty}"
    assert sum(v["scope"] == "live" for v in results.values()) >= 55

    png = Path(os.environ.get("OBS_PNG") or (demo.log.parent / "audience.png"))
    drawn = render_dashboard(load_dashboards()["audience"], api, start_s, end_s, png)
    assert png.stat().st_size > 50_000
    live_panels = (
        "Time to first token (p50 / p95) vs SLO",
        "Chat TTFT p95: first turn vs follow-ups",
        "Inter-token latency (p50 / p95) vs SLO",
        "KV cache hit rate (prefill)",
        "Queue depth",
        "Pool sizes",
        "Output tokens/s",
    )
    assert all(drawn[title] > 0 for title in live_panels), drawn


def test_repeated_prompt_reads_at_least_n_minus_1_over_n(
    demo: LiveDemo, api: PrometheusAPI
) -> None:
    """One long prompt sent N times: every repeat reuses the prefix on the prefill worker."""
    # Ends arrivals whatever the mode (the workload may already be stopped: no 409 here).
    assert http("POST", f"{demo.app}/api/scenario/stop", token=demo.token)["mode"] == "stopped"
    wait_until(api, "sum(dynamo_frontend_inflight_requests)", lambda v: v == 0)
    # A quiet minute: the rule's 1m window then holds the repeats and nothing else.
    time.sleep(WINDOW_S + 2 * SCRAPE_S)
    text, tokens = prompt_of_exact_length(unique_prefix(9999), ISL_WORDS_REPEAT, block_size(api))
    before = scalar(api, PROMPT_TOKENS) or 0.0
    usages = [demo.chat(text) for _ in range(REPEATS)]
    assert {u["prompt_tokens"] for u in usages} == {tokens}, "tokenizer disagrees with Dynamo"
    settle(api, before, REPEATS * tokens)
    value = scalar(api, r.KV_HIT_RATIO)
    assert value is not None
    floor = (REPEATS - 1) / REPEATS
    print(f"KV hit rate after {REPEATS} x {tokens}-token prompt: {value:.4f} (floor {floor:.4f})")
    assert floor - 1e-9 <= value <= 1 + 1e-9
