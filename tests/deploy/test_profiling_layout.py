"""`make profile` switches the deployed graph to the profiling layout and back, against a fake
cluster that keeps the upstream contracts the steps rely on:
- a DGDSA's scale subresource sets the DGD component's replicas (v1beta1 types);
- KEDA keeps scaling its target unless `autoscaling.keda.sh/paused: "true"` (KEDA docs);
- v1beta1 `spec.restart.id` restarts the workers when it changes after creation (v1beta1 types);
- TRT-LLM reads the engine config (kv_cache_config.enable_block_reuse) only when it starts."""

from __future__ import annotations

from collections.abc import Mapping

import pytest
import yaml
from deploy_helpers import ADAPTERS, SCALED_OBJECTS, one, rendered
from deploykit.profiling import (
    Targets,
    profiler_argv,
    profiling_layout,
    without_prefix_caching,
)
from deploykit.resources import ENGINE_CONFIGMAP


class FakeCluster:
    def __init__(self, prefill: int = 3, decode: int = 4, keda_desired: int = 3) -> None:
        self.replicas = {ADAPTERS["prefill"]: prefill, ADAPTERS["decode"]: decode}
        self.paused = {SCALED_OBJECTS["prefill"]: False, SCALED_OBJECTS["decode"]: True}
        self.keda_desired = keda_desired
        configmap = one(rendered("dynamo/overlays/prod"), "ConfigMap", ENGINE_CONFIGMAP)
        self.configs = dict(configmap["data"])
        self.running_configs = dict(self.configs)  # what the workers started with
        self.restart_ids: list[str] = []
        self.log: list[str] = []

    def _keda_reconciles(self) -> None:
        target = {SCALED_OBJECTS["prefill"]: ADAPTERS["prefill"],
                  SCALED_OBJECTS["decode"]: ADAPTERS["decode"]}  # fmt: skip
        for so, adapter in target.items():
            if not self.paused[so]:
                self.replicas[adapter] = self.keda_desired

    def adapter_replicas(self, adapter: str) -> int:
        return self.replicas[adapter]

    def scale_adapter(self, adapter: str, replicas: int) -> None:
        self.log.append(f"scale {adapter} {replicas}")
        self.replicas[adapter] = replicas
        self._keda_reconciles()

    def keda_paused(self, scaled_object: str) -> bool:
        return self.paused[scaled_object]

    def set_keda_paused(self, scaled_object: str, paused: bool) -> None:
        self.log.append(f"pause {scaled_object} {paused}")
        self.paused[scaled_object] = paused
        self._keda_reconciles()

    def engine_configs(self) -> dict[str, str]:
        return dict(self.configs)

    def set_engine_configs(self, data: Mapping[str, str]) -> None:
        self.configs = dict(data)

    def restart_graph(self, restart_id: str) -> None:
        assert restart_id not in self.restart_ids, "the same id does not restart again"
        self.restart_ids.append(restart_id)
        self.running_configs = dict(self.configs)

    def wait_ready(self, timeout_s: float) -> None:
        self.log.append("ready")

    def caching(self) -> set[bool]:
        return {
            yaml.safe_load(text)["kv_cache_config"]["enable_block_reuse"]
            for text in self.running_configs.values()
        }


def test_profiling_layout_is_one_plus_one_uncached_with_keda_paused_then_restored():
    cluster = FakeCluster()
    with profiling_layout(cluster, Targets(), run_id="r1", timeout_s=60, log=lambda _: None):
        assert cluster.replicas == {ADAPTERS["prefill"]: 1, ADAPTERS["decode"]: 1}
        assert all(cluster.paused.values())
        assert cluster.caching() == {False}
    assert cluster.replicas == {ADAPTERS["prefill"]: 3, ADAPTERS["decode"]: 4}
    assert cluster.paused == {SCALED_OBJECTS["prefill"]: False, SCALED_OBJECTS["decode"]: True}
    assert cluster.caching() == {True}
    assert cluster.restart_ids == ["r1-profile", "r1-restore"]


def test_keda_is_paused_before_scaling_and_resumed_after_restoring():
    cluster = FakeCluster(prefill=2, decode=3, keda_desired=5)
    with profiling_layout(cluster, Targets(), run_id="r2", timeout_s=60, log=lambda _: None):
        assert cluster.replicas[ADAPTERS["prefill"]] == 1, "KEDA must not undo the 1+1 layout"
    first_scale = next(i for i, e in enumerate(cluster.log) if e.startswith("scale"))
    assert all(e.startswith("pause") for e in cluster.log[:first_scale])
    last_scale = max(i for i, e in enumerate(cluster.log) if e.startswith("scale"))
    resume = cluster.log.index(f"pause {SCALED_OBJECTS['prefill']} False")
    assert resume > last_scale


def test_a_failed_profile_still_restores_the_cluster():
    cluster = FakeCluster()
    with (
        pytest.raises(RuntimeError, match="aiperf died"),
        profiling_layout(cluster, Targets(), run_id="r3", timeout_s=60, log=lambda _: None),
    ):
        raise RuntimeError("aiperf died")
    assert cluster.replicas == {ADAPTERS["prefill"]: 3, ADAPTERS["decode"]: 4}
    assert cluster.caching() == {True}


def test_prefix_caching_off_touches_only_block_reuse():
    configs = one(rendered("dynamo/overlays/prod"), "ConfigMap", ENGINE_CONFIGMAP)["data"]
    off = without_prefix_caching(configs)
    for key, text in configs.items():
        before, after = yaml.safe_load(text), yaml.safe_load(off[key])
        assert after["kv_cache_config"].pop("enable_block_reuse") is False
        before["kv_cache_config"].pop("enable_block_reuse")
        assert after == before, key


def test_profiler_command_uses_the_planner_directory_layout(tmp_path):
    argv = profiler_argv("decode", "http://x:1", "m", "m", tmp_path, 16384, 8, 348304)
    assert argv[argv.index("--work_dir") + 1] == str(tmp_path / "selected_decode_interpolation")
    assert argv[argv.index("--max_kv_tokens") + 1] == "348304"
    assert "dynamo.profiler.profile_endpoint" in argv
    prefill = profiler_argv("prefill", "http://x:1", "m", "m", tmp_path, 16384, 8, 1)
    assert "--max_kv_tokens" not in prefill
