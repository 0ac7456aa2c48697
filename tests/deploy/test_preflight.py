"""`make preflight` logic against an in-memory cluster that answers like Dynamo 1.6.x: the DGD and
its adapters are served as v1beta1 (preferred) and v1alpha1, in each version's own shape
(upstream deploy/operator/api/v1beta1 and v1alpha1 types)."""

from __future__ import annotations

import copy
import random
from typing import Any

import pytest
from deploy_helpers import ADAPTERS, dgd, rendered, validate_object
from deploykit.checks import NVLINK_TX, PCIE_TX
from deploykit.errors import ClusterError
from deploykit.platform_checks import KAI_SHARD_RESOURCE, STALENESS_ARG
from deploykit.preflight import PreflightSettings, expected_adapter_names, main, run_checks
from deploykit.resources import DGD_RESOURCE, DGDSA_RESOURCE, KAI_QUEUE_RESOURCE

COMPONENT_LABEL = "nvidia.com/dynamo-component"


class FakeCluster:
    """Answers like a healthy prod deployment; tests break one thing at a time."""

    def __init__(self, env: str = "prod") -> None:
        gpus_per_node = [8] if env == "prod" else [1, 1, 1]
        self.nodes = [
            {
                "metadata": {"name": f"gpu-{i}"},
                "status": {"allocatable": {"nvidia.com/gpu": str(n)}},
            }
            for i, n in enumerate(gpus_per_node)
        ] + [{"metadata": {"name": "system-0"}, "status": {"allocatable": {}}}]
        self.graph = copy.deepcopy(dgd(env))
        self.adapters = [
            {
                "apiVersion": "nvidia.com/v1beta1",
                "kind": "DynamoGraphDeploymentScalingAdapter",
                "metadata": {"name": name, "namespace": "gtc-demo"},
                "spec": {
                    "replicas": replicas,
                    "dgdRef": {"name": "gtc-demo", "componentName": component},
                },
                "status": {"replicas": replicas, "selector": f"{COMPONENT_LABEL}={component}"},
            }
            for name, component, replicas in (
                (ADAPTERS["prefill"], "TRTLLMPrefillWorker", 2),
                (ADAPTERS["decode"], "TRTLLMDecodeWorker", 3),
            )
        ]
        self.queues = ["default-parent-queue", "gtc-demo"]
        # The worker pods the operator (through Grove) runs, with the labels it sets.
        self.pods = [
            {
                "metadata": {
                    "name": f"{component.lower()}-{i}",
                    "labels": {COMPONENT_LABEL: component},
                }
            }
            for component, replicas in (("TRTLLMPrefillWorker", 2), ("TRTLLMDecodeWorker", 3))
            for i in range(replicas)
        ]
        self.staleness: str | None = "-1s"
        self.calls: list[list[str]] = []
        self.scaled_objects = copy.deepcopy(
            [o for o in rendered(f"keda/overlays/{env}") if o["kind"] == "ScaledObject"]
        )
        self.absent_metrics: set[str] = set()
        self.nvlink = {"baseline": 0.2e9, "peak": 6.0e9}
        self.posts: list[dict[str, Any]] = []
        self.broken: set[str] = set()

    def get_json(self, args):
        self.calls.append(list(args))
        if "pods" in args:
            wanted = dict(pair.split("=", 1) for pair in args[args.index("-l") + 1].split(","))
            matching = [p for p in self.pods if wanted.items() <= p["metadata"]["labels"].items()]
            return {"items": matching}
        if KAI_SHARD_RESOURCE in args:
            shard_args = {} if self.staleness is None else {STALENESS_ARG: self.staleness}
            return {"metadata": {"name": "default"}, "spec": {"args": shard_args}}
        resource = args[-1] if args[-1] != "gtc-demo" else args[-2]
        if resource in self.broken:
            raise ClusterError(f"kubectl get {resource}: connection refused")
        v1alpha1_graph = to_v1alpha1(self.graph)
        v1alpha1_adapters = [to_v1alpha1_adapter(a) for a in self.adapters]
        return {
            "nodes": {"items": self.nodes},
            "runtimeclasses": {"items": [{"metadata": {"name": "nvidia"}}]},
            # Unversioned names get the preferred version: v1beta1 in Dynamo 1.6.x.
            "dynamographdeploymentscalingadapters": {"items": self.adapters},
            DGDSA_RESOURCE: {"items": self.adapters},
            "dynamographdeploymentscalingadapters.v1alpha1.nvidia.com": {
                "items": v1alpha1_adapters
            },
            "dynamographdeployment": self.graph,
            DGD_RESOURCE: self.graph,
            "dynamographdeployments.v1alpha1.nvidia.com": v1alpha1_graph,
            KAI_QUEUE_RESOURCE: {"items": [{"metadata": {"name": q}} for q in self.queues]},
            "scaledobjects": {"items": self.scaled_objects},
        }[resource]

    def prometheus_query(self, query):
        if query.startswith("count("):
            metric = query[len("count(") : -1]
            return [] if metric in self.absent_metrics else [{"metric": {}, "value": [0, "3"]}]
        if query == f"sum({NVLINK_TX})":
            return [{"metric": {}, "value": [0, str(self.nvlink["baseline"])]}]
        if query == f"sum({PCIE_TX})":
            return [{"metric": {}, "value": [0, "1.0e9"]}]
        if query.startswith("max_over_time(") and NVLINK_TX in query:
            return [{"metric": {}, "value": [0, str(self.nvlink["peak"])]}]
        if query.startswith("max_over_time(") and PCIE_TX in query:
            return [{"metric": {}, "value": [0, "1.2e9"]}]
        return [{"metric": {}, "value": [0, "0.42"]}]

    def post_json(self, path, body):
        self.posts.append({"path": path, **body})
        return {"choices": [{"message": {"content": "ok"}}]}


