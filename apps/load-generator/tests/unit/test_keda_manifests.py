"""The local KEDA reads the kit's own k8s/keda ScaledObjects: base + the env overlay's bounds."""

from __future__ import annotations

from pathlib import Path

import pytest

from loadgen.adapters.keda_manifests import pool_rules, render, scaled_objects
from loadgen.errors import ConfigError

REPO = Path(__file__).resolve().parents[4]
KEDA_DIR = REPO / "k8s" / "keda"
NAMES = {"prefill": "gtc-demo-prefill", "decode": "gtc-demo-decode"}


def test_prod_reads_the_base_bounds_and_behavior() -> None:
    rules = pool_rules(KEDA_DIR, "prod", NAMES)
    assert (rules["prefill"].min_replicas, rules["prefill"].max_replicas) == (1, 3)
    assert (rules["decode"].min_replicas, rules["decode"].max_replicas) == (1, 5)
    # The GPU budget of prod (8) holds for both pools at their maxima.
    assert rules["prefill"].max_replicas + rules["decode"].max_replicas <= 8
    for r in rules.values():
        assert r.metric_type == "Value"
        assert r.threshold == pytest.approx(0.8)
        assert r.polling_interval_s == 10
        assert r.scale_up.window_s == 30
        assert r.scale_down.window_s == 300
        assert [(p.type, p.value, p.period_seconds) for p in r.scale_up.policies] == [
            ("Pods", 2, 240)
        ]
    assert "loadgen_ttft_seconds_bucket" in rules["prefill"].query
    assert "loadgen_itl_seconds_bucket" in rules["decode"].query


def test_dev_overlay_patches_only_the_bounds() -> None:
    prod = pool_rules(KEDA_DIR, "prod", NAMES)
    dev = pool_rules(KEDA_DIR, "dev", NAMES)
    for pool in ("prefill", "decode"):
        assert (dev[pool].min_replicas, dev[pool].max_replicas) == (1, 2)
        assert dev[pool].query == prod[pool].query
        assert dev[pool].scale_up == prod[pool].scale_up
    objects = scaled_objects(KEDA_DIR, "dev")
    assert objects["gtc-demo-decode"].metadata.namespace == "gtc-demo"


def test_unknown_env_and_missing_names_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no KEDA overlay"):
        scaled_objects(KEDA_DIR, "staging")
    with pytest.raises(ConfigError, match="no ScaledObject 'nope'"):
        pool_rules(KEDA_DIR, "prod", {"prefill": "nope"})


def test_unsupported_kustomize_features_are_refused_by_name(tmp_path: Path) -> None:
    (tmp_path / "kustomization.yaml").write_text(
        "resources: [so.yaml]\nreplacements: []\ncommonLabels: {a: b}\n"
    )
    with pytest.raises(ConfigError, match="commonLabels, replacements"):
        render(tmp_path)


def test_a_patch_must_match_exactly_one_object(tmp_path: Path) -> None:
    (tmp_path / "so.yaml").write_text(
        "apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata: {name: a}\nspec: {}\n"
    )
    (tmp_path / "p.yaml").write_text(
        "apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata: {name: b}\nspec: {}\n"
    )
    (tmp_path / "kustomization.yaml").write_text(
        "resources: [so.yaml]\npatches: [{path: p.yaml}]\n"
    )
    with pytest.raises(ConfigError, match="matches 0 objects"):
        render(tmp_path)
