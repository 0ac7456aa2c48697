"""`make deploy-dynamo`: renders the DGD overlay and keeps the replicas the scaling adapters set.

Once a component has a scaling adapter, the adapter owns its `replicas` (upstream v1beta1
types: "managed by the DynamoGraphDeploymentScalingAdapter and should not be modified
directly"), and the operator's webhook rejects a DGD update whose replicas differ from the live
object. A plain `kubectl apply` of the files after KEDA or the presenter scaled would send the
starting layout and be refused. So re-deploys read the live DGD (explicit API version) and copy
its replicas into the object they apply; a first deploy applies the files as they are.
"""

from __future__ import annotations

import argparse
import copy
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from deploykit.errors import DeployKitError
from deploykit.kustomize import Manifest, build, dump

DGD_KIND = "DynamoGraphDeployment"
# Ask for the version the kit writes; `kubectl get dgd` alone returns the preferred version.
DGD_RESOURCE = "dynamographdeployments.v1beta1.nvidia.com"


class LiveGraphs(Protocol):
    """Reads one live object (None when absent); the kubectl adapter implements it."""

    def get_optional_json(self, args: Sequence[str]) -> dict[str, Any] | None: ...


def scaled_components(graph: Manifest) -> dict[str, dict[str, Any]]:
    """Components whose replicas a scaling adapter owns, by name."""
    return {
        c["name"]: c
        for c in graph.get("spec", {}).get("components", [])
        if (c.get("scalingAdapter") or {}).get("enabled")
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


def graph_name(objects: Sequence[Manifest]) -> tuple[str, str]:
    graphs = [o for o in objects if o.get("kind") == DGD_KIND]
    if len(graphs) != 1:
        raise DeployKitError(f"expected one {DGD_KIND} in the overlay, found {len(graphs)}")
    meta = graphs[0]["metadata"]
    return str(meta.get("namespace", "default")), str(meta["name"])


def prepare(directory: Path, cluster: LiveGraphs) -> tuple[list[Manifest], list[str]]:
    """Render `directory` and merge in the live replicas of the graph it contains."""
    rendered = build(directory)
    namespace, name = graph_name(rendered)
    live = cluster.get_optional_json(["-n", namespace, DGD_RESOURCE, name])
    return keep_live_replicas(rendered, live)


def main(argv: list[str] | None = None) -> int:
    """CLI: DIR --context CTX --namespace NS > manifests.yaml (notes on stderr)."""
    from deploykit.kube import KubectlCluster  # the adapter only where it is used

    parser = argparse.ArgumentParser(prog="deploykit.redeploy", description=__doc__)
    parser.add_argument("directory", type=Path)
    parser.add_argument("--context", required=True)
    parser.add_argument("--namespace", required=True)
    args = parser.parse_args(argv)
    try:
        cluster = KubectlCluster(args.context, "unused", args.namespace)
        objects, notes = prepare(args.directory, cluster)
    except DeployKitError as exc:
        print(f"redeploy: {exc}", file=sys.stderr)
        return 2
    for note in notes:
        print(f"redeploy: {note}", file=sys.stderr)
    sys.stdout.write(dump(objects))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
