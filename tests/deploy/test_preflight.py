"""`make preflight` logic against an in-memory cluster built from the repo's own manifests."""

from __future__ import annotations

import copy
import random
from typing import Any

import pytest
from deploy_helpers import ADAPTERS, dgd, rendered
from deploykit.checks import NVLINK_TX
from deploykit.errors import ClusterError
from deploykit.preflight import PreflightSettings, expected_adapter_names, main, run_checks


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
                "metadata": {"name": name},
                "spec": {"dgdRef": {"name": "gtc-demo", "serviceName": service}},
            }
            for name, service in (
                (ADAPTERS["prefill"], "TRTLLMPrefillWorker"),
                (ADAPTERS["decode"], "TRTLLMDecodeWorker"),
            )
        ]
        self.scaled_objects = copy.deepcopy(
            [o for o in rendered(f"keda/overlays/{env}") if o["kind"] == "ScaledObject"]
        )
        self.absent_metrics: set[str] = set()
        self.nvlink = {"baseline": 0.2e9, "peak": 6.0e9}
        self.posts: list[dict[str, Any]] = []
        self.broken: set[str] = set()

    def get_json(self, args):
        resource = args[-1] if args[-1] != "gtc-demo" else args[-2]
        if resource in self.broken:
            raise ClusterError(f"kubectl get {resource}: connection refused")
        return {
            "nodes": {"items": self.nodes},
            "runtimeclasses": {"items": [{"metadata": {"name": "nvidia"}}]},
            "dynamographdeploymentscalingadapters": {"items": self.adapters},
            "dynamographdeployment": self.graph,
            "scaledobjects": {"items": self.scaled_objects},
        }[resource]

    def prometheus_query(self, query):
        if query.startswith("count("):
            metric = query[len("count(") : -1]
            return [] if metric in self.absent_metrics else [{"metric": {}, "value": [0, "3"]}]
        if query == f"sum({NVLINK_TX})":
            return [{"metric": {}, "value": [0, str(self.nvlink["baseline"])]}]
        if query.startswith("max_over_time("):
            return [{"metric": {}, "value": [0, str(self.nvlink["peak"])]}]
        return [{"metric": {}, "value": [0, "0.42"]}]

    def post_json(self, path, body):
        self.posts.append({"path": path, **body})
        return {"choices": [{"message": {"content": "ok"}}]}


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
    args = cluster.graph["spec"]["services"]["Frontend"]["extraPodSpec"]["mainContainer"]["args"]
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
    assert "TCP" in results["nvlink-kv-transfer"].detail


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
