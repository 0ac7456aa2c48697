"""Helpers for tests/deploy: parsed Terraform stacks, rendered overlays, CR schemas."""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

import hcl2
import jsonschema
import kubernetes_validate
import yaml
from deploykit.kustomize import build_cached, compose
from referencing import Registry, Resource

REPO = Path(__file__).resolve().parents[2]
TERRAFORM = REPO / "terraform"
STACKS = ("infra", "cluster-config")
K8S = REPO / "k8s"
SCHEMAS = Path(__file__).resolve().parent / "schemas"
K8S_VERSION = "1.34.0"  # DOKS version pinned by terraform/infra (kubernetes_version 1.34.1-do.3)
CORE_DEFS_URI = "https://kubernetes.io/api/_definitions.json"

# Contracts (docs/contracts.md, k8s/) the files must agree with.
DGD_NAME = "gtc-demo"
NAMESPACE = "gtc-demo"
ADAPTERS = {"prefill": "gtc-demo-trtllmprefillworker", "decode": "gtc-demo-trtllmdecodeworker"}
SCALED_OBJECTS = {"prefill": "gtc-demo-prefill", "decode": "gtc-demo-decode"}
BLOCK_SIZE = 32
SERVED_MODEL = {
    "dev": "meta-llama/Llama-3.1-8B-Instruct",
    "prod": "meta-llama/Llama-3.1-70B-Instruct",
}
GPUS = {"dev": 3, "prod": 8}
LOADGEN_METRICS = {
    "loadgen_ttft_seconds",
    "loadgen_ttst_seconds",
    "loadgen_itl_seconds",
    "loadgen_e2e_seconds",
    "loadgen_schedule_lag_seconds",
    "loadgen_requests_total",
    "loadgen_tokens_total",
    "loadgen_followup_questions_total",
    "loadgen_target_rps",
    "loadgen_achieved_rps",
    "loadgen_in_flight",
    "loadgen_event_loop_lag_seconds",
    "loadgen_client_saturated",
    "loadgen_slo_ttft_seconds",
    "loadgen_slo_itl_seconds",
    "loadgen_slo_max_gap_seconds",
    "loadgen_max_gap_seconds",
    "loadgen_frozen_streams_total",
    "loadgen_frozen_seconds_total",
    "loadgen_requests_within_slo_total",
}
# Custom resources by (apiVersion, kind): the kit writes DGD v1beta1; v1alpha1 shapes are kept
# to build fixtures of what an unversioned `kubectl get` might return.
CUSTOM_KINDS = {
    ("nvidia.com/v1beta1", "DynamoGraphDeployment"): "dynamographdeployment-v1beta1.yaml",
    ("nvidia.com/v1alpha1", "DynamoGraphDeployment"): "dynamographdeployment-v1alpha1.yaml",
    (
        "nvidia.com/v1beta1",
        "DynamoGraphDeploymentScalingAdapter",
    ): "dynamographdeploymentscalingadapter-v1beta1.yaml",
    (
        "nvidia.com/v1alpha1",
        "DynamoGraphDeploymentScalingAdapter",
    ): "dynamographdeploymentscalingadapter-v1alpha1.yaml",
    ("keda.sh/v1alpha1", "ScaledObject"): "scaledobject.yaml",
    ("monitoring.coreos.com/v1", "ServiceMonitor"): "servicemonitor.yaml",
    ("monitoring.coreos.com/v1", "PodMonitor"): "podmonitor.yaml",
}


def unquote(value: Any) -> Any:
    """python-hcl2 keeps the quotes of string literals; drop them."""
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def tf_files(stack: str) -> list[Path]:
    return sorted((TERRAFORM / stack).glob("*.tf"))


