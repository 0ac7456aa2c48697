"""Every overlay renders with `kubectl kustomize` (what `make deploy` applies) and every object
validates: core kinds against the Kubernetes schemas (kubernetes-validate, offline), custom
kinds against the project's own schemas written from the upstream types."""

from __future__ import annotations

import copy

import pytest
import yaml
from deploy_helpers import (
    CUSTOM_KINDS,
    K8S,
    api_group,
    composed,
    cr_validator,
    dgd,
    overlays,
    rendered,
    validate_object,
)
from deploykit.errors import RenderError, ToolMissingError
from deploykit.kustomize import build, compose, find_tool

OVERLAYS = [str(p.relative_to(K8S)) for p in overlays()]


def test_every_component_has_dev_and_prod_overlays():
    for component in ("dynamo", "keda", "load-generator", "model-cache"):
        assert {f"{component}/overlays/dev", f"{component}/overlays/prod"} <= set(OVERLAYS)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_rendered_object_validates(overlay):
    objects = rendered(overlay)
    assert objects, f"{overlay} rendered nothing"
    problems = {
        f"{o['kind']}/{o['metadata']['name']}": errs
        for o in objects
        if (errs := validate_object(o))
    }
    assert not problems, problems


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_object_is_namespaced_in_the_demo_namespace(overlay):
    for obj in rendered(overlay):
        assert obj["metadata"].get("namespace") == "gtc-demo", obj["metadata"]["name"]


def test_custom_schemas_reject_what_the_api_would_prune_or_refuse():
    good = dgd("prod")
    typo = copy.deepcopy(good)
    typo["spec"]["components"][2]["scalingAdaptor"] = {"enabled": True}
    assert validate_object(typo), "an unknown DGD field must fail"
    v1alpha1_field = copy.deepcopy(good)
    v1alpha1_field["spec"]["services"] = {}
    assert validate_object(v1alpha1_field), "v1alpha1's services map is not a v1beta1 field"
    no_main = copy.deepcopy(good)
    no_main["spec"]["components"][0]["podTemplate"]["spec"]["containers"][0]["name"] = "engine"
    assert validate_object(no_main), "the operator needs a container named main"
    bad_env = copy.deepcopy(good)
    bad_env["spec"]["env"].append({"value": "no name"})
    assert validate_object(bad_env), "core EnvVar rules must apply inside the DGD"
    so = next(o for o in rendered("keda/overlays/prod") if o["kind"] == "ScaledObject")
    bad_so = copy.deepcopy(so)
    bad_so["spec"]["triggers"][0]["metadata"]["threshold"] = 0.8
    assert validate_object(bad_so), "KEDA wants numbers in trigger metadata as strings"
    bad_behavior = copy.deepcopy(so)
    bad_behavior["spec"]["advanced"]["horizontalPodAutoscalerConfig"]["behavior"]["scaleUp"][
        "stabilizationWindowSeconds"
    ] = "30s"
    assert validate_object(bad_behavior), "HPA behaviour must follow autoscaling/v2"


def test_scaling_adapter_schemas_accept_what_the_operator_creates_in_both_versions():
    v1alpha1 = {
        "apiVersion": "nvidia.com/v1alpha1",
        "kind": "DynamoGraphDeploymentScalingAdapter",
        "metadata": {"name": "gtc-demo-trtllmdecodeworker", "namespace": "gtc-demo"},
        "spec": {
            "replicas": 3,
            "dgdRef": {"name": "gtc-demo", "serviceName": "TRTLLMDecodeWorker"},
        },
    }
    assert validate_object(v1alpha1) == []
    both = copy.deepcopy(v1alpha1)
    both["spec"]["dgdRef"]["componentGroupName"] = "g"
    assert validate_object(both), "exactly one of serviceName/componentGroupName"
    v1beta1 = copy.deepcopy(v1alpha1)
    v1beta1["apiVersion"] = "nvidia.com/v1beta1"
    assert validate_object(v1beta1), "v1beta1 renamed serviceName to componentName"
    v1beta1["spec"]["dgdRef"] = {"name": "gtc-demo", "componentName": "TRTLLMDecodeWorker"}
    assert validate_object(v1beta1) == []


def test_every_schema_is_a_valid_json_schema():
    for filename in CUSTOM_KINDS.values():
        assert cr_validator(filename) is not None