def to_v1alpha1(graph):
    """The v1alpha1 view of a v1beta1 DGD (services map, extraPodSpec.mainContainer), as the
    conversion webhook serves it: the shape a tool gets when it asks for v1alpha1."""
    services = {}
    for component in graph["spec"]["components"]:
        pod = copy.deepcopy(component["podTemplate"]["spec"])
        (main,) = [c for c in pod.pop("containers") if c["name"] == "main"]
        service = {
            "componentType": "worker" if component["type"] in ("prefill", "decode") else "frontend",
            "replicas": component["replicas"],
            "extraPodSpec": {**pod, "mainContainer": main},
        }
        if component["type"] in ("prefill", "decode"):
            service["subComponentType"] = component["type"]
        if "scalingAdapter" in component:
            service["scalingAdapter"] = component["scalingAdapter"]
        services[component["name"]] = service
    return {
        "apiVersion": "nvidia.com/v1alpha1",
        "kind": "DynamoGraphDeployment",
        "metadata": copy.deepcopy(graph["metadata"]),
        "spec": {"backendFramework": "trtllm", "envs": graph["spec"]["env"], "services": services},
    }


def to_v1alpha1_adapter(adapter):
    ref = adapter["spec"]["dgdRef"]
    return {
        **copy.deepcopy(adapter),
        "apiVersion": "nvidia.com/v1alpha1",
        "spec": {
            "replicas": adapter["spec"]["replicas"],
            "dgdRef": {"name": ref["name"], "serviceName": ref["componentName"]},
        },
    }


def run(cluster, env="prod"):
    settles = []
    results = run_checks(
        PreflightSettings(env=env, burst_requests=6, prompt_words=200, settle_s=0),
        cluster,
        lambda: settles.append(1),
        random.Random(7),
        expected_adapter_names(),
    )
    return {r.name: r for r in results}, settles


def test_healthy_prod_passes_every_check_and_fires_a_burst():
    cluster = FakeCluster()
    results, settles = run(cluster)
    assert {name: r.ok for name, r in results.items()} == {
        "gpu-nodes": True,
        "runtime-class": True,
        "scaling-adapters": True,
        "block-sizes": True,
        "kai-queue": True,
        "kai-staleness": True,
        "adapter-selectors": True,
        "dcgm-scraped": True,
        "keda-query gtc-demo-prefill": True,
        "keda-query gtc-demo-decode": True,
        "nvlink-kv-transfer": True,
    }
    assert settles == [1]
    assert len(cluster.posts) == 6
    assert len({p["messages"][0]["content"] for p in cluster.posts}) == 6, (
        "prompts must not share a prefix cache"
    )
    assert all(
        p["path"].endswith("/services/gtc-demo-frontend:8000/proxy/v1/chat/completions")
        for p in cluster.posts
    )
    assert cluster.posts[0]["model"] == "meta-llama/Llama-3.1-70B-Instruct"


def test_dev_skips_the_nvlink_check_without_sending_traffic():
    cluster = FakeCluster("dev")
    results, _ = run(cluster, "dev")
    assert results["nvlink-kv-transfer"].ok is None
    assert "one GPU" in results["nvlink-kv-transfer"].detail
    assert cluster.posts == []
    assert results["gpu-nodes"].ok is True


def test_missing_adapter_and_too_few_gpus_are_named():
    cluster = FakeCluster()
    cluster.adapters.pop()
    cluster.nodes[0]["status"]["allocatable"]["nvidia.com/gpu"] = "4"
    results, _ = run(cluster)
    assert results["scaling-adapters"].ok is False
    assert ADAPTERS["decode"] in results["scaling-adapters"].detail
    assert results["gpu-nodes"].ok is False
    assert "4 GPUs" in results["gpu-nodes"].detail


def test_block_size_mismatch_fails():
    cluster = FakeCluster()
    args = cluster.graph["spec"]["components"][0]["podTemplate"]["spec"]["containers"][0]["args"]
    args[args.index("--kv-cache-block-size") + 1] = "64"
    results, _ = run(cluster)
    assert results["block-sizes"].ok is False
    assert "'Frontend': '64'" in results["block-sizes"].detail


