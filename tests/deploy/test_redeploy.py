"""`make deploy-dynamo` twice, with scaling or a layout switch in between. The API server below
enforces the operator webhook's update rules (fixture dynamo-dgd-update-rules.yaml): replicas a
scaling adapter owns may not change, and the component topology is immutable; it answers with
the scalingAdapter shape of the operator version it plays (1.6.1's `{enabled: true}`, main's
marker `{}`)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from deploy_helpers import ADAPTERS, K8S, components_of
from deploykit.kustomize import build
from deploykit.redeploy import keep_live_replicas, prepare, run
from deploykit.resources import DGD_RESOURCE, GROVE_ANNOTATION

OVERLAY = K8S / "dynamo/overlays/prod"
AGGREGATED = K8S / "dynamo/overlays/prod-aggregated"
RULES = yaml.safe_load(
    (Path(__file__).parent / "fixtures/dynamo-dgd-update-rules.yaml").read_text(encoding="utf-8")
)


class Rejected(Exception):
    """The admission webhook's answer."""


class FakeApiServer:
    """One namespace's DGDs, applied, scaled and deleted the way the operator lets them be."""

    def __init__(self, operator: str = "1.6.1") -> None:
        self.graphs: dict[str, dict[str, Any]] = {}
        self.reads: list[list[str]] = []
        self.deleted: list[str] = []
        self.enabled_field = RULES["scaling_adapter_shape"][operator]["enabled_field"]

    def _owned(self, component: dict[str, Any]) -> bool:
        adapter = component.get("scalingAdapter")
        if self.enabled_field:
            return bool((adapter or {}).get("enabled"))
        return adapter is not None

    def _stored(self, obj: dict[str, Any]) -> dict[str, Any]:
        """What the API server keeps: main's marker struct has no `enabled` field (pruned)."""
        stored = copy.deepcopy(obj)
        if not self.enabled_field:
            for component in stored["spec"]["components"]:
                if "scalingAdapter" in component:
                    component["scalingAdapter"] = {}
        return stored

    def get_optional_json(self, args: list[str]) -> dict[str, Any] | None:
        self.reads.append(list(args))
        assert DGD_RESOURCE in args, "re-deploys must read the version they write"
        graph = self.graphs.get(args[-1])
        return copy.deepcopy(graph) if graph else None

    def delete_and_wait(self, args: list[str], timeout_s: float) -> None:
        assert DGD_RESOURCE in args
        assert timeout_s > 0
        self.deleted.append(args[-1])
        self.graphs.pop(args[-1], None)

    def apply(self, objects: list[dict[str, Any]]) -> None:
        for obj in objects:
            if obj["kind"] != "DynamoGraphDeployment":
                continue
            name = obj["metadata"]["name"]
            live = self.graphs.get(name)
            if live is not None:
                self._validate_update(live, obj)
            self.graphs[name] = self._stored(obj)

    def _validate_update(self, live: dict[str, Any], new: dict[str, Any]) -> None:
        old_components, new_components = components_of(live), components_of(new)
        added = sorted(set(new_components) - set(old_components))
        removed = sorted(set(old_components) - set(new_components))
        if added or removed:
            raise Rejected(
                f"spec.components: {RULES['topology']['message']}: components added: {added}, "
                f"components removed: {removed}"
            )
        for cname, component in new_components.items():
            old = old_components[cname]
            if self._owned(old) and component.get("replicas") != old.get("replicas"):
                raise Rejected(f"{cname}: {RULES['replicas']['message']}")

    def scale(self, adapter: str, replicas: int) -> None:
        """What the adapter controller does after KEDA or the presenter scaled it."""
        graph = self.graphs["gtc-demo"]
        for component in graph["spec"]["components"]:
            if f"gtc-demo-{component['name'].lower()}" == adapter:
                component["replicas"] = replicas


def replicas(api: FakeApiServer) -> dict[str, int]:
    return {n: c["replicas"] for n, c in components_of(api.graphs["gtc-demo"]).items()}


