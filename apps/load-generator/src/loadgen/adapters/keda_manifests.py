"""Reads the kit's own KEDA ScaledObjects (k8s/keda) as kustomize renders them for an env.

The local KEDA must scale on the very files deployed to the cluster, unchanged: the base files
plus the env overlay's bound patches. This reads the subset of kustomize those folders use
(resources, patches by path, namespace) and refuses anything else with the field named, so a
new kustomize feature cannot be silently ignored; an integration test compares the result with
`kubectl kustomize` for every overlay.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from loadgen.adapters.keda_rules import PoolRules, ScaledObject
from loadgen.controller.ports import PoolName
from loadgen.errors import ConfigError

_SUPPORTED = {"apiVersion", "kind", "resources", "patches", "namespace"}


def _strategic_merge(base: Any, patch: Any) -> Any:
    # Maps merge key by key; scalars and lists replace (the bounds patches hold scalars only).
    if isinstance(base, dict) and isinstance(patch, dict):
        merged = dict(base)
        for key, value in patch.items():
            merged[key] = None if value is None else _strategic_merge(base.get(key), value)
        return {k: v for k, v in merged.items() if v is not None}
    return copy.deepcopy(patch)


def _documents(path: Path) -> list[dict[str, Any]]:
    try:
        docs = [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    for doc in docs:
        if not isinstance(doc, dict):
            raise ConfigError(f"{path}: a document is not a mapping")
    return docs


def render(directory: Path) -> list[dict[str, Any]]:
    """The objects `kubectl kustomize <directory>` would emit (for the supported subset)."""
    kustomization_path = directory / "kustomization.yaml"
    docs = _documents(kustomization_path)
    if len(docs) != 1:
        raise ConfigError(f"{kustomization_path}: expected one Kustomization document")
    kustomization = docs[0]
    unsupported = set(kustomization) - _SUPPORTED
    if unsupported:
        raise ConfigError(
            f"{kustomization_path}: {', '.join(sorted(unsupported))}: not read by the local "
            "KEDA (supported: resources, patches, namespace)"
        )
    objects: list[dict[str, Any]] = []
    for resource in kustomization.get("resources") or []:
        target = directory / str(resource)
        objects.extend(render(target) if target.is_dir() else _documents(target))
    for index, patch in enumerate(kustomization.get("patches") or []):
        if not isinstance(patch, dict) or set(patch) != {"path"}:
            raise ConfigError(f"{kustomization_path}: patches[{index}]: only `path:` is read")
        for doc in _documents(directory / str(patch["path"])):
            objects = _apply_patch(objects, doc, f"{kustomization_path}: patches[{index}]")
    if namespace := kustomization.get("namespace"):
        for obj in objects:
            obj.setdefault("metadata", {})["namespace"] = namespace
    return objects


def _apply_patch(
    objects: list[dict[str, Any]], patch: dict[str, Any], where: str
) -> list[dict[str, Any]]:
    key = (patch.get("kind"), (patch.get("metadata") or {}).get("name"))
    matches = [i for i, o in enumerate(objects) if (o.get("kind"), o["metadata"]["name"]) == key]
    if len(matches) != 1:
        raise ConfigError(f"{where}: matches {len(matches)} objects named {key}, not one")
    patched = list(objects)
    patched[matches[0]] = _strategic_merge(objects[matches[0]], patch)
    return patched


def scaled_objects(keda_dir: Path, env: str) -> dict[str, ScaledObject]:
    """The env overlay's ScaledObjects by name, validated."""
    overlay = keda_dir / "overlays" / env
    if not overlay.is_dir():
        raise ConfigError(f"keda_dir: no KEDA overlay {overlay} (set LOADGEN_KEDA_DIR to k8s/keda)")
    found: dict[str, ScaledObject] = {}
    for obj in render(overlay):
        if obj.get("kind") != "ScaledObject":
            continue
        name = obj["metadata"]["name"]
        try:
            found[name] = ScaledObject.model_validate(obj)
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first["loc"])
            raise ConfigError(f"ScaledObject {name} ({overlay}): {field}: {first['msg']}") from exc
    return found


def pool_rules(
    keda_dir: Path, env: str, names: Mapping[PoolName, str]
) -> dict[PoolName, PoolRules]:
    """Each pool's scaling rules, from the ScaledObject named for it (settings' names)."""
    objects = scaled_objects(keda_dir, env)
    rules: dict[PoolName, PoolRules] = {}
    for pool, name in names.items():
        if name not in objects:
            raise ConfigError(f"{pool}: no ScaledObject {name!r} in {keda_dir} for env {env}")
        rules[pool] = PoolRules.from_scaled_object(objects[name])
    return rules
