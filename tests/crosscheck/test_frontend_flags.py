"""The local stack's Dynamo frontend runs with the cluster's frontend flags.

Local: the argv that localcluster.dynamo builds. Cluster: the Frontend args of the DGD rendered
by `kubectl kustomize` from the env's overlay (either DGD shape: v1alpha1 `spec.services`, or
v1beta1 `spec.components[]` with a pod template). Measured on the local stack: with migration off
a SIGKILLed decode worker failed its in-flight streams, with it on none failed.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

from demo_common.tools import find_tool
from localcluster import dynamo
from localcluster.perfmodel import hardware_profile
from localcluster.settings import FRONTEND_MIGRATION_LIMIT, EnvName, LocalClusterSettings

pytestmark = pytest.mark.integration  # runs kubectl
REPO = Path(__file__).resolve().parents[2]
# The flags that must agree, and what each one means if they do not.
SHARED_FLAGS = ("--migration-limit", "--router-mode", "--kv-cache-block-size")


def flag_values(argv: Sequence[str]) -> dict[str, str]:
    """`--flag value` and `--flag=value` pairs of a command line."""
    values: dict[str, str] = {}
    for i, arg in enumerate(argv):
        if not arg.startswith("--"):
            continue
        name, eq, value = arg.partition("=")
        if eq:
            values[name] = value
        elif i + 1 < len(argv) and not argv[i + 1].startswith("--"):
            values[name] = argv[i + 1]
    return values


def render(env: EnvName) -> list[dict[str, Any]]:
    kubectl = find_tool("kubectl", "KUBECTL")  # PATH or ~/.local/bin (`make tools`); else fails
    rendered = subprocess.run(
        [kubectl, "kustomize", str(REPO / "k8s" / "dynamo" / "overlays" / env)],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    return [doc for doc in yaml.safe_load_all(rendered.stdout) if doc]


def _containers(component: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    main = component.get("extraPodSpec", {}).get("mainContainer")  # v1alpha1
    if main:
        yield main
    yield from component.get("podTemplate", {}).get("spec", {}).get("containers", [])  # v1beta1


def cluster_frontend_argv(docs: list[dict[str, Any]]) -> list[str]:
    (dgd,) = [d for d in docs if d.get("kind") == "DynamoGraphDeployment"]
    spec = dgd["spec"]
    components = list(spec.get("services", {}).values()) + list(spec.get("components", []))
    frontends = [c for c in components if (c.get("componentType") or c.get("type")) == "frontend"]
    assert len(frontends) == 1, f"expected one frontend component in {dgd['apiVersion']}"
    argvs = [
        [*c.get("command", []), *c.get("args", [])]
        for c in _containers(frontends[0])
        if "dynamo.frontend" in c.get("command", []) + c.get("args", [])
    ]
    assert len(argvs) == 1, "the frontend component has no `dynamo.frontend` container"
    return [str(a) for a in argvs[0]]


def local_frontend_argv(env: EnvName) -> list[str]:
    settings = LocalClusterSettings(env=env)
    return dynamo.frontend_argv(settings, hardware_profile(settings.layout.profile), "ns")


@pytest.mark.parametrize("env", ["prod", "dev"])
def test_local_frontend_flags_match_the_clusters(env: EnvName) -> None:
    cluster = flag_values(cluster_frontend_argv(render(env)))
    local = flag_values(local_frontend_argv(env))
    for flag in SHARED_FLAGS:
        assert flag in cluster, f"the cluster's frontend does not set {flag} explicitly"
        assert local.get(flag) == cluster[flag], f"{flag}: local {local.get(flag)} vs cluster"
    assert int(cluster["--migration-limit"]) == FRONTEND_MIGRATION_LIMIT > 0


@pytest.mark.parametrize("env", ["prod", "dev"])
def test_local_workers_use_the_frontends_block_size(env: EnvName, tmp_path: Path) -> None:
    settings = LocalClusterSettings(env=env)
    profile = hardware_profile(settings.layout.profile)
    worker = dynamo.worker_argv(
        settings, profile, pool="decode", namespace="ns", model_dir=tmp_path, npz=tmp_path / "p"
    )
    frontend = flag_values(local_frontend_argv(env))
    assert flag_values(worker)["--block-size"] == frontend["--kv-cache-block-size"]


def test_both_dgd_shapes_are_read() -> None:
    """The parser reads the v1beta1 shape the DGD is moving to, not only today's."""
    args = ["--router-mode", "kv", "--kv-cache-block-size", "32", "--migration-limit", "3"]
    v1beta1 = {
        "apiVersion": "nvidia.com/v1beta1",
        "kind": "DynamoGraphDeployment",
        "spec": {
            "components": [
                {"name": "Worker", "type": "worker", "podTemplate": {"spec": {"containers": []}}},
                {
                    "name": "Frontend",
                    "type": "frontend",
                    "podTemplate": {
                        "spec": {
                            "containers": [
                                {"name": "main", "command": ["python3", "-m", "dynamo.frontend"],
                                 "args": args},
                            ]
                        }
                    },
                },
            ]
        },
    }  # fmt: skip
    assert flag_values(cluster_frontend_argv([v1beta1]))["--migration-limit"] == "3"
    v1alpha1 = {
        "apiVersion": "nvidia.com/v1alpha1",
        "kind": "DynamoGraphDeployment",
        "spec": {
            "services": {
                "Frontend": {
                    "componentType": "frontend",
                    "extraPodSpec": {
                        "mainContainer": {"command": ["python3", "-m", "dynamo.frontend"],
                                          "args": args}
                    },
                }
            }
        },
    }  # fmt: skip
    assert flag_values(cluster_frontend_argv([v1alpha1]))["--router-mode"] == "kv"
