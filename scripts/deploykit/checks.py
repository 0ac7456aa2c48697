"""The live-cluster checks of `make preflight`, written against a small Cluster port."""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

from deploykit.errors import ClusterError
from deploykit.resources import (
    DGD_RESOURCE,
    DGDSA_RESOURCE,
    KAI_QUEUE_ANNOTATION,
    KAI_QUEUE_RESOURCE,
)

PROMQL_METRIC = re.compile(r"\b((?:loadgen|dynamo|trtllm|DCGM)_[A-Za-z0-9_:]*)")
NVLINK_TX = "DCGM_FI_PROF_NVLINK_TX_BYTES"
PCIE_TX = "DCGM_FI_PROF_PCIE_TX_BYTES"


class Cluster(Protocol):
    """What the checks need from a cluster (the kubectl adapter implements it)."""

    def get_json(self, args: Sequence[str]) -> dict[str, Any]:
        """`kubectl get <args> -o json`."""
        ...

    def prometheus_query(self, query: str) -> list[dict[str, Any]]:
        """Instant query; the result vector (empty list when nothing matches)."""
        ...

    def post_json(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST through the API server (service proxy path)."""
        ...


@dataclass(frozen=True)
class CheckResult:
    """Outcome of one check: ok True (pass), False (fail) or None (skipped, with a reason)."""

    name: str
    ok: bool | None
    detail: str

    @property
    def label(self) -> str:
        return {True: "PASS", False: "FAIL", None: "SKIP"}[self.ok]


def flag_value(args: Sequence[str], flag: str) -> str | None:
    """Value of `--flag v` or `--flag=v` in an argument list."""
    for i, arg in enumerate(args):
        if arg == flag and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith(flag + "="):
            return arg.split("=", 1)[1]
    return None


def check_gpu_nodes(cluster: Cluster, expected_gpus: int) -> CheckResult:
    nodes = cluster.get_json(["nodes"]).get("items", [])
    per_node = {
        n["metadata"]["name"]: int(
            n.get("status", {}).get("allocatable", {}).get("nvidia.com/gpu", 0)
        )
        for n in nodes
    }
    gpus = sum(per_node.values())
    gpu_nodes = sorted(name for name, count in per_node.items() if count)
    detail = f"{gpus} GPUs allocatable on {len(gpu_nodes)} node(s), expected {expected_gpus}"
    return CheckResult("gpu-nodes", gpus >= expected_gpus and bool(gpu_nodes), detail)


def check_runtime_class(cluster: Cluster, name: str = "nvidia") -> CheckResult:
    names = {i["metadata"]["name"] for i in cluster.get_json(["runtimeclasses"]).get("items", [])}
    return CheckResult(
        "runtime-class", name in names, f"RuntimeClass {name!r} present: {name in names}"
    )


def check_scaling_adapters(
    cluster: Cluster, namespace: str, dgd_name: str, expected: Iterable[str]
) -> CheckResult:
    """The adapters KEDA and the load generator name exist, and follow <dgd>-<component>."""
    adapters = cluster.get_json(["-n", namespace, DGDSA_RESOURCE])
    live = {
        a["metadata"]["name"]: a.get("spec", {}).get("dgdRef", {})
        for a in adapters.get("items", [])
    }
    wanted = sorted(set(expected))
    missing = [n for n in wanted if n not in live]
    misnamed = [
        n
        for n, ref in live.items()
        if ref.get("name") == dgd_name
        and n != f"{dgd_name}-{str(ref.get('componentName', '')).lower()}"
    ]
    ok = not missing and not misnamed
    detail = f"expected {wanted}; missing {missing}; not <dgd>-<component>: {misnamed}"
    return CheckResult("scaling-adapters", ok, detail)


def main_args(component: dict[str, Any]) -> list[str]:
    """Arguments of the v1beta1 component's container named "main"."""
    containers = component.get("podTemplate", {}).get("spec", {}).get("containers", [])
    main: dict[str, Any] = next((c for c in containers if c.get("name") == "main"), {})
    return [str(a) for a in main.get("args", [])]


def check_block_sizes(
    cluster: Cluster, namespace: str, dgd_name: str, expected: int
) -> CheckResult:
    """Frontend --kv-cache-block-size equals every worker's --kv-block-size (and the contract)."""
    dgd = cluster.get_json(["-n", namespace, DGD_RESOURCE, dgd_name])
    sizes: dict[str, str | None] = {}
    for component in dgd.get("spec", {}).get("components", []):
        args = main_args(component)
        if component.get("type") == "frontend":
            sizes[component["name"]] = flag_value(args, "--kv-cache-block-size")
        elif component.get("type") in {"worker", "prefill", "decode"}:
            sizes[component["name"]] = flag_value(args, "--kv-block-size")
    ok = bool(sizes) and all(v == str(expected) for v in sizes.values())
    return CheckResult("block-sizes", ok, f"{sizes} (expected {expected} everywhere)")


def check_kai_queue(cluster: Cluster, namespace: str, dgd_name: str) -> CheckResult:
    """The queue the DGD names exists (the operator refuses the graph otherwise); no
    annotation means KAI is switched off for this graph."""
    dgd = cluster.get_json(["-n", namespace, DGD_RESOURCE, dgd_name])
    queue = dgd.get("metadata", {}).get("annotations", {}).get(KAI_QUEUE_ANNOTATION)
    if not queue:
        return CheckResult("kai-queue", None, "no queue annotation: KAI switched off")
    names = {q["metadata"]["name"] for q in cluster.get_json([KAI_QUEUE_RESOURCE]).get("items", [])}
    return CheckResult(
        "kai-queue", queue in names, f"DGD names queue {queue!r}; queues: {sorted(names)}"
    )


def metric_names(query: str) -> list[str]:
    """The project/Dynamo/DCGM metric names a PromQL query reads."""
    return sorted(set(PROMQL_METRIC.findall(query)))


def check_keda_queries(cluster: Cluster, namespace: str) -> list[CheckResult]:
    """Every trigger query returns a sample, and every metric it reads has series."""
    results = []
    objects = cluster.get_json(["-n", namespace, "scaledobjects"]).get("items", [])
    if not objects:
        return [CheckResult("keda-queries", False, f"no ScaledObjects in {namespace}")]
    for so in objects:
        for trigger in so.get("spec", {}).get("triggers", []):
            query = trigger.get("metadata", {}).get("query", "")
            name = f"keda-query {so['metadata']['name']}"
            samples = cluster.prometheus_query(query)
            absent = [m for m in metric_names(query) if not cluster.prometheus_query(f"count({m})")]
            value = samples[0]["value"][1] if samples else "no data"
            ok = bool(samples) and not absent
            results.append(
                CheckResult(name, ok, f"value {value}; metrics without series: {absent}")
            )
    return results


def _sum_value(samples: list[dict[str, Any]]) -> float:
    return sum(float(s["value"][1]) for s in samples)


def burst_body(model: str, prompt_words: int, rng: random.Random) -> dict[str, Any]:
    """A long, uncacheable prompt (fresh nonce) with a short answer: mostly KV to transfer."""
    nonce = rng.getrandbits(64)
    words = " ".join(f"w{rng.randrange(10_000)}" for _ in range(prompt_words))
    return {
        "model": model,
        "messages": [{"role": "user", "content": f"[{nonce:x}] Summarize: {words}"}],
        "max_tokens": 8,
        "stream": False,
    }


def check_nvlink(
    cluster: Cluster,
    *,
    frontend_path: str,
    model: str,
    requests: int,
    prompt_words: int,
    min_rise_bytes_per_s: float,
    settle: Callable[[], None],
    rng: random.Random,
) -> CheckResult:
    """Which path KV transfer prefill->decode takes: DCGM's NVLink byte rate must rise during a
    burst of long uncached prompts; if it stays flat, the PCIe rate says the bytes went another
    way (PCIe/TCP through the host)."""
    if not cluster.prometheus_query(f"count({NVLINK_TX})"):
        return CheckResult("nvlink-kv-transfer", False, f"{NVLINK_TX} not scraped (dcgm-exporter?)")
    baseline = _sum_value(cluster.prometheus_query(f"sum({NVLINK_TX})"))
    pcie_baseline = _sum_value(cluster.prometheus_query(f"sum({PCIE_TX})"))
    bodies = [burst_body(model, prompt_words, rng) for _ in range(requests)]
    failures = 0
    with ThreadPoolExecutor(max_workers=min(requests, 16)) as pool:
        for outcome in pool.map(lambda b: _post(cluster, frontend_path, b), bodies):
            failures += 0 if outcome else 1
    settle()
    peak = _sum_value(cluster.prometheus_query(f"max_over_time(sum({NVLINK_TX})[2m:5s])"))
    pcie_peak = _sum_value(cluster.prometheus_query(f"max_over_time(sum({PCIE_TX})[2m:5s])"))
    rise, pcie_rise = peak - baseline, pcie_peak - pcie_baseline
    ok = failures < requests and rise >= min_rise_bytes_per_s
    path = "NVLink" if ok else "NOT NVLink (PCIe/TCP via the host)"
    detail = (
        f"KV path: {path}. NVLink TX {baseline / 1e9:.2f} -> peak {peak / 1e9:.2f} GB/s, "
        f"PCIe TX rise {pcie_rise / 1e9:.2f} GB/s, during {requests} disaggregated requests "
        f"({failures} failed); NVLink needs a rise >= {min_rise_bytes_per_s / 1e9:.2f} GB/s"
    )
    return CheckResult("nvlink-kv-transfer", ok, detail)


def _post(cluster: Cluster, path: str, body: dict[str, Any]) -> bool:
    try:
        cluster.post_json(path, body)
    except ClusterError:
        return False
    return True
