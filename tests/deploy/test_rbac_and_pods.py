"""Least privilege in the rendered manifests: RBAC without wildcards and limited by
resourceNames; the pods we own run non-root on a read-only root filesystem.

The Dynamo workers' pods are built by the Dynamo operator from the DGD, not by us: their
security context is the operator's and is not checked here.
"""

from __future__ import annotations

from typing import Any

import pytest
from deploy_helpers import overlays, rendered

RBAC_KINDS = {"Role", "ClusterRole"}
POD_OWNERS = {"Deployment", "StatefulSet", "DaemonSet", "Job", "ReplicaSet"}
# Kubernetes cannot restrict these verbs by object name (the name is not known, or the verb
# acts on a collection), so a rule granting them reaches every object of the kind: flagged too.
NAMELESS_VERBS = {"create", "list", "watch", "deletecollection"}
# Containers allowed to run as root, and the only capabilities they may add. The model cache's
# init container gives the NFS share's model folder to uid 10001 (chown needs root); it still
# drops everything else, cannot escalate and has a read-only root filesystem.
ROOT_ALLOWED = {("Job gtc-demo-model-cache", "prepare-share"): {"CHOWN"}}


def all_objects() -> list[dict[str, Any]]:
    objects: list[dict[str, Any]] = []
    for overlay in overlays():
        objects += rendered(str(overlay.relative_to(overlay.parents[2])))
    return objects


def rbac_problems(role: dict[str, Any]) -> list[str]:
    """Why `role` grants more than named objects (empty when it does not)."""
    name = f"{role['kind']} {role['metadata']['name']}"
    problems = []
    if role["kind"] == "ClusterRole":
        problems.append(f"{name}: cluster-wide role (the app needs one namespace)")
    if role.get("aggregationRule"):
        problems.append(f"{name}: aggregated role")
    for index, rule in enumerate(role.get("rules") or []):
        where = f"{name} rule {index}"
        for key in ("apiGroups", "resources", "verbs", "resourceNames", "nonResourceURLs"):
            if any("*" in str(value) for value in rule.get(key) or []):
                problems.append(f"{where}: wildcard in {key}")
        if rule.get("nonResourceURLs"):
            problems.append(f"{where}: nonResourceURLs")
        verbs = set(rule.get("verbs") or [])
        if verbs - NAMELESS_VERBS and not rule.get("resourceNames"):
            problems.append(f"{where}: {sorted(verbs - NAMELESS_VERBS)} without resourceNames")
        if verbs & {"list", "watch", "create", "deletecollection"}:
            problems.append(f"{where}: {sorted(verbs & NAMELESS_VERBS)} cannot be limited by name")
    return problems


def pod_problems(owner: dict[str, Any]) -> list[str]:
    name = f"{owner['kind']} {owner['metadata']['name']}"
    pod = owner["spec"]["template"]["spec"]
    pod_context = pod.get("securityContext") or {}
    problems = []
    if pod.get("hostNetwork") or pod.get("hostPID") or pod.get("hostIPC"):
        problems.append(f"{name}: shares a host namespace")
    for container in [*pod.get("initContainers", []), *pod.get("containers", [])]:
        where = f"{name} container {container['name']}"
        context = container.get("securityContext") or {}
        non_root = context.get("runAsNonRoot", pod_context.get("runAsNonRoot"))
        user = context.get("runAsUser", pod_context.get("runAsUser"))
        allowed_caps = ROOT_ALLOWED.get((name, container["name"]))
        if allowed_caps is None and (non_root is not True or user == 0):
            problems.append(f"{where}: not forced non-root")
        added = set((context.get("capabilities") or {}).get("add") or [])
        if added - (allowed_caps or set()):
            problems.append(f"{where}: adds capabilities {sorted(added)}")
        if context.get("readOnlyRootFilesystem") is not True:
            problems.append(f"{where}: root filesystem writable")
        if context.get("allowPrivilegeEscalation") is not False:
            problems.append(f"{where}: privilege escalation allowed")
        if context.get("privileged"):
            problems.append(f"{where}: privileged")
        if "ALL" not in ((context.get("capabilities") or {}).get("drop") or []):
            problems.append(f"{where}: capabilities not dropped")
    return problems


def test_every_role_is_limited_to_named_objects_without_wildcards():
    roles = [o for o in all_objects() if o["kind"] in RBAC_KINDS]
    assert roles, "the load generator's Role must be among the rendered objects"
    assert [p for role in roles for p in rbac_problems(role)] == []


def test_every_pod_we_own_runs_non_root_read_only():
    owners = [o for o in all_objects() if o["kind"] in POD_OWNERS]
    assert {o["metadata"]["name"] for o in owners} >= {"gtc-demo-loadgen"}
    assert [p for owner in owners for p in pod_problems(owner)] == []


@pytest.mark.parametrize(
    ("rule", "problem"),
    [
        ({"apiGroups": ["*"], "resources": ["pods"], "verbs": ["get"],
          "resourceNames": ["a"]}, "wildcard in apiGroups"),
        ({"apiGroups": [""], "resources": ["*"], "verbs": ["get"], "resourceNames": ["a"]},
         "wildcard in resources"),
        ({"apiGroups": [""], "resources": ["pods"], "verbs": ["*"], "resourceNames": ["a"]},
         "wildcard in verbs"),
        ({"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "patch"]},
         "without resourceNames"),
        ({"apiGroups": [""], "resources": ["pods"], "verbs": ["list"]}, "cannot be limited"),
    ],
)  # fmt: skip
def test_the_rbac_check_flags_planted_grants(rule: dict[str, Any], problem: str):
    role = {"kind": "Role", "metadata": {"name": "planted"}, "rules": [rule]}
    assert any(problem in p for p in rbac_problems(role)), rbac_problems(role)


def test_the_pod_check_flags_a_root_writable_container():
    owner = {
        "kind": "Deployment",
        "metadata": {"name": "planted"},
        "spec": {"template": {"spec": {"containers": [{"name": "c"}]}}},
    }
    problems = " ".join(pod_problems(owner))
    for expected in ("non-root", "writable", "escalation", "capabilities"):
        assert expected in problems
