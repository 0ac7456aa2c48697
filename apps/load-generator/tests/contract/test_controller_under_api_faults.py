"""The running app's scenario controller scaling through the Kubernetes adapter while the API
server answers 409, 500, 503 or too late (the contract server injects them).

Expected, and checked: a 409 re-reads the pools and tries again, 5xx and timeouts are retried
with backoff, a call that still fails is a timeline error and a counted failure (HTTP 503 to the
presenter), the app keeps serving, the cluster and the app agree at the end, and the load
session's counts add up. The numbers go to build/faults/kube_api_faults.json.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from demo_common.corpus import load_corpus
from demo_testing.accounting import error_reasons, totals, unaccounted
from demo_testing.app_server import app_serving, record_numbers, short_cycle_script
from demo_testing.bad_openai import bad_openai_server
from demo_testing.doubles import write_tiny_corpus
from demo_testing.kube_api import KubeContractServer
from loadgen.adapters.state_store import MemoryStateStore
from loadgen.api import create_app
from loadgen.controller_wiring import ScenarioPorts
from loadgen.settings import Settings

from .conftest import ADAPTERS, SCALED_OBJECTS, kube_scaler

pytestmark = pytest.mark.integration
TOKEN = "kube-fault-presenter-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
RESULTS = Path(__file__).resolve().parents[4] / "build" / "faults"
SCALE_PATCH = "worker/scale"  # the scale subresource of either scaling adapter
SPEED = 10.0


async def put_pool(http: aiohttp.ClientSession, url: str, pool: str, n: int) -> tuple[int, Any]:
    async with http.put(f"{url}/api/pools/{pool}", json={"replicas": n}, headers=AUTH) as r:
        return r.status, await r.json()


async def scenario(http: aiohttp.ClientSession, url: str) -> dict[str, Any]:
    async with http.get(f"{url}/api/scenario") as r:
        assert r.status == 200
        body: dict[str, Any] = await r.json()
        return body


async def test_scale_calls_under_api_faults_retry_show_and_stay_consistent(
    kube_server: KubeContractServer, tmp_path: Path
) -> None:
    script_path, script = short_cycle_script(tmp_path)
    scaler = kube_scaler(kube_server)
    async with bad_openai_server(("ok",)) as endpoint:
        settings = Settings(
            endpoint_url=f"{endpoint.url}/ok", ui_dir=tmp_path / "no-ui", speed=SPEED,
            summary_dir=tmp_path / "sessions", script=script_path, backend="cluster",
        )  # fmt: skip
        app = create_app(
            settings, script=script, corpus=load_corpus(write_tiny_corpus(tmp_path / "corpus")),
            presenter_token=TOKEN,
            scenario_ports=ScenarioPorts(scaler=scaler, store=MemoryStateStore()),
        )  # fmt: skip
        async with app_serving(app) as url, aiohttp.ClientSession() as http:
            config = {"rps": 2, "mix": {"chat": 1, "reasoning": 1}, "max_in_flight": 20}
            put = await http.put(f"{url}/api/workload/config", json=config, headers=AUTH)
            assert put.status == 200, await put.text()
            assert (await http.post(f"{url}/api/workload/start", headers=AUTH)).status == 200
            numbers = await presenter_faults(kube_server, scaler, http, url)
            numbers |= await auto_mode_faults(kube_server, http, url)
            # The app kept serving, and it agrees with the cluster.
            assert (await http.get(f"{url}/healthz")).status == 200
            pools = await (await http.get(f"{url}/api/pools")).json()
            for pool, adapter in ADAPTERS.items():
                assert pools["pools"][pool]["desired"] == kube_server.replicas(adapter)[0]
            assert sum(kube_server.replicas(a)[0] for a in ADAPTERS.values()) <= 8
            assert all(kube_server.replicas(a)[0] >= 1 for a in ADAPTERS.values())
            stop = await http.post(f"{url}/api/workload/stop", headers=AUTH)
            summary = (await stop.json())["summary"]
            metrics = await (await http.get(f"{url}/metrics")).text()
    assert unaccounted(summary) == [], "counts do not add up after the faults"
    assert totals(summary)["ok"] > 0
    assert totals(summary)["errors"] == 0, error_reasons(summary)  # inference was never hit
    assert 'loadgen_scenario_scaler_errors_total{source="presenter"} 1.0' in metrics
    numbers |= {"adapter_retries": scaler.retries, **totals(summary)}
    record_numbers(RESULTS, "kube_api_faults", numbers)


async def presenter_faults(
    server: KubeContractServer, scaler: Any, http: aiohttp.ClientSession, url: str
) -> dict[str, Any]:
    """Manual mode: the presenter's overrides while the scale subresource misbehaves."""
    decode, prefill = ADAPTERS["decode"], ADAPTERS["prefill"]
    # 409: the adapter reads the pools again before the next PATCH (not a blind resend).
    server.inject(409, times=1, method="PATCH", path_contains=SCALE_PATCH)
    first = len(server.requests)
    status, body = await put_pool(http, url, "decode", 4)
    assert status == 200, body
    assert server.replicas(decode) == (4, 4)
    seen = [(r.method, r.path.rsplit("/", 2)[-2]) for r in server.requests[first:]]
    conflict = next(i for i, (m, _) in enumerate(seen) if m == "PATCH")
    retried = next(i for i, (m, _) in enumerate(seen) if m == "PATCH" and i > conflict)
    assert ("GET", "dynamographdeploymentscalingadapters") in seen[conflict + 1 : retried]
    # 500 twice: bounded retry with backoff, one change.
    server.inject(500, times=2, method="PATCH", path_contains=SCALE_PATCH)
    assert (await put_pool(http, url, "decode", 5))[0] == 200
    assert server.replicas(decode) == (5, 5)
    # An answer slower than the client's timeout: retried, applied once.
    generation = server._objects[("dgdsa", prefill)]["metadata"]["generation"]
    server.inject("timeout", times=1, method="PATCH", path_contains=SCALE_PATCH)
    assert (await put_pool(http, url, "prefill", 3))[0] == 200
    assert server.replicas(prefill) == (3, 3)
    assert server._objects[("dgdsa", prefill)]["metadata"]["generation"] == generation + 1
    # The API down for longer than the retries: a clear 503, shown on the timeline, counted.
    server.inject(503, times=10_000)
    started = time.monotonic()
    status, body = await put_pool(http, url, "decode", 4)
    gave_up_s = time.monotonic() - started
    assert status == 503, body
    assert "gave up after" in body["detail"]
    assert (await http.get(f"{url}/healthz")).status == 200
    state = await scenario(http, url)
    server.clear_faults()
    errors = [e for e in state["timeline"] if e["kind"] == "error"]
    assert any(e["source"] == "presenter" and "decode -> 4" in e["message"] for e in errors)
    assert server.replicas(decode) == (5, 5)  # nothing half-applied
    # Back to the initial layout for auto mode (scale-in first: the budget holds).
    assert (await put_pool(http, url, "prefill", 2))[0] == 200
    assert (await put_pool(http, url, "decode", 3))[0] == 200
    return {"presenter_gave_up_after_s": round(gave_up_s, 2), "presenter_failed_calls": 1}