def test_kinds_without_a_schema_are_core_kinds():
    for overlay in OVERLAYS:
        for obj in rendered(overlay):
            group = api_group(obj["apiVersion"])
            assert (
                (obj["apiVersion"], obj["kind"]) in CUSTOM_KINDS
                or "." not in group
                or group.endswith(".k8s.io")
            ), f"no schema for {obj['apiVersion']} {obj['kind']}"


SWITCHES = {
    "grove off": ("dynamo/components/no-grove",),
    "kai off": ("dynamo/components/no-kai",),
    "both off": ("dynamo/components/no-grove", "dynamo/components/no-kai"),
}


@pytest.mark.parametrize("env", ["dev", "prod"])
@pytest.mark.parametrize("switch", sorted(SWITCHES))
def test_every_switch_combination_renders_valid_and_changes_only_its_annotation(
    env, switch, tmp_path_factory
):
    out = tmp_path_factory.mktemp(f"{env}-{switch.replace(' ', '-')}")
    plain = {(o["kind"], o["metadata"]["name"]): o for o in rendered(f"dynamo/overlays/{env}")}
    switched = {
        (o["kind"], o["metadata"]["name"]): copy.deepcopy(o)
        for o in composed(f"dynamo/overlays/{env}", SWITCHES[switch], out)
    }
    for obj in switched.values():
        assert validate_object(obj) == [], obj["metadata"]["name"]
    key = ("DynamoGraphDeployment", "gtc-demo")
    annotations = switched[key]["metadata"]["annotations"]
    expected = {"nvidia.com/enable-grove": "true", "nvidia.com/kai-scheduler-queue": "gtc-demo"}
    if "grove" in switch or "both" in switch:
        expected["nvidia.com/enable-grove"] = "false"
    if "kai" in switch or "both" in switch:
        del expected["nvidia.com/kai-scheduler-queue"]
    assert annotations == expected
    switched[key]["metadata"]["annotations"] = plain[key]["metadata"]["annotations"]
    assert switched == plain, "a switch must change nothing but its annotation"


def test_replica_patches_are_guarded_by_the_component_name(tmp_path):
    """The overlays patch components[] by index; the `test` op makes a reordered list fail
    loudly instead of scaling the wrong pool."""
    base = tmp_path / "base"
    base.mkdir()
    graph = copy.deepcopy(dgd("prod"))
    graph["spec"]["components"].reverse()
    (base / "dgd.yaml").write_text(yaml.safe_dump(graph), encoding="utf-8")
    (base / "kustomization.yaml").write_text(
        yaml.safe_dump({"resources": ["dgd.yaml"]}), encoding="utf-8"
    )
    overlay = tmp_path / "overlay"
    overlay.mkdir()
    (overlay / "replicas.yaml").write_text(
        (K8S / "dynamo/overlays/prod/replicas.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    target = {"group": "nvidia.com", "kind": "DynamoGraphDeployment", "name": "gtc-demo"}
    (overlay / "kustomization.yaml").write_text(
        yaml.safe_dump(
            {"resources": ["../base"], "patches": [{"path": "replicas.yaml", "target": target}]}
        ),
        encoding="utf-8",
    )
    with pytest.raises(RenderError, match="test"):
        build(overlay)


def test_compose_pins_the_pushed_image_tag(tmp_path):
    ref = "registry.digitalocean.com/do-solutions-sfo3/gtc-demo-loadgen"
    out = compose(
        tmp_path / "loadgen", K8S / "load-generator/overlays/prod", images={ref: "20260101-abcdef1"}
    )
    deployment = next(o for o in build(out) if o["kind"] == "Deployment")
    images = [c["image"] for c in deployment["spec"]["template"]["spec"]["containers"]]
    assert images == [f"{ref}:20260101-abcdef1"]


def test_compose_refuses_a_directory_without_kustomization(tmp_path):
    with pytest.raises(RenderError, match=r"no kustomization\.yaml"):
        compose(tmp_path / "out", tmp_path)


def test_a_missing_kubectl_is_an_error_naming_make_tools(monkeypatch, tmp_path):
    monkeypatch.delenv("KUBECTL", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr("deploykit.kustomize.LOCAL_BIN", tmp_path)
    with pytest.raises(ToolMissingError, match="make tools"):
        find_tool("kubectl", "KUBECTL")
