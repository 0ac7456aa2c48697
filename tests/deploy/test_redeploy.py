"""`make deploy-dynamo` twice, with scaling in between: the second apply keeps the replicas the
adapters set. The API server below enforces the operator's rule for adapter-owned replicas
(upstream v1beta1 types: replicas "managed by the DynamoGraphDeploymentScalingAdapter and should
not be modified directly"; the webhook rejects a DGD update whose replicas differ from the live
object while its adapter is on)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from deploy_helpers import ADAPTERS, K8S, components_of
from deploykit.kustomize import build
from deploykit.redeploy import DGD_RESOURCE, keep_live_replicas, prepare

OVERLAY = K8S / "dynamo/overlays/prod"


class Rejected(Exception):
    """The admission webhook's answer."""


class FakeApiServer:
    """One namespace's DGDs, applied and scaled the way the operator lets them be."""

    def __init__(self) -> None:
        self.graphs: dict[str, dict[str, Any]] = {}
        self.reads: list[list[str]] = []

    def get_optional_json(self, args: list[str]) -> dict[str, Any] | None:
        self.reads.append(list(args))
        assert DGD_RESOURCE in args, "re-deploys must read the version they write"
        graph = self.graphs.get(args[-1])
        return copy.deepcopy(graph) if graph else None

    def apply(self, objects: list[dict[str, Any]]) -> None:
        for obj in objects:
            if obj["kind"] != "DynamoGraphDeployment":
                continue
            name = obj["metadata"]["name"]
            live = self.graphs.get(name)
            if live is not None:
                live_components = components_of(live)
                for cname, component in components_of(obj).items():
                    old = live_components.get(cname)
                    owned = old and (old.get("scalingAdapter") or {}).get("enabled")
                    if owned and component.get("replicas") != old.get("replicas"):
                        raise Rejected(
                            f"{cname}: replicas {component.get('replicas')} != live "
                            f"{old.get('replicas')}; scale the DynamoGraphDeploymentScalingAdapter"
                        )
            self.graphs[name] = copy.deepcopy(obj)

    def scale(self, adapter: str, replicas: int) -> None:
        """What the adapter controller does after KEDA or the presenter scaled it."""
        graph = self.graphs["gtc-demo"]
        for component in graph["spec"]["components"]:
            if f"gtc-demo-{component['name'].lower()}" == adapter:
                component["replicas"] = replicas


def replicas(api: FakeApiServer) -> dict[str, int]:
    return {n: c["replicas"] for n, c in components_of(api.graphs["gtc-demo"]).items()}


def test_redeploy_after_scaling_keeps_the_live_replicas_and_applies_other_changes():
    api = FakeApiServer()
    objects, notes = prepare(OVERLAY, api)
    assert notes == ["first deploy: replicas from the files"]
    api.apply(objects)
    assert replicas(api) == {"Frontend": 1, "TRTLLMPrefillWorker": 2, "TRTLLMDecodeWorker": 3}

    api.scale(ADAPTERS["prefill"], 4)
    with pytest.raises(Rejected, match="TRTLLMPrefillWorker"):
        api.apply(build(OVERLAY))  # the defect: a plain apply of the files

    objects, notes = prepare(OVERLAY, api)
    graph = next(o for o in objects if o["kind"] == "DynamoGraphDeployment")
    graph["spec"]["components"][2]["podTemplate"]["spec"]["containers"][0]["args"].append("--x")
    api.apply(objects)
    assert replicas(api) == {"Frontend": 1, "TRTLLMPrefillWorker": 4, "TRTLLMDecodeWorker": 3}
    assert notes == ["TRTLLMPrefillWorker: keeping live replicas 4 (files say 2)"]
    decode = components_of(api.graphs["gtc-demo"])["TRTLLMDecodeWorker"]
    assert "--x" in decode["podTemplate"]["spec"]["containers"][0]["args"]
    assert api.reads[-1] == ["-n", "gtc-demo", DGD_RESOURCE, "gtc-demo"]


def test_only_adapter_owned_replicas_are_taken_from_the_live_graph():
    rendered = build(OVERLAY)
    graph = next(o for o in rendered if o["kind"] == "DynamoGraphDeployment")
    live = copy.deepcopy(graph)
    for component in live["spec"]["components"]:
        component["replicas"] = 7
    merged, _ = keep_live_replicas(rendered, live)
    out = components_of(next(o for o in merged if o["kind"] == "DynamoGraphDeployment"))
    assert out["Frontend"]["replicas"] == 1, "no adapter: the files decide"
    assert out["TRTLLMPrefillWorker"]["replicas"] == 7 == out["TRTLLMDecodeWorker"]["replicas"]
    assert components_of(graph)["TRTLLMPrefillWorker"]["replicas"] == 2, "input not mutated"


def test_a_component_new_to_the_cluster_starts_from_the_files():
    rendered = build(OVERLAY)
    live = copy.deepcopy(next(o for o in rendered if o["kind"] == "DynamoGraphDeployment"))
    live["spec"]["components"] = live["spec"]["components"][:2]
    merged, notes = keep_live_replicas(rendered, live)
    out = components_of(next(o for o in merged if o["kind"] == "DynamoGraphDeployment"))
    assert out["TRTLLMDecodeWorker"]["replicas"] == 3
    assert notes == ["TRTLLMDecodeWorker: new component, 3 replica(s)"]


def test_redeploy_without_kubectl_is_a_one_line_error(monkeypatch, tmp_path, capsys):
    from deploykit.redeploy import main

    monkeypatch.delenv("KUBECTL", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr("deploykit.kustomize.LOCAL_BIN", tmp_path)
    assert main([str(OVERLAY), "--context", "c", "--namespace", "gtc-demo"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("redeploy: kubectl not found")
    assert "make tools" in err
    assert len(err.splitlines()) == 1