async def auto_mode_faults(
    server: KubeContractServer, http: aiohttp.ClientSession, url: str
) -> dict[str, Any]:
    """Auto mode: the script's steps while the API answers 500s and too late, then is down."""
    server.inject(500, times=2, method="PATCH", path_contains=SCALE_PATCH)
    server.inject("timeout", times=1, method="PATCH", path_contains=SCALE_PATCH)
    assert (await http.post(f"{url}/api/scenario/auto", headers=AUTH)).status == 200
    assert all(server.annotations(so) == {"autoscaling.keda.sh/paused": "true"}
               for so in SCALED_OBJECTS.values())  # fmt: skip

    async def script_scaled(n: int) -> list[dict[str, Any]]:
        for _ in range(300):
            events = [e for e in (await scenario(http, url))["timeline"]
                      if e["kind"] == "scale" and e["source"] == "script"]  # fmt: skip
            if len(events) >= n:
                return events
            await asyncio.sleep(0.1)
        raise AssertionError(f"fewer than {n} script scale events")

    # Decode 3 -> 4 (phase 1), then 4 -> 3 and prefill 2 -> 3 (phase 2): through the faults.
    events = await script_scaled(3)
    assert [(e["pool"], e["from_replicas"], e["to_replicas"]) for e in events[:3]] == [
        ("decode", 3, 4), ("decode", 4, 3), ("prefill", 2, 3),
    ]  # fmt: skip
    # The API down for the next step(s): they fail, are shown, and the cycle goes on.
    before = await scenario(http, url)
    server.inject(503, times=10_000)
    for _ in range(300):
        now = await scenario(http, url)
        failed = [e for e in now["timeline"][len(before["timeline"]) :] if e["kind"] == "error"]
        if any(e["source"] == "script" for e in failed):
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("no script step failed while the API was down")
    server.clear_faults()
    # Once the API is back, a later step lands: the app and the cluster agree again.
    count = len(await script_scaled(0))
    await script_scaled(count + 1)
    manual = await http.post(f"{url}/api/scenario/manual", headers=AUTH)
    assert manual.status == 200
    assert all(server.annotations(so) == {"autoscaling.keda.sh/paused": "false"}
               for so in SCALED_OBJECTS.values())  # fmt: skip
    return {"auto_script_step_errors": sum(1 for e in failed if e["source"] == "script")}
