"""The kit's KAI queue chart (charts/kai-queues) across `helm install` and `helm upgrade`, and
the queue tree it builds under KAI's own quota rule. Upstream facts: fixture
kai-scheduler-queues.yaml (KAI v0.13.0); Helm's behaviour: an object in the previous release's
manifest that the new render omits is deleted, and an existing object another release owns
cannot be rendered (install fails)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from deploy_helpers import GPUS, TERRAFORM, dgd, tf_locals
from kai_chart import chart_objects

KAI = yaml.safe_load(
    (Path(__file__).parent / "fixtures/kai-scheduler-queues.yaml").read_text(encoding="utf-8")
)
CHART = TERRAFORM / "cluster-config/charts/kai-queues"
QUEUE_ANNOTATION = "nvidia.com/kai-scheduler-queue"


def release_values(env: str) -> dict[str, Any]:
    """What platform.tf passes (queueName = local.kai_queue_name, gpuQuota = local.total_gpus)."""
    return {"queueName": tf_locals("cluster-config")["kai_queue_name"], "gpuQuota": GPUS[env]}


def install_then_upgrade(env: str) -> tuple[dict[str, dict[str, Any]], list[str], list[str]]:
    """Queues in the cluster after install + upgrade, and the names each render produced."""
    cluster = {
        q["name"]: {"spec": {"parentQueue": q["parent"]}} for q in KAI["kai_install_creates"]
    }
    kai_owned = set(cluster)

    def exists(api: str, kind: str, name: str) -> bool:
        return (api, kind) == ("scheduling.run.ai/v2", "Queue") and name in cluster

    installed = chart_objects(CHART, release_values(env), exists)
    clash = {o["metadata"]["name"] for o in installed} & kai_owned
    assert not clash, f"helm install fails: {sorted(clash)} belong to the kai-scheduler release"
    cluster.update({o["metadata"]["name"]: o for o in installed})
    upgraded = chart_objects(CHART, release_values(env), exists)
    for obj in installed:  # Helm deletes what the previous release had and this one omits
        if obj["metadata"]["name"] not in {o["metadata"]["name"] for o in upgraded}:
            del cluster[obj["metadata"]["name"]]
    cluster.update({o["metadata"]["name"]: o for o in upgraded})
    names = [[o["metadata"]["name"] for o in r] for r in (installed, upgraded)]
    return cluster, names[0], names[1]


@pytest.mark.parametrize("env", sorted(GPUS))
def test_an_upgrade_keeps_the_queue_the_graph_names(env):
    cluster, installed, upgraded = install_then_upgrade(env)
    queue = dgd(env)["metadata"]["annotations"][QUEUE_ANNOTATION]
    assert queue in installed
    assert upgraded == installed, "an upgrade must render what the install rendered"
    assert queue in cluster, "the operator refuses the graph once its queue is gone"


def deserved(queue: dict[str, Any], resource: str) -> float:
    spec = queue.get("spec", {})
    if "resources" not in spec:  # KAI's own default queues: the fixture's quotas
        name = next(q for q in KAI["kai_install_creates"] if q["name"] == queue["metadata"]["name"])
        return float(name["quota"][resource])
    return float(spec["resources"][resource]["quota"])


@pytest.mark.parametrize("env", sorted(GPUS))
def test_every_gpu_fits_the_quota_of_the_queue_and_each_parent(env):
    """Workers as Deployments (GROVE=false) get KAI's inference priority (non-preemptible), so
    every GPU they take must be in quota on the whole path to the root."""
    assert KAI["deployment_default_priority"] >= KAI["non_preemptible_min_priority"]
    cluster, _, _ = install_then_upgrade(env)
    for name in cluster:
        cluster[name].setdefault("metadata", {"name": name})
    queue: str | None = dgd(env)["metadata"]["annotations"][QUEUE_ANNOTATION]
    while queue is not None:
        quota = deserved(cluster[queue], "gpu")
        assert quota == KAI["unlimited_quota"] or quota >= GPUS[env], (
            f"queue {queue}: GPU quota {quota:g} < {GPUS[env]}: KAI leaves the workers "
            "unschedulable (NonPreemptibleOverQuota)"
        )
        for resource in ("cpu", "memory"):
            assert deserved(cluster[queue], resource) == KAI["unlimited_quota"], (queue, resource)
        queue = cluster[queue]["spec"].get("parentQueue")