@pytest.mark.parametrize("operator", ["1.6.1", "main"])
def test_redeploy_after_scaling_keeps_the_live_replicas_and_applies_other_changes(operator):
    api = FakeApiServer(operator)
    plan = prepare(OVERLAY, api)
    assert plan.notes == ["first deploy: replicas from the files"]
    assert plan.recreate_reason is None
    api.apply(plan.objects)
    assert replicas(api) == {"Frontend": 1, "TRTLLMPrefillWorker": 2, "TRTLLMDecodeWorker": 3}

    api.scale(ADAPTERS["prefill"], 4)
    with pytest.raises(Rejected, match="TRTLLMPrefillWorker"):
        api.apply(build(OVERLAY))  # the defect: a plain apply of the files

    plan = prepare(OVERLAY, api)
    graph = next(o for o in plan.objects if o["kind"] == "DynamoGraphDeployment")
    graph["spec"]["components"][2]["podTemplate"]["spec"]["containers"][0]["args"].append("--x")
    api.apply(plan.objects)
    assert replicas(api) == {"Frontend": 1, "TRTLLMPrefillWorker": 4, "TRTLLMDecodeWorker": 3}
    assert plan.notes == ["TRTLLMPrefillWorker: keeping live replicas 4 (files say 2)"]
    decode = components_of(api.graphs["gtc-demo"])["TRTLLMDecodeWorker"]
    assert "--x" in decode["podTemplate"]["spec"]["containers"][0]["args"]
    assert api.reads[-1] == ["-n", "gtc-demo", DGD_RESOURCE, "gtc-demo"]


def test_a_layout_switch_is_refused_in_place_and_explained(capsys):
    api = FakeApiServer()
    api.apply(prepare(OVERLAY, api).objects)
    api.scale(ADAPTERS["decode"], 4)
    with pytest.raises(Rejected, match=RULES["topology"]["message"]):
        api.apply(prepare(AGGREGATED, api).objects)  # the defect: apply over the live graph

    code, manifests = run(AGGREGATED, api, recreate=False)
    assert (code, manifests) == (2, "")
    err = capsys.readouterr().err
    assert "component topology is immutable" in err
    assert "added ['TRTLLMWorker'], removed ['TRTLLMDecodeWorker', 'TRTLLMPrefillWorker']" in err
    assert "Frontend=1, TRTLLMDecodeWorker=4, TRTLLMPrefillWorker=2" in err
    assert "RECREATE=yes" in err
    assert api.deleted == []


def test_recreate_deletes_the_graph_then_applies_the_new_layout(capsys):
    api = FakeApiServer()
    api.apply(prepare(OVERLAY, api).objects)
    code, manifests = run(AGGREGATED, api, recreate=True)
    assert code == 0
    assert api.deleted == ["gtc-demo"]
    api.apply(list(yaml.safe_load_all(manifests)))
    assert replicas(api) == {"Frontend": 1, "TRTLLMWorker": 8}
    assert "deleting gtc-demo (Frontend=1, TRTLLMDecodeWorker=3, TRTLLMPrefillWorker=2)" in (
        capsys.readouterr().err
    )


def test_recreate_is_a_no_op_when_the_change_fits_in_place():
    api = FakeApiServer()
    api.apply(prepare(OVERLAY, api).objects)
    code, _ = run(OVERLAY, api, recreate=True)
    assert code == 0
    assert api.deleted == []


def test_a_grove_switch_on_a_live_graph_needs_a_recreate():
    api = FakeApiServer()
    api.apply(prepare(OVERLAY, api).objects)
    api.graphs["gtc-demo"]["metadata"]["annotations"][GROVE_ANNOTATION] = "false"
    reason = prepare(OVERLAY, api).recreate_reason
    assert reason is not None
    assert RULES["grove"]["annotation"] in reason
    assert "false -> true" in reason


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


def test_files_written_for_a_newer_operator_keep_live_replicas_too():
    """main's marker struct: the files say `scalingAdapter: {}` (no `enabled` field exists)."""
    rendered = build(OVERLAY)
    graph = next(o for o in rendered if o["kind"] == "DynamoGraphDeployment")
    for component in graph["spec"]["components"]:
        if "scalingAdapter" in component:
            component["scalingAdapter"] = {}
    live = copy.deepcopy(graph)
    components_of(live)["TRTLLMDecodeWorker"]["replicas"] = 5
    merged, notes = keep_live_replicas(rendered, live)
    out = components_of(next(o for o in merged if o["kind"] == "DynamoGraphDeployment"))
    assert out["TRTLLMDecodeWorker"]["replicas"] == 5
    assert notes == ["TRTLLMDecodeWorker: keeping live replicas 5 (files say 3)"]


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
