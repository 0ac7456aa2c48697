"""Fault: the local stack's real Prometheus stopped (SIGSTOP: queries hang until they time out,
as with a wedged or unreachable server) while the local KEDA drives the pools in manual mode.

Expected, and checked: the local KEDA holds each pool's size (KEDA without a `fallback` keeps
the replicas on scaler errors; k8s/keda configures none), the API says so
(`keda.pools.*.metrics_missing_since_s`, `note`, a timeline event, the
loadgen_keda_metrics_missing gauge), nothing scales on missing data, the app keeps serving,
and once Prometheus answers again the timeline says the metrics are back. The scenario
controller itself takes no decision from Prometheus (auto mode plays the script). The load
session's counts add up. Numbers: build/faults/prometheus_stopped.json.
"""

from __future__ import annotations

import asyncio
import functools
import os
import signal
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from demo_common.corpus import load_corpus
from demo_testing.accounting import error_reasons, totals, unaccounted
from demo_testing.app_server import app_serving, record_numbers
from demo_testing.doubles import write_tiny_corpus
from demo_testing.stack import TEST_SPEED
from loadgen.api import create_app
from loadgen.controller_wiring import open_backend_ports
from loadgen.demo_script import load_demo_script
from loadgen.settings import Settings
from localcluster.cluster import LocalCluster

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]
RESULTS = REPO / "build" / "faults"
TOKEN = "prometheus-fault-presenter-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
POOLS = ("prefill", "decode")
HOLD_WALL_S = 3.0  # kept stopped this long after both pools said they hold (30 demo s)


async def get(http: aiohttp.ClientSession, url: str) -> Any:
    async with http.get(url) as response:
        assert response.status == 200, await response.text()
        return await response.json()


async def wait_for(http: aiohttp.ClientSession, url: str, check: Any, what: str) -> Any:
    for _ in range(600):
        state = await get(http, f"{url}/api/scenario")
        if check(state["keda"]["pools"], state["timeline"]):
            return state
        await asyncio.sleep(0.1)
    raise AssertionError(f"{what}: not within 60 s")


async def test_prometheus_stopped_keda_holds_and_says_so(
    local_stack: LocalCluster, tmp_path: Path
) -> None:
    settings = Settings(
        endpoint_url=local_stack.frontend_url, model=local_stack.model_name,
        control_url=local_stack.control_url, prometheus_url=local_stack.prometheus_url,
        env="dev", keda_dir=REPO / "k8s/keda", speed=TEST_SPEED, ui_dir=tmp_path / "no-ui",
        scenario_state_file=tmp_path / "scenario.json", summary_dir=tmp_path / "sessions",
        drain_s=600.0,
    )  # fmt: skip
    # Short reasoning answers, so the stop drains every stream (as in test_faults.py).
    script = load_demo_script()
    reasoning = script.workloads.reasoning.model_copy(update={"output_tokens_scale": 0.1})
    script = script.model_copy(
        update={"workloads": script.workloads.model_copy(update={"reasoning": reasoning})}
    )
    app = create_app(
        settings, script=script, corpus=load_corpus(write_tiny_corpus(tmp_path / "corpus")),
        presenter_token=TOKEN, scenario_ports=functools.partial(open_backend_ports, settings),
    )  # fmt: skip
    prometheus = local_stack._prometheus.child if local_stack._prometheus else None
    assert prometheus is not None
    assert prometheus.pid is not None
    async with app_serving(app) as url, aiohttp.ClientSession() as http:
        config = {"rps": 1, "mix": {"chat": 1, "reasoning": 1}, "max_in_flight": 20}
        assert (await http.put(f"{url}/api/workload/config", json=config, headers=AUTH)).ok
        assert (await http.post(f"{url}/api/workload/start", headers=AUTH)).ok
        assert (await get(http, f"{url}/api/scenario"))["mode"] == "manual"
        await wait_for(http, url, lambda ps, _: all(ps[p]["metric"] is not None for p in POOLS),
                       "a first KEDA decision with a metric")  # fmt: skip
        before = await get(http, f"{url}/api/pools")
        stopped_at = time.monotonic()
        os.kill(prometheus.pid, signal.SIGSTOP)
        try:
            state = await wait_for(
                http, url, lambda ps, _: all(ps[p]["metrics_missing_since_s"] for p in POOLS),
                "both pools holding",
            )  # fmt: skip
            said_s = time.monotonic() - stopped_at
            gauge = await (await http.get(f"{url}/metrics")).text()
            samples: list[dict[str, int]] = []
            while time.monotonic() - stopped_at < said_s + HOLD_WALL_S:
                pools = (await get(http, f"{url}/api/pools"))["pools"]
                samples.append({p: pools[p]["desired"] for p in POOLS})
                await asyncio.sleep(0.2)
        finally:
            os.kill(prometheus.pid, signal.SIGCONT)
        held_s = time.monotonic() - stopped_at
        after = await wait_for(
            http, url, lambda ps, _: all(ps[p]["metrics_missing_since_s"] is None for p in POOLS),
            "metrics back",
        )  # fmt: skip
        back_s = time.monotonic() - stopped_at - held_s
        after = await wait_for(  # the controller's next poll (2 demo s) says so
            http, url, lambda _, tl: sum("metrics back" in e["message"] for e in tl) == 2,
            "metrics back on the timeline",
        )  # fmt: skip
        assert (await http.get(f"{url}/healthz")).status == 200
        stop = await http.post(f"{url}/api/workload/stop", headers=AUTH)
        summary = (await stop.json())["summary"]
    desired = {p: before["pools"][p]["desired"] for p in POOLS}
    assert samples
    assert all(s == desired for s in samples), (desired, samples)
    for pool in POOLS:
        view = state["keda"]["pools"][pool]
        assert view["note"] == f"Prometheus unavailable: holding {desired[pool]} replicas"
        assert f'loadgen_keda_metrics_missing{{pool="{pool}"}} 1.0' in gauge
    timeline = after["timeline"]
    outage = [e for e in timeline if e["kind"] == "keda" and e["source"] == "keda"]
    for pool in POOLS:
        said = [e["message"] for e in outage if e["pool"] == pool]
        assert any("metrics unavailable since" in m and "holding" in m for m in said), said
        assert any("metrics back after" in m for m in said), said
    assert not [e for e in timeline if e["kind"] == "scale" and e["source"] == "keda"]
    assert unaccounted(summary) == [], "counts do not add up after the fault"
    assert totals(summary)["ok"] > 0
    record_numbers(RESULTS, "prometheus_stopped", {
        "stopped_wall_s": round(held_s, 2), "stopped_demo_s": round(held_s * TEST_SPEED, 1),
        "holding_said_after_wall_s": round(said_s, 2), "metrics_back_after_cont_wall_s":
        round(back_s, 2), "desired_held": desired, "samples": len(samples),
        "failed_requests": totals(summary)["errors"], "reasons": error_reasons(summary),
        **totals(summary),
    })  # fmt: skip
