"""Every overlay renders and every object validates: core kinds against the Kubernetes
schemas (kubernetes-validate, offline), custom kinds against the project's own schemas."""

from __future__ import annotations

import copy
import shutil
import subprocess

import pytest
import yaml
from deploy_helpers import (
    CUSTOM_KINDS,
    K8S,
    api_group,
    cr_validator,
    dgd,
    overlays,
    rendered,
    validate_object,
)
from deploykit.errors import RenderError
from deploykit.render import render

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
    typo["spec"]["services"]["TRTLLMDecodeWorker"]["scalingAdaptor"] = {"enabled": True}
    assert validate_object(typo), "an unknown DGD field must fail"
    bad_env = copy.deepcopy(good)
    bad_env["spec"]["envs"].append({"value": "no name"})
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


def test_scaling_adapter_schema_accepts_what_the_operator_creates():
    adapter = {
        "apiVersion": "nvidia.com/v1alpha1",
        "kind": "DynamoGraphDeploymentScalingAdapter",
        "metadata": {"name": "gtc-demo-trtllmdecodeworker", "namespace": "gtc-demo"},
        "spec": {
            "replicas": 3,
            "dgdRef": {"name": "gtc-demo", "serviceName": "TRTLLMDecodeWorker"},
        },
    }
    assert validate_object(adapter) == []
    both = copy.deepcopy(adapter)
    both["spec"]["dgdRef"]["componentGroupName"] = "g"
    assert validate_object(both), "exactly one of serviceName/componentGroupName"


def test_every_schema_is_a_valid_json_schema():
    for filename in CUSTOM_KINDS.values():
        assert cr_validator(filename) is not None


def test_kinds_without_a_schema_are_core_kinds():
    for overlay in OVERLAYS:
        for obj in rendered(overlay):
            group = api_group(obj["apiVersion"])
            assert (
                (group, obj["kind"]) in CUSTOM_KINDS
                or "." not in group
                or group.endswith(".k8s.io")
            ), f"no schema for {obj['apiVersion']} {obj['kind']}"


def test_no_grove_overlays_differ_from_their_env_only_by_the_grove_annotation():
    for env in ("dev", "prod"):
        plain = {(o["kind"], o["metadata"]["name"]): o for o in rendered(f"dynamo/overlays/{env}")}
        fallback = {
            (o["kind"], o["metadata"]["name"]): copy.deepcopy(o)
            for o in rendered(f"dynamo/overlays/{env}-no-grove")
        }
        key = ("DynamoGraphDeployment", "gtc-demo")
        assert plain[key]["metadata"]["annotations"]["nvidia.com/enable-grove"] == "true"
        assert fallback[key]["metadata"]["annotations"]["nvidia.com/enable-grove"] == "false"
        fallback[key]["metadata"]["annotations"]["nvidia.com/enable-grove"] = "true"
        assert fallback == plain


def _write(tmp_path, name, docs):
    (tmp_path / name).write_text(yaml.safe_dump_all(docs), encoding="utf-8")


def test_renderer_merges_maps_and_replaces_lists_of_custom_resources(tmp_path):
    base = tmp_path / "base"
    base.mkdir()
    cr = {"apiVersion": "x.io/v1", "kind": "Thing", "metadata": {"name": "t"}}
    cr["spec"] = {"keep": 1, "change": 1, "drop": 1, "items": [1, 2]}
    _write(base, "thing.yaml", [cr])
    _write(base, "kustomization.yaml", [{"resources": ["thing.yaml"], "namespace": "ns"}])
    patch = {**cr, "spec": {"change": 2, "drop": None, "items": [3]}}
    _write(tmp_path, "patch.yaml", [patch])
    _write(
        tmp_path,
        "kustomization.yaml",
        [{"resources": ["base"], "patches": [{"path": "patch.yaml"}]}],
    )
    (out,) = render(tmp_path)
    assert out["spec"] == {"keep": 1, "change": 2, "items": [3]}
    assert out["metadata"]["namespace"] == "ns"


def test_renderer_refuses_list_patches_on_builtin_kinds_and_unknown_fields(tmp_path):
    cm = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}, "spec": {}}
    _write(tmp_path, "d.yaml", [cm])
    _write(tmp_path, "p.yaml", [{**cm, "spec": {"template": {"spec": {"containers": []}}}}])
    _write(
        tmp_path, "kustomization.yaml", [{"resources": ["d.yaml"], "patches": [{"path": "p.yaml"}]}]
    )
    with pytest.raises(RenderError, match="strategic merge"):
        render(tmp_path)
    _write(tmp_path, "kustomization.yaml", [{"resources": ["d.yaml"], "commonLabels": {"a": "b"}}])
    with pytest.raises(RenderError, match="commonLabels"):
        render(tmp_path)


def test_renderer_image_override_sets_the_pushed_tag():
    ref = "registry.digitalocean.com/do-solutions-sfo3/gtc-demo-loadgen"
    objects = render(K8S / "load-generator/overlays/prod", {ref: f"{ref}:20260101-abcdef1"})
    deployment = next(o for o in objects if o["kind"] == "Deployment")
    images = [c["image"] for c in deployment["spec"]["template"]["spec"]["containers"]]
    assert images == [f"{ref}:20260101-abcdef1"]


@pytest.mark.integration
@pytest.mark.skipif(
    shutil.which("kubectl") is None, reason="kubectl (with kustomize) not installed"
)
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_renderer_matches_kubectl_kustomize(overlay):
    done = subprocess.run(
        ["kubectl", "kustomize", str(K8S / overlay)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr

    def key(o):
        return (o["apiVersion"], o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"])

    theirs = {key(o): o for o in yaml.safe_load_all(done.stdout) if o}
    mine = {key(o): o for o in rendered(overlay)}
    assert mine == theirs
