"""Dashboards and rules, statically: fresh against their source, laid out for the booth screen,
scoped honestly, shared with KEDA, and shipped where the cluster's Grafana/Prometheus look."""

from __future__ import annotations

import re

import pytest
import yaml

from demo_observability import rules as r
from demo_observability.catalogue import (
    all_expressions,
    dashboard_expressions,
    keda_expressions,
    load_dashboards,
    rule_expressions,
)
from demo_observability.generate import rendered, stale_files
from demo_observability.paths import DASHBOARDS_DIR, REPO_ROOT, RULES_FILE
from demo_observability.scope import (
    CLUSTER_ONLY_NOTE,
    LOCAL_ONLY_NOTE,
    cluster_only,
    local_only,
)

BOARDS = load_dashboards()
# Labels that differ between the local stack and the cluster (or that Dynamo 1.6 lacks on the
# frontend): a query filtering on them would work in one place only.
PLACE_LABELS = ("job", "instance", "namespace", "pod", "dynamo_namespace", "container")


def test_generated_files_are_fresh():
    assert stale_files() == [], "run `make dashboards` and commit the result"


def test_generation_is_deterministic():
    assert rendered() == rendered()


def test_both_dashboards_exist_with_unique_panel_ids():
    assert set(BOARDS) == {"audience", "operator"}
    for name, board in BOARDS.items():
        ids = [p["id"] for p in board["panels"]]
        assert len(ids) == len(set(ids)), name
        assert all(p["targets"] for p in board["panels"]), f"{name}: a panel without a query"


@pytest.mark.parametrize("name", sorted(BOARDS))
def test_panels_tile_the_grid_without_overlap(name):
    cells: dict[tuple[int, int], str] = {}
    for panel in BOARDS[name]["panels"]:
        g = panel["gridPos"]
        assert g["x"] >= 0, panel["title"]
        assert g["x"] + g["w"] <= 24, panel["title"]
        for x in range(g["x"], g["x"] + g["w"]):
            for y in range(g["y"], g["y"] + g["h"]):
                assert (x, y) not in cells, f"{panel['title']} overlaps {cells[(x, y)]}"
                cells[(x, y)] = panel["title"]


def test_audience_dashboard_fits_one_1080p_screen():
    # Grafana rows are 30 px plus an 8 px gap: 28 rows = 1064 px in kiosk mode.
    panels = BOARDS["audience"]["panels"]
    assert max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in panels) <= 28
    titles = " | ".join(p["title"] for p in panels)
    for needed in ("Time to first token", "Inter-token latency", "Chat TTFT", "KV cache hit rate",
                   "Prefill pool", "Decode pool", "Free GPUs", "Queue depth", "GPU utilization",
                   "Output tokens/s", "Phase"):  # fmt: skip
        assert needed in titles, needed
    names = {a["name"] for a in BOARDS["audience"]["annotations"]["list"]}
    assert names == {"Scaling events", "Phase changes"}


@pytest.mark.parametrize("name", sorted(BOARDS))
def test_every_panel_says_where_its_data_exists(name):
    for panel in BOARDS[name]["panels"]:
        exprs = [t["expr"] for t in panel["targets"]]
        text = panel.get("description", "")
        assert text, panel["title"]
        assert (CLUSTER_ONLY_NOTE in text) == any(cluster_only(e) for e in exprs), panel["title"]
        assert (LOCAL_ONLY_NOTE in text) == any(local_only(e) for e in exprs), panel["title"]


def test_no_query_filters_on_labels_that_differ_between_local_and_cluster():
    pattern = re.compile(r"[{,]\s*(" + "|".join(PLACE_LABELS) + r")\s*(=~|!~|!=|=)")
    for e in all_expressions():
        assert not pattern.search(e.expr), e.label()


def test_keda_scales_on_exactly_the_recorded_expressions():
    recorded = {e.name: e.expr for e in rule_expressions()}
    keda = {e.name: e.expr for e in keda_expressions()}
    assert set(keda) == {"scaledobject-prefill.yaml", "scaledobject-decode.yaml"}
    assert keda["scaledobject-prefill.yaml"] == recorded[r.PREFILL_SIGNAL]
    assert keda["scaledobject-decode.yaml"] == recorded[r.DECODE_SIGNAL]


def test_every_recording_rule_is_read_by_a_dashboard():
    used = " ".join(e.expr for name, b in BOARDS.items() for e in dashboard_expressions(b, name))
    for rule in rule_expressions():
        assert re.search(rf"(?<![\w:]){re.escape(rule.name)}(?![\w:])", used), rule.name


def test_kv_hit_rate_panels_read_the_prefill_side_not_cached_tokens():
    rule = {e.name: e.expr for e in rule_expressions()}[r.KV_HIT_RATIO]
    assert 'phase="prefill"' in rule
    assert "cached_tokens" not in rule
    for panel in BOARDS["audience"]["panels"]:
        if "KV cache hit rate" in panel["title"]:
            assert [t["expr"] for t in panel["targets"]] == [r.KV_HIT_RATIO]


def test_cluster_ships_the_dashboards_to_the_grafana_sidecar_and_the_rules_as_prometheusrule():
    cluster = REPO_ROOT / "terraform" / "cluster-config"
    values = yaml.safe_load((cluster / "values" / "kube-prometheus-stack.yaml").read_text())
    sidecar = values["grafana"]["sidecar"]["dashboards"]
    assert sidecar["enabled"] is True
    tf = (cluster / "dashboards.tf").read_text()
    assert f'"{sidecar["label"]}"' in tf
    assert f'= "{sidecar["labelValue"]}"' in tf
    assert '"${path.module}/../../observability/dashboards"' in tf
    assert (cluster / "../../observability/dashboards").resolve() == DASHBOARDS_DIR
    assert '"${path.module}/../../observability/rules/' + RULES_FILE.name + '"' in tf
    # Terraform reads the rules through a symlink to the package's copy (the local stack's).
    assert (cluster / "../../observability/rules" / RULES_FILE.name).resolve() == RULES_FILE
    # kube-prometheus-stack renders additionalPrometheusRulesMap entries as PrometheusRules
    # (spec.groups = the entry's groups); the operator only loads them when selected.
    observability_tf = (cluster / "observability.tf").read_text()
    assert "additionalPrometheusRulesMap" in observability_tf
    assert "yamldecode(file(local.recording_rules_file))" in observability_tf
    assert values["prometheus"]["prometheusSpec"]["ruleSelectorNilUsesHelmValues"] is False
    # Upstream's template (templates/prometheus/additionalPrometheusRules.yaml) emits one
    # PrometheusRule per map entry with `spec.groups: <entry>.groups` (plus optional
    # `additionalLabels`): the entry must be exactly a rules document.
    entry = yaml.safe_load(RULES_FILE.read_text())
    assert set(entry) <= {"groups", "additionalLabels"}
    for group in entry["groups"]:
        assert set(group) == {"name", "rules"}
        assert all(set(rule) == {"record", "expr"} for rule in group["rules"])
