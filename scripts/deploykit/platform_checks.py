"""Preflight checks of upstream behaviour that cannot be verified without a cluster: the scaling
adapters' pod selectors, the bundled KAI's stale-gang setting, and dcgm-exporter being scraped."""

from __future__ import annotations

from deploykit.checks import CheckResult, Cluster
from deploykit.resources import DGD_RESOURCE, DGDSA_RESOURCE, KAI_QUEUE_ANNOTATION

KAI_SHARD_RESOURCE = "schedulingshards.kai.scheduler"
STALENESS_ARG = "default-staleness-grace-period"
# dynamo-platform 1.6.1's value (terraform/cluster-config/values/dynamo-platform.yaml).
STALENESS_NEVER = "-1s"
DCGM_SERIES = "DCGM_FI_DEV_GPU_UTIL"


def check_adapter_selectors(cluster: Cluster, namespace: str, dgd_name: str) -> CheckResult:
    """Each adapter's status.selector (the scale subresource's label selector) finds as many
    pods as the adapter has replicas: KEDA's HPA counts the pods that selector matches, so a
    selector that misses the Grove-created pods makes every scaling decision wrong."""
    adapters = cluster.get_json(["-n", namespace, DGDSA_RESOURCE]).get("items", [])
    found: dict[str, str] = {}
    ok = True
    for adapter in adapters:
        if adapter.get("spec", {}).get("dgdRef", {}).get("name") != dgd_name:
            continue
        name = adapter["metadata"]["name"]
        selector = adapter.get("status", {}).get("selector")
        replicas = int(adapter.get("spec", {}).get("replicas", 0))
        if not selector:
            found[name] = "no status.selector"
            ok = False
            continue
        pods = cluster.get_json(["-n", namespace, "pods", "-l", selector]).get("items", [])
        live = [p for p in pods if not p.get("metadata", {}).get("deletionTimestamp")]
        found[name] = f"{len(live)} pod(s) match {selector!r}, replicas {replicas}"
        ok = ok and len(live) == replicas
    return CheckResult("adapter-selectors", ok and bool(found), f"{found or 'no adapters'}")


def check_kai_staleness(cluster: Cluster, namespace: str, dgd_name: str) -> CheckResult:
    """The bundled KAI never evicts stale gangs (Grove owns PodGroup termination)."""
    graph = cluster.get_json(["-n", namespace, DGD_RESOURCE, dgd_name])
    if not graph.get("metadata", {}).get("annotations", {}).get(KAI_QUEUE_ANNOTATION):
        return CheckResult("kai-staleness", None, "no queue annotation: KAI switched off")
    shard = cluster.get_json([KAI_SHARD_RESOURCE, "default"])
    value = shard.get("spec", {}).get("args", {}).get(STALENESS_ARG)
    detail = f"SchedulingShard default: {STALENESS_ARG}={value!r} (want {STALENESS_NEVER!r})"
    return CheckResult("kai-staleness", value == STALENESS_NEVER, detail)


def check_dcgm_scraped(cluster: Cluster) -> CheckResult:
    """Prometheus has GPU series: its operator accepted dcgm-exporter's ServiceMonitor."""
    result = cluster.prometheus_query(f"count({DCGM_SERIES})")
    count = int(float(result[0]["value"][1])) if result else 0
    return CheckResult("dcgm-scraped", count > 0, f"{count} GPU(s) report {DCGM_SERIES}")
