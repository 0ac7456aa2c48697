"""One harness per ClusterScaler adapter, for the shared contract suite.

- kubernetes: the cluster adapter against `KubeContractServer` (upstream's API contract for the
  DGD scaling adapters and KEDA ScaledObjects; every request is checked).
- local: the local adapter against a real local stack (its pool control API) and the local
  KEDA's pause state.
Each harness counts the writes the back end saw, so idempotence is observed, not assumed.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest
from kubernetes import client as k8s

from demo_testing.kube_api import KubeContractServer
from loadgen.adapters.kubernetes import KubernetesScaler, KubernetesTargets, api_client
from loadgen.adapters.local_keda import KedaPauseState
from loadgen.adapters.local_pools import LocalPoolsScaler
from loadgen.adapters.retry import RetryPolicy
from loadgen.controller.ports import ClusterScaler, PoolName

ADAPTERS: dict[PoolName, str] = {
    "prefill": "gtc-demo-trtllmprefillworker",
    "decode": "gtc-demo-trtllmdecodeworker",
}
SCALED_OBJECTS: dict[PoolName, str] = {"prefill": "gtc-demo-prefill", "decode": "gtc-demo-decode"}
# Fast retries for tests; the request timeout is what an injected "timeout" outlasts.
TEST_RETRY = RetryPolicy(
    attempts=4, first_backoff_s=0.01, max_backoff_s=0.05, request_timeout_s=0.5
)


@dataclass
class Harness:
    name: str
    scaler: ClusterScaler
    writes: Callable[[], int]
    observed_desired: Callable[[PoolName], Awaitable[int]]
    # Fills the pools past the adapter's budget where the back end allows it (the cluster: as
    # `kubectl scale` by hand would), else up to it (the local stack's GPU slots are its budget).
    crowd: Callable[[], Awaitable[None]]


def kube_targets(version: str = "v1alpha1", budget: int = 8) -> KubernetesTargets:
    return KubernetesTargets.model_validate(
        {
            "namespace": "gtc-demo",
            "scaling_adapters": ADAPTERS,
            "scaled_objects": SCALED_OBJECTS,
            "dgdsa_version": version,
            "budget_gpus": budget,
        }
    )


def kube_scaler(server: KubeContractServer, **target_args: Any) -> KubernetesScaler:
    api = k8s.CustomObjectsApi(api_client(host=server.url, token=server.token))
    return KubernetesScaler(api, kube_targets(**target_args), TEST_RETRY)


@pytest.fixture
def kube_server() -> Iterator[KubeContractServer]:
    server = KubeContractServer(timeout_delay_s=1.0)
    with server.running():
        yield server
    assert server.violations == [], "requests broke the API contract"


async def _observed_kube(server: KubeContractServer, pool: PoolName) -> int:
    return server.replicas(ADAPTERS[pool])[0]


@pytest.fixture(
    params=[
        pytest.param("kubernetes", marks=pytest.mark.integration),
        pytest.param("local", marks=pytest.mark.integration),
    ]
)
async def harness(request: pytest.FixtureRequest) -> AsyncIterator[Harness]:
    if request.param == "kubernetes":
        server: KubeContractServer = request.getfixturevalue("kube_server")
        yield Harness(
            "kubernetes",
            kube_scaler(server),
            lambda: len(server.writes()),
            lambda pool: _observed_kube(server, pool),
            lambda: kube_scaler(server, budget=16).scale("prefill", 6),  # 6 + 3 > 8
        )
        return
    stack = request.getfixturevalue("local_stack")
    counter = SimpleNamespace(writes=0)
    pause = KedaPauseState()

    async def count(_: Any, __: Any, params: aiohttp.TraceRequestStartParams) -> None:
        if params.method != "GET":
            counter.writes += 1

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(count)
    async with aiohttp.ClientSession(trace_configs=[trace]) as session:
        scaler = LocalPoolsScaler(stack.control_url, pause, session=session, retry=TEST_RETRY)

        async def observed(pool: PoolName) -> int:
            async with (
                aiohttp.ClientSession() as plain,
                plain.get(f"{stack.control_url}/pools") as r,
            ):
                return int((await r.json())["pools"][pool]["desired"])

        async def crowd() -> None:
            state = await scaler.state()
            await scaler.scale("decode", state.budget_gpus - state.pools["prefill"].desired)

        initial = {p: await observed(p) for p in ADAPTERS}
        try:
            yield Harness("local", scaler, lambda: counter.writes + pause.changes, observed, crowd)
        finally:
            pause.set_all(False)
            for pool, replicas in initial.items():
                await scaler.scale(pool, replicas)
            await settled(stack.control_url)


async def settled(control_url: str, timeout_s: float = 60) -> None:
    """Wait until every pool of the shared stack is back at rest (other tests use it next)."""
    async with asyncio.timeout(timeout_s), aiohttp.ClientSession() as session:
        while True:
            async with session.get(f"{control_url}/pools") as response:
                pools = (await response.json())["pools"].values()
            if all(p["ready"] == p["desired"] and p["stopping"] == 0 for p in pools):
                return
            await asyncio.sleep(0.25)
