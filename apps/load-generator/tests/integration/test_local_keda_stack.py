"""The local KEDA's parts against real things: kubectl kustomize, the local Prometheus and pools."""

from __future__ import annotations

import asyncio
import dataclasses
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from demo_common.tools import find_tool
from loadgen.adapters.keda_manifests import pool_rules, render
from loadgen.adapters.local_keda import KedaPauseState, LocalKeda
from loadgen.adapters.local_pools import LocalPoolsScaler
from loadgen.adapters.prometheus_query import PrometheusReader
from loadgen.clock import MonotonicClock
from loadgen.controller.ports import PoolState
from loadgen.errors import MetricsUnavailable

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[4]
KEDA_DIR = REPO / "k8s" / "keda"
NAMES = {"prefill": "gtc-demo-prefill", "decode": "gtc-demo-decode"}


def _by_name(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for o in objects}


@pytest.mark.parametrize("env", ["prod", "dev"])
def test_the_manifest_reader_renders_what_kubectl_kustomize_renders(env: str) -> None:
    kubectl = find_tool("kubectl", "KUBECTL")  # PATH or ~/.local/bin (`make tools`); else fails
    out = subprocess.run(
        [kubectl, "kustomize", str(KEDA_DIR / "overlays" / env)],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    expected = _by_name([d for d in yaml.safe_load_all(out) if d])
    assert _by_name(render(KEDA_DIR / "overlays" / env)) == expected
    assert set(expected) == set(NAMES.values())


async def test_prometheus_reader_on_the_local_prometheus(local_stack: Any) -> None:
    reader = PrometheusReader(local_stack.prometheus_url)
    try:
        assert await reader.instant("vector(1.5)") == 1.5
        assert await reader.instant("vector(1) > 2") is None
        for rules in pool_rules(KEDA_DIR, "dev", NAMES).values():
            # The kit's own queries parse and reduce to one number: exactly 0 here, the
            # `or vector(0)` branch, since no load generator is scraped by the shared stack.
            assert await reader.instant(rules.query) == 0.0
        with pytest.raises(MetricsUnavailable, match="failed"):
            await reader.instant("sum(")
    finally:
        await reader.aclose()
    dead = PrometheusReader("http://127.0.0.1:9", timeout_s=2)
    with pytest.raises(MetricsUnavailable):
        await dead.instant("vector(1)")
    await dead.aclose()


async def test_local_keda_scales_a_real_pool_and_leaves_it_alone_when_paused(
    local_stack: Any,
) -> None:
    # The dev ScaledObject's rules; only the query is swapped for a constant breach
    # (2.0 / 0.8 x 1 ready -> 3, capped at the dev max of 2) and the cadence shortened.
    rules = pool_rules(KEDA_DIR, "dev", NAMES)
    breach = {
        "decode": dataclasses.replace(rules["decode"], query="vector(2.0)", polling_interval_s=1)
    }
    pause = KedaPauseState()
    scaler = LocalPoolsScaler(local_stack.control_url, pause)
    metrics = PrometheusReader(local_stack.prometheus_url)
    keda = LocalKeda(breach, scaler, metrics, MonotonicClock(), pause, sync_period_s=0.5)
    try:
        assert (await scaler.state()).pools["decode"].desired == 1
        async with asyncio.timeout(30):
            async with asyncio.TaskGroup() as group:
                loop = group.create_task(keda.run())
                for _ in range(150):
                    if (await scaler.state()).pools["decode"].desired == 2:
                        break
                    await asyncio.sleep(0.2)
                loop.cancel()
        decision = keda.decisions()["decode"]
        assert decision.metric == 2.0
        assert decision.desired == 2
        assert decision.last_scale_ns is not None

        await scaler.set_autoscaling_paused(True)
        await scaler.scale("decode", 1)
        async with asyncio.TaskGroup() as group:
            loop = group.create_task(keda.run())
            await asyncio.sleep(3)  # six syncs' worth: a running KEDA would scale back to 2
            loop.cancel()
        assert (await scaler.state()).pools["decode"].desired == 1
        assert keda.notes()["decode"].startswith("paused")
    finally:
        pause.set_all(False)
        await scaler.scale("decode", 1)
        for _ in range(240):  # the shared stack back at rest for the next tests
            if (await scaler.state()).pools["decode"] == PoolState(1, 1, 0):
                break
            await asyncio.sleep(0.25)
        await scaler.aclose()
        await metrics.aclose()
