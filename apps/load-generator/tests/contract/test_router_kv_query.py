"""The screens' KV hit rate asks Prometheus the very expression the dashboards record, so the
audience view and the Grafana boards show one number (observability/rules, generated)."""

from __future__ import annotations

from pathlib import Path

import yaml

from loadgen.adapters.router_kv import KV_HIT_RATIO_QUERY, RECORDED_AS

RULES = Path(__file__).resolve().parents[4] / "observability/rules/gtc-demo.rules.yaml"


def test_the_app_query_is_the_recorded_rule_verbatim() -> None:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    recorded = {r["record"]: r["expr"] for g in groups for r in g["rules"]}
    assert RECORDED_AS in recorded, f"{RECORDED_AS} is no longer recorded in {RULES}"
    assert " ".join(recorded[RECORDED_AS].split()) == " ".join(KV_HIT_RATIO_QUERY.split())


def test_the_query_reads_the_prefill_side_only() -> None:
    # The decode side (usage.cached_tokens, dynamo_frontend_cached_tokens) understates reuse.
    assert KV_HIT_RATIO_QUERY.count('phase="prefill"') == 2
    assert "cached_tokens" not in KV_HIT_RATIO_QUERY
