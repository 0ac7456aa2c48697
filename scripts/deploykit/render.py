"""Renders the repo's kustomize overlays (the subset it uses) so CI and make need no kustomize.

Supported kustomization fields: resources (files and directories), components, patches
(files or inline, matched by kind and name), namespace, images. Patches are merged as JSON
merge patches (RFC 7386): maps merge, lists are replaced. That is exactly kustomize's
behaviour for custom resources; for built-in kinds kustomize uses strategic merge, which
agrees with it as long as the patch touches no list, so such patches are refused. Where a
kustomize binary exists, tests/deploy compares both renderers' output object by object.
"""

from __future__ import annotations

import argparse
import copy
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

from deploykit.errors import DeployKitError, RenderError

Manifest = dict[str, Any]

KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
SUPPORTED_FIELDS = frozenset(
    {"apiVersion", "kind", "resources", "components", "patches", "namespace", "images"}
)
CLUSTER_SCOPED_KINDS = frozenset(
    {
        "Namespace",
        "ClusterRole",
        "ClusterRoleBinding",
        "PersistentVolume",
        "RuntimeClass",
        "CustomResourceDefinition",
        "StorageClass",
        "PriorityClass",
    }
)
# API groups whose kinds kustomize patches with strategic-merge semantics.
STRATEGIC_MERGE_GROUPS = frozenset(
    {"", "apps", "batch", "rbac.authorization.k8s.io", "networking.k8s.io", "policy"}
)


def api_group(api_version: str) -> str:
    """The group part of an apiVersion ("" for the core group)."""
    return api_version.split("/", 1)[0] if "/" in api_version else ""


def load_kustomization(directory: Path) -> tuple[Path, dict[str, Any]]:
    """Find and parse the kustomization file of a directory."""
    for name in KUSTOMIZATION_NAMES:
        candidate = directory / name
        if candidate.is_file():
            data = yaml.safe_load(candidate.read_text(encoding="utf-8")) or {}
            if not isinstance(data, dict):
                raise RenderError(f"{candidate}: not a mapping")
            unknown = set(data) - SUPPORTED_FIELDS
            if unknown:
                raise RenderError(f"{candidate}: unsupported field(s) {sorted(unknown)}")
            return candidate, data
    raise RenderError(f"{directory}: no kustomization file")


def load_manifests(path: Path) -> list[Manifest]:
    """All YAML documents of a file, each checked to be a Kubernetes object."""
    docs = [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d is not None]
    for doc in docs:
        if not isinstance(doc, dict) or not {"apiVersion", "kind", "metadata"} <= set(doc):
            raise RenderError(f"{path}: a document lacks apiVersion/kind/metadata")
    return docs


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch: maps merge recursively, null deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result: dict[str, Any] = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _contains_list(value: Any) -> bool:
    if isinstance(value, list):
        return True
    if isinstance(value, dict):
        return any(_contains_list(v) for v in value.values())
    return False


def _matches(resource: Manifest, patch: Manifest) -> bool:
    meta = patch.get("metadata", {})
    if resource.get("kind") != patch.get("kind"):
        return False
    if api_group(resource["apiVersion"]) != api_group(patch["apiVersion"]):
        return False
    if resource["metadata"].get("name") != meta.get("name"):
        return False
    namespace = meta.get("namespace")
    return namespace is None or resource["metadata"].get("namespace") == namespace


def _patch_documents(entry: Any, base: Path) -> list[Manifest]:
    if not isinstance(entry, dict) or "target" in entry:
        raise RenderError(f"{base}: patches must be {{path: ...}} or {{patch: ...}} without target")
    if "path" in entry:
        return load_manifests(base / entry["path"])
    if "patch" in entry:
        return [d for d in yaml.safe_load_all(entry["patch"]) if d is not None]
    raise RenderError(f"{base}: a patch entry has neither path nor patch")


def apply_patches(resources: list[Manifest], entries: list[Any], base: Path) -> None:
    """Apply each patch document to the one resource it names (error if none or several)."""
    for entry in entries:
        for patch in _patch_documents(entry, base):
            hits = [i for i, r in enumerate(resources) if _matches(r, patch)]
            name = f"{patch.get('kind')}/{patch.get('metadata', {}).get('name')}"
            if len(hits) != 1:
                raise RenderError(f"{base}: patch {name} matches {len(hits)} resources")
            if api_group(patch["apiVersion"]) in STRATEGIC_MERGE_GROUPS and _contains_list(patch):
                raise RenderError(
                    f"{base}: patch {name} touches a list of a built-in kind "
                    "(strategic merge is not supported; patch maps only)"
                )
            resources[hits[0]] = merge_patch(resources[hits[0]], patch)