@functools.cache
def parse_tf(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        parsed: dict[str, Any] = hcl2.load(handle)
    return parsed


def tf_blocks(stack: str, kind: str) -> list[Any]:
    blocks: list[Any] = []
    for path in tf_files(stack):
        blocks.extend(parse_tf(path).get(kind, []))
    return blocks


def tf_named(stack: str, kind: str) -> dict[str, dict[str, Any]]:
    """variable/output blocks as {name: body}."""
    return {
        unquote(k): v
        for block in tf_blocks(stack, kind)
        for k, v in block.items()
        if not k.startswith("__")
    }


def tf_resources(stack: str, rtype: str) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for block in tf_blocks(stack, "resource"):
        for key, body in block.items():
            if unquote(key) == rtype:
                found.update({unquote(n): a for n, a in body.items() if not n.startswith("__")})
    return found


def tf_locals(stack: str) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for block in tf_blocks(stack, "locals"):
        merged.update({k: unquote(v) for k, v in block.items() if not k.startswith("__")})
    return merged


def resolve(value: Any, stack: str) -> Any:
    """Resolve ${local.x} (whole or interpolated) against literal locals of the stack."""
    if not isinstance(value, str):
        return value
    locals_ = tf_locals(stack)
    whole = re.fullmatch(r"\$\{local\.(\w+)\}", value)
    if whole:
        return resolve(locals_[whole.group(1)], stack)
    return re.sub(r"\$\{local\.(\w+)\}", lambda m: str(resolve(locals_[m.group(1)], stack)), value)


def tf_code(stack: str) -> str:
    """All .tf text of a stack without comments (for reference scans)."""
    text = "\n".join(p.read_text(encoding="utf-8") for p in tf_files(stack))
    return re.sub(r"(?m)^\s*#.*$|(?<=\s)#[^\n\"]*$", "", text)


def tfvars(env: str) -> dict[str, Any]:
    with (TERRAFORM / "environments" / f"{env}.tfvars").open(encoding="utf-8") as handle:
        data = hcl2.load(handle)
    return {k: unquote(v) for k, v in data.items() if not k.startswith("__")}


def overlays() -> list[Path]:
    return sorted(p for p in K8S.glob("*/overlays/*") if p.is_dir())


def rendered(overlay: str) -> tuple[dict[str, Any], ...]:
    """`kubectl kustomize k8s/<overlay>`, once per session (tests must not mutate the result)."""
    return build_cached(K8S / overlay)


@functools.cache
def composed(base: str, components: tuple[str, ...], out: Path) -> tuple[dict[str, Any], ...]:
    """Render what `make deploy-dynamo` applies: k8s/<base> plus k8s/<component>s, composed the
    way the Makefile does (deploykit.kustomize compose), then kubectl kustomize."""
    compose(out, K8S / base, components=[K8S / c for c in components])
    return build_cached(out)


def components_of(graph: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A v1beta1 DGD's components by name."""
    return {c["name"]: c for c in graph["spec"]["components"]}


def main_container(component: dict[str, Any]) -> dict[str, Any]:
    containers = component["podTemplate"]["spec"]["containers"]
    (main,) = [c for c in containers if c["name"] == "main"]
    return main


def one(objects: tuple[dict[str, Any], ...], kind: str, name: str | None = None) -> dict[str, Any]:
    hits = [o for o in objects if o["kind"] == kind and name in (None, o["metadata"]["name"])]
    assert len(hits) == 1, f"expected one {kind} {name or ''}, found {len(hits)}"
    return hits[0]


def dgd(env: str) -> dict[str, Any]:
    return one(rendered(f"dynamo/overlays/{env}"), "DynamoGraphDeployment", DGD_NAME)


def api_group(api_version: str) -> str:
    return api_version.split("/", 1)[0] if "/" in api_version else ""


@functools.cache
def _registry() -> Registry:
    core_dir = Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema"
    defs = json.loads((core_dir / f"v{K8S_VERSION}-local-strict" / "_definitions.json").read_text())
    registry: Registry = Registry().with_resource(CORE_DEFS_URI, Resource.from_contents(defs))
    for path in SCHEMAS.glob("*.yaml"):
        schema = yaml.safe_load(path.read_text(encoding="utf-8"))
        registry = registry.with_resource(schema["$id"], Resource.from_contents(schema))
    return registry


@functools.cache
def cr_validator(filename: str) -> jsonschema.protocols.Validator:
    schema = yaml.safe_load((SCHEMAS / filename).read_text(encoding="utf-8"))
    validator_cls = jsonschema.validators.validator_for(schema)
    validator_cls.check_schema(schema)
    return validator_cls(schema, registry=_registry())


def validate_object(obj: dict[str, Any]) -> list[str]:
    """Errors of one object: our schemas for custom kinds, kubernetes-validate for core kinds."""
    key = (obj["apiVersion"], obj["kind"])
    if key in CUSTOM_KINDS:
        validator = cr_validator(CUSTOM_KINDS[key])
        return [
            f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator.iter_errors(obj)
        ]
    try:
        kubernetes_validate.validate(obj, K8S_VERSION, strict=True)
    except kubernetes_validate.ValidationError as exc:
        return [f"{'/'.join(map(str, exc.path))}: {exc.message}"]
    return []