def test_keda_query_over_a_metric_without_series_fails():
    cluster = FakeCluster()
    cluster.absent_metrics = {"loadgen_slo_itl_seconds"}
    results, _ = run(cluster)
    assert results["keda-query gtc-demo-decode"].ok is False
    assert "loadgen_slo_itl_seconds" in results["keda-query gtc-demo-decode"].detail
    assert results["keda-query gtc-demo-prefill"].ok is True


def test_kv_transfer_without_nvlink_traffic_fails():
    cluster = FakeCluster()
    cluster.nvlink = {"baseline": 0.2e9, "peak": 0.3e9}
    results, _ = run(cluster)
    assert results["nvlink-kv-transfer"].ok is False
    assert "KV path: NOT NVLink" in results["nvlink-kv-transfer"].detail
    assert "PCIe TX rise 0.20 GB/s" in results["nvlink-kv-transfer"].detail


def test_a_failing_call_fails_its_check_and_the_others_still_run():
    cluster = FakeCluster()
    cluster.broken = {"runtimeclasses"}
    results, _ = run(cluster)
    assert results["runtime-class"].ok is False
    assert "connection refused" in results["runtime-class"].detail
    assert results["block-sizes"].ok is True


def test_expected_adapters_come_from_the_keda_files_and_the_loadgen_env():
    assert expected_adapter_names() == set(ADAPTERS.values())


def test_cli_rejects_an_unknown_env_with_exit_code_2(capsys):
    assert main(["--env", "staging"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("preflight: env:")
    assert len(err.splitlines()) == 1


@pytest.mark.parametrize("bad", [["--env", "prod", "--burst-requests", "0"]])
def test_cli_rejects_out_of_range_settings(capsys, bad):
    assert main(bad) == 2
    assert "burst_requests" in capsys.readouterr().err


def test_fixtures_have_each_versions_upstream_shape():
    cluster = FakeCluster()
    assert validate_object(cluster.graph) == []
    assert validate_object(to_v1alpha1(cluster.graph)) == []
    for adapter in cluster.adapters:
        assert validate_object(adapter) == []
        assert validate_object(to_v1alpha1_adapter(adapter)) == []


def test_preflight_asks_for_explicit_versions_and_never_the_preferred_one():
    cluster = FakeCluster()
    run(cluster)
    asked = {arg for call in cluster.calls for arg in call}
    assert {DGD_RESOURCE, DGDSA_RESOURCE} <= asked
    assert not asked & {"dynamographdeployment", "dynamographdeploymentscalingadapters", "dgd"}


def test_a_v1alpha1_reader_would_fail_a_healthy_v1beta1_cluster():
    """The defect: parsing v1alpha1 fields out of what `kubectl get dgd` returns in 1.6.x."""
    preferred = FakeCluster().get_json(["-n", "gtc-demo", "dynamographdeployment", "gtc-demo"])
    assert "services" not in preferred["spec"]
    assert preferred["spec"]["components"]
    adapters = FakeCluster().get_json(["-n", "gtc-demo", "dynamographdeploymentscalingadapters"])
    assert all("serviceName" not in a["spec"]["dgdRef"] for a in adapters["items"])


def test_a_missing_kai_queue_fails_and_kai_off_is_reported_as_skipped():
    cluster = FakeCluster()
    cluster.queues = ["default-queue"]
    results, _ = run(cluster)
    assert results["kai-queue"].ok is False
    assert "'gtc-demo'" in results["kai-queue"].detail
    off = FakeCluster()
    del off.graph["metadata"]["annotations"]["nvidia.com/kai-scheduler-queue"]
    results, _ = run(off)
    assert results["kai-queue"].ok is None


def test_an_adapter_selector_that_misses_the_pods_fails():
    """KEDA's HPA counts the pods the scale subresource's selector matches (not verifiable
    offline for Grove-created pods: preflight checks it on the cluster)."""
    results, _ = run(FakeCluster())
    assert results["adapter-selectors"].ok is True
    cluster = FakeCluster()
    cluster.adapters[1]["status"]["selector"] = "grove.io/podclique=gtc-demo-0-decode"
    results, _ = run(cluster)
    assert results["adapter-selectors"].ok is False
    assert "0 pod(s) match 'grove.io/podclique=gtc-demo-0-decode', replicas 3" in (
        results["adapter-selectors"].detail
    )


def test_kai_evicting_stale_gangs_fails_and_kai_off_skips():
    cluster = FakeCluster()
    cluster.staleness = None
    results, _ = run(cluster)
    assert results["kai-staleness"].ok is False
    off = FakeCluster()
    del off.graph["metadata"]["annotations"]["nvidia.com/kai-scheduler-queue"]
    off.staleness = None
    results, _ = run(off)
    assert results["kai-staleness"].ok is None


def test_no_gpu_series_fails_the_dcgm_check():
    cluster = FakeCluster()
    cluster.absent_metrics.add("DCGM_FI_DEV_GPU_UTIL")
    results, _ = run(cluster)
    assert results["dcgm-scraped"].ok is False
    assert results["dcgm-scraped"].detail.startswith("0 GPU(s)")