def set_namespace(resources: list[Manifest], namespace: str) -> None:
    """The namespace transformer: namespaced objects and ServiceAccount subjects."""
    for resource in resources:
        if resource["kind"] in CLUSTER_SCOPED_KINDS:
            continue
        resource["metadata"]["namespace"] = namespace
        if resource["kind"] in {"RoleBinding", "ClusterRoleBinding"}:
            for subject in resource.get("subjects", []):
                if subject.get("kind") == "ServiceAccount":
                    subject["namespace"] = namespace


def pod_specs(resource: Manifest) -> Iterator[dict[str, Any]]:
    """Pod specs inside the workload kinds this repo uses."""
    spec = resource.get("spec", {})
    kind = resource["kind"]
    if kind == "Pod":
        yield spec
    elif kind in {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}:
        yield spec.get("template", {}).get("spec", {})
    elif kind == "CronJob":
        yield spec.get("jobTemplate", {}).get("spec", {}).get("template", {}).get("spec", {})


def image_name(image: str) -> str:
    """Image reference without tag or digest."""
    without_digest = image.split("@", 1)[0]
    last = without_digest.rsplit("/", 1)[-1]
    if ":" in last:
        return without_digest[: without_digest.rfind(":")]
    return without_digest


def set_images(resources: list[Manifest], images: Mapping[str, str]) -> None:
    """Replace the image of every container whose image name is a key of `images`."""
    for resource in resources:
        for spec in pod_specs(resource):
            for key in ("containers", "initContainers"):
                for container in spec.get(key, []):
                    name = image_name(str(container.get("image", "")))
                    if name in images:
                        container["image"] = images[name]


def _kustomize_images(entries: list[Any], where: Path) -> dict[str, str]:
    result: dict[str, str] = {}
    for entry in entries:
        if not isinstance(entry, dict) or "name" not in entry:
            raise RenderError(f"{where}: images entries need a name")
        reference = str(entry.get("newName", entry["name"]))
        if "digest" in entry:
            reference = f"{reference}@{entry['digest']}"
        elif "newTag" in entry:
            reference = f"{reference}:{entry['newTag']}"
        result[entry["name"]] = reference
    return result


def _build(directory: Path, expected_kind: str) -> list[Manifest]:
    path, kustomization = load_kustomization(directory)
    kind = kustomization.get("kind", "Kustomization")
    if kind != expected_kind:
        raise RenderError(f"{path}: expected kind {expected_kind}, found {kind}")
    resources: list[Manifest] = []
    for entry in kustomization.get("resources", []):
        target = (directory / entry).resolve()
        if target.is_dir():
            resources.extend(_build(target, "Kustomization"))
        elif target.is_file():
            resources.extend(load_manifests(target))
        else:
            raise RenderError(f"{path}: resource {entry} does not exist")
    for entry in kustomization.get("components", []):
        component_dir = (directory / entry).resolve()
        _, component = load_kustomization(component_dir)
        resources.extend(_build_component_resources(component_dir, component))
        _transform(resources, component, component_dir)
    _transform(resources, kustomization, directory)
    return resources


def _build_component_resources(directory: Path, component: dict[str, Any]) -> list[Manifest]:
    if component.get("kind") != "Component":
        raise RenderError(f"{directory}: components must be kind Component")
    found: list[Manifest] = []
    for entry in component.get("resources", []):
        found.extend(load_manifests(directory / entry))
    return found


def _transform(resources: list[Manifest], kustomization: dict[str, Any], base: Path) -> None:
    apply_patches(resources, kustomization.get("patches", []), base)
    if "namespace" in kustomization:
        set_namespace(resources, str(kustomization["namespace"]))
    if "images" in kustomization:
        set_images(resources, _kustomize_images(kustomization["images"], base))


def render(directory: Path, image_overrides: Mapping[str, str] | None = None) -> list[Manifest]:
    """Render a kustomization directory; `image_overrides` maps image name -> full reference."""
    resources = copy.deepcopy(_build(directory.resolve(), "Kustomization"))
    if image_overrides:
        set_images(resources, image_overrides)
    return resources


def dump(resources: list[Manifest]) -> str:
    """Multi-document YAML, keys in file order, ready for kubectl apply -f -."""
    return yaml.safe_dump_all(resources, sort_keys=False, default_flow_style=False)


def _parse_image(value: str) -> tuple[str, str]:
    name, sep, reference = value.partition("=")
    if not sep or not name or not reference:
        raise argparse.ArgumentTypeError(f"--image wants NAME=REFERENCE, got {value!r}")
    return name, reference


def main(argv: list[str] | None = None) -> int:
    """CLI: python -m deploykit.render DIR [--image NAME=REF]... > manifests.yaml"""
    parser = argparse.ArgumentParser(prog="deploykit.render", description=__doc__)
    parser.add_argument("directory", type=Path)
    parser.add_argument("--image", action="append", type=_parse_image, default=[])
    args = parser.parse_args(argv)
    try:
        resources = render(args.directory, dict(args.image))
    except DeployKitError as exc:
        print(f"render: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(dump(resources))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
