"""`make deploy-dynamo`: renders the DGD overlay, keeps the replicas the scaling adapters set, and
re-creates the graph when the change cannot be made in place.

Once a component has a scaling adapter, the adapter owns its `replicas` (upstream v1beta1
types: "managed by the DynamoGraphDeploymentScalingAdapter and should not be modified
directly"), and the operator's webhook rejects a DGD update whose replicas differ from the live
object. A plain `kubectl apply` of the files after KEDA or the presenter scaled would send the
starting layout and be refused. So re-deploys read the live DGD (explicit API version) and copy
its replicas into the object they apply; a first deploy applies the files as they are.

Some changes the operator never accepts in place: its webhook makes the component topology
immutable (validateDynamoGraphDeploymentSpecUpdate: no component added or removed, so a layout
switch is refused), and the Grove switch picks the workload provider at creation (minAvailable
is immutable after it). Those need the graph deleted and created again: refused with the reason
and the live replicas unless `--recreate` is given (`make switch-layout` gives it).
"""

from __future__ import annotations

import argparse
import copy
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from deploykit.errors import DeployKitError
from deploykit.kustomize import Manifest, build, dump
from deploykit.resources import DGD_RESOURCE, GROVE_ANNOTATION, adapter_owns_replicas

DGD_KIND = "DynamoGraphDeployment"
DELETE_TIMEOUT_S = 900  # every worker pod drains and terminates before the graph is gone


class LiveGraphs(Protocol):
    """Reads and deletes one live object; the kubectl adapter implements it."""

    def get_optional_json(self, args: Sequence[str]) -> dict[str, Any] | None: ...

    def delete_and_wait(self, args: Sequence[str], timeout_s: float) -> None: ...


@dataclass(frozen=True)
class Plan:
    """What a re-deploy applies, what it says, and why it must re-create (None: in place)."""

    objects: list[Manifest]
    notes: list[str]
    recreate_reason: str | None
    live_replicas: dict[str, int]


def scaled_components(graph: Manifest) -> dict[str, dict[str, Any]]:
    """Components whose replicas a scaling adapter owns, by name."""
    return {
        c["name"]: c
        for c in graph.get("spec", {}).get("components", [])
        if adapter_owns_replicas(c)
    }


def keep_live_replicas(
    rendered: Sequence[Manifest], live: Manifest | None
) -> tuple[list[Manifest], list[str]]:
    """The rendered objects with every adapter-owned replicas taken from `live`, plus one note
    per replica count that differs from the files (so the operator sees what was kept)."""
    objects = [copy.deepcopy(o) for o in rendered]
    notes: list[str] = []
    if live is None:
        return objects, ["first deploy: replicas from the files"]
    live_replicas = {
        c["name"]: c.get("replicas") for c in live.get("spec", {}).get("components", [])
    }
    for obj in objects:
        if obj.get("kind") != DGD_KIND:
            continue
        for name, component in scaled_components(obj).items():
            current = live_replicas.get(name)
            if current is None:
                notes.append(f"{name}: new component, {component.get('replicas')} replica(s)")
                continue
            if current != component.get("replicas"):
                wanted = component.get("replicas")
                notes.append(f"{name}: keeping live replicas {current} (files say {wanted})")
            component["replicas"] = current
    return objects, notes


def _component_names(graph: Manifest) -> set[str]:
    return {c["name"] for c in graph.get("spec", {}).get("components", [])}


def _grove(graph: Manifest) -> str:
    return str(graph.get("metadata", {}).get("annotations", {}).get(GROVE_ANNOTATION, "")).lower()


def recreate_reason(wanted: Manifest, live: Manifest | None) -> str | None:
    """Why `wanted` cannot be applied over `live` in place (None when it can)."""
    if live is None:
        return None
    added = sorted(_component_names(wanted) - _component_names(live))
    removed = sorted(_component_names(live) - _component_names(wanted))
    if added or removed:
        return (
            "component topology is immutable after creation (operator webhook): "
            f"components added {added}, removed {removed}"
        )
    if _grove(wanted) != _grove(live):
        return (
            f"{GROVE_ANNOTATION} {_grove(live) or 'unset'} -> {_grove(wanted) or 'unset'}: the "
            "operator chooses Grove or plain Deployments when the graph is created"
        )
    return None


def graph_of(objects: Sequence[Manifest]) -> Manifest:
    graphs = [o for o in objects if o.get("kind") == DGD_KIND]
    if len(graphs) != 1:
        raise DeployKitError(f"expected one {DGD_KIND} in the overlay, found {len(graphs)}")
    return graphs[0]


def graph_name(objects: Sequence[Manifest]) -> tuple[str, str]:
    meta = graph_of(objects)["metadata"]
    return str(meta.get("namespace", "default")), str(meta["name"])


def prepare(directory: Path, cluster: LiveGraphs) -> Plan:
    """Render `directory`, merge in the live replicas of its graph, and say whether the live
    graph must be re-created first."""
    rendered = build(directory)
    namespace, name = graph_name(rendered)
    live = cluster.get_optional_json(["-n", namespace, DGD_RESOURCE, name])
    objects, notes = keep_live_replicas(rendered, live)
    live_replicas = {
        str(c["name"]): int(c.get("replicas", 1))
        for c in (live or {}).get("spec", {}).get("components", [])
    }
    return Plan(objects, notes, recreate_reason(graph_of(rendered), live), live_replicas)


def run(directory: Path, cluster: LiveGraphs, *, recreate: bool) -> tuple[int, str]:
    """(exit code, manifests to apply); notes and errors go to stderr."""
    plan = prepare(directory, cluster)
    namespace, name = graph_name(plan.objects)
    had = ", ".join(f"{c}={n}" for c, n in sorted(plan.live_replicas.items()))
    if plan.recreate_reason and not recreate:
        print(
            f"redeploy: {name} cannot be changed in place ({plan.recreate_reason}); it runs "
            f"{had}. Re-run with RECREATE=yes to delete and re-create it (every worker "
            "restarts; components that stay keep these replicas).",
            file=sys.stderr,
        )
        return 2, ""
    if plan.recreate_reason:
        print(f"redeploy: deleting {name} ({had}) to re-create it", file=sys.stderr)
        cluster.delete_and_wait(["-n", namespace, DGD_RESOURCE, name], DELETE_TIMEOUT_S)
    for note in plan.notes:
        print(f"redeploy: {note}", file=sys.stderr)
    return 0, dump(plan.objects)


def main(argv: list[str] | None = None) -> int:
    """CLI: DIR --context CTX --namespace NS [--recreate] > manifests.yaml (notes on stderr)."""
    from deploykit.kube import KubectlCluster  # the adapter only where it is used

    parser = argparse.ArgumentParser(prog="deploykit.redeploy", description=__doc__)
    parser.add_argument("directory", type=Path)
    parser.add_argument("--context", required=True)
    parser.add_argument("--namespace", required=True)
    parser.add_argument("--recreate", action="store_true", help="delete and re-create if needed")
    args = parser.parse_args(argv)
    try:
        cluster = KubectlCluster(args.context, "unused", args.namespace)
        code, manifests = run(args.directory, cluster, recreate=args.recreate)
    except DeployKitError as exc:
        print(f"redeploy: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(manifests)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
