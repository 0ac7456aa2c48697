"""Small adapter pieces: GPU budget guard, Prometheus answers, KEDA booleans, DGDSA version."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from loadgen.adapters.kubernetes import parse_bool_annotation, targets_from_settings
from loadgen.adapters.prometheus_query import parse_instant
from loadgen.adapters.scale_check import check_scale
from loadgen.errors import MetricsUnavailable, ScaleRejected
from loadgen.settings import Settings


def test_guard_keeps_one_worker_and_the_gpu_budget() -> None:
    desired = {"prefill": 2, "decode": 3}
    assert check_scale("prefill", 5, desired, 8) == "prefill"  # 5 + 3 = 8
    with pytest.raises(ScaleRejected, match="over the GPU budget of 8"):
        check_scale("prefill", 6, desired, 8)
    with pytest.raises(ScaleRejected, match="at least 1"):
        check_scale("decode", 0, desired, 8)
    with pytest.raises(ScaleRejected, match="unknown pool 'router'"):
        check_scale("router", 1, desired, 8)
    with pytest.raises(ScaleRejected, match="integer"):
        check_scale("decode", True, desired, 8)
    with pytest.raises(ScaleRejected, match="budget of 3"):
        check_scale("decode", 3, {"prefill": 1, "decode": 1}, 3)


def vector(*values: str) -> dict[str, object]:
    result = [{"metric": {}, "value": [1.0, v]} for v in values]
    return {"status": "success", "data": {"resultType": "vector", "result": result}}


def test_instant_answers() -> None:
    assert parse_instant(vector("0.75"), "q") == 0.75
    assert parse_instant(vector(), "q") is None
    assert parse_instant(vector("NaN"), "q") is None
    assert parse_instant(vector("+Inf"), "q") is None
    scalar = {"status": "success", "data": {"resultType": "scalar", "result": [1.0, "2"]}}
    assert parse_instant(scalar, "q") == 2.0
    with pytest.raises(MetricsUnavailable, match="2 series"):
        parse_instant(vector("1", "2"), "q")
    with pytest.raises(MetricsUnavailable, match="parse error"):
        parse_instant({"status": "error", "error": "parse error"}, "q")
    with pytest.raises(MetricsUnavailable, match="malformed"):
        parse_instant({"status": "success", "data": {"resultType": "vector", "result": [{}]}}, "q")


def test_keda_reads_paused_like_go_parsebool_and_anything_else_as_paused() -> None:
    assert parse_bool_annotation(None) is False
    assert parse_bool_annotation("false") is False
    assert parse_bool_annotation("0") is False
    assert parse_bool_annotation("true") is True
    assert parse_bool_annotation("T") is True
    assert parse_bool_annotation("yes") is True  # not a Go bool: KEDA assumes paused


def test_the_dgdsa_version_is_one_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    assert targets_from_settings(Settings(), 8).dgdsa_version == "v1beta1"  # k8s/dynamo's
    monkeypatch.setenv("LOADGEN_DGDSA_API_VERSION", "v1alpha1")
    targets = targets_from_settings(Settings(), 8)
    assert targets.dgdsa_version == "v1alpha1"
    assert targets.scaling_adapters == {
        "prefill": "gtc-demo-trtllmprefillworker",
        "decode": "gtc-demo-trtllmdecodeworker",
    }
    monkeypatch.setenv("LOADGEN_DGDSA_API_VERSION", "v2")
    with pytest.raises(ValueError, match="dgdsa_api_version"):
        Settings()


def test_the_default_dgdsa_version_is_the_one_the_kit_deploys() -> None:
    repo = Path(__file__).resolve().parents[4]
    dgd = yaml.safe_load((repo / "k8s/dynamo/base/dgd.yaml").read_text())
    versions = {dgd["apiVersion"]}
    for pool in ("prefill", "decode"):
        so = yaml.safe_load((repo / f"k8s/keda/base/scaledobject-{pool}.yaml").read_text())
        versions.add(so["spec"]["scaleTargetRef"]["apiVersion"])
    # When the kit moves to another version, this setting's default moves with it.
    assert versions == {f"nvidia.com/{Settings().dgdsa_api_version}"}
