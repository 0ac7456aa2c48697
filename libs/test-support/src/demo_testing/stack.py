"""Settings for a local stack under test: free ports, its own folder and namespace, fast clock."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from demo_common.net import free_port
from localcluster.cluster import LocalCluster
from localcluster.dynamo import COMPONENT
from localcluster.settings import POOL_NAMES, LocalClusterSettings

# Tests run the dev layout (3 GPU slots, 1 prefill + 1 decode) ten times faster than real time.
TEST_SPEED = 10.0

POOL_OF_COMPONENT = {component: pool for pool, component in COMPONENT.items()}


def stack_settings(workdir: Path, **overrides: object) -> LocalClusterSettings:
    """Settings for a test stack on free ports, isolated in its own folder and namespace."""
    values: dict[str, object] = {
        "env": "dev",
        "speed": TEST_SPEED,
        "frontend_port": free_port(),
        "prometheus_port": free_port(),
        "control_port": free_port(),
        "workdir": workdir,
        "readiness_delay_s": 1.0,
        "scrape_interval_s": 1.0,
        "drain_timeout_s": 5.0,
    }
    values.update(overrides)
    return LocalClusterSettings.model_validate(values)


def serving_workers(frontend_url: str) -> dict[str, int]:
    """Workers the frontend routes to, per pool: the `generate` instances its /health lists
    (its discovery view)."""
    body = httpx.get(f"{frontend_url}/health", timeout=5).json()
    counts: dict[str, int] = {}
    for instance in body.get("instances", []):
        if instance.get("endpoint") == "generate":
            pool = POOL_OF_COMPONENT.get(instance.get("component", ""))
            if pool is not None:
                counts[pool] = counts.get(pool, 0) + 1
    return counts


def router_registered(frontend_url: str) -> dict[str, int]:
    """Workers the KV router has added, per worker_type (its own gauge). It can only overcount:
    ai-dynamo 1.6.1 keeps a removed prefill worker's series for good when the pool empties and
    refills within a second or so (docs/contracts.md)."""
    text = httpx.get(f"{frontend_url}/metrics", timeout=5).text
    counts: dict[str, int] = {}
    for line in text.splitlines():
        if line.startswith("dynamo_component_router_worker_registered{"):
            worker_type = line.split('worker_type="', 1)[1].split('"', 1)[0]
            counts[worker_type] = counts.get(worker_type, 0) + int(float(line.rsplit(" ", 1)[1]))
    return counts


def model_listed(frontend_url: str, model_name: str) -> bool:
    """The frontend serves the model (it drops it while no decode worker is registered)."""
    models = httpx.get(f"{frontend_url}/v1/models", timeout=5).json().get("data", [])
    return any(m.get("id") == model_name for m in models)


def restore_initial_layout(stack: LocalCluster, timeout_s: float = 90.0) -> None:
    """Scale every pool back to its initial size and wait until it serves as at start: the
    workers ready, none starting or draining, the frontend's discovery listing exactly them (a
    killed worker's record lingers ~10 s), the router holding them and the model listed."""
    wanted = {pool: stack.settings.initial_replicas(pool) for pool in POOL_NAMES}
    for pool, replicas in wanted.items():
        response = httpx.put(
            f"{stack.control_url}/pools/{pool}", json={"replicas": replicas}, timeout=10
        )
        response.raise_for_status()
    deadline = time.monotonic() + timeout_s
    seen: object = None
    while time.monotonic() < deadline:
        pools = httpx.get(f"{stack.control_url}/pools", timeout=10).json()["pools"]
        serving = serving_workers(stack.frontend_url)
        router = router_registered(stack.frontend_url)
        listed = model_listed(stack.frontend_url, stack.model_name)
        seen = (pools, serving, router, listed)
        settled = listed and all(
            pools[p]["ready"] == n
            and pools[p]["pending"] + pools[p]["starting"] + pools[p]["stopping"] == 0
            and serving.get(p, 0) == n
            and router.get(p, 0) >= n
            for p, n in wanted.items()
        )
        if settled:
            return
        time.sleep(0.25)
    raise AssertionError(f"the stack did not return to its initial layout {wanted}: {seen}")
