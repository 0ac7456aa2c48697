"""The recording rules: the SLO signals that the dashboards, KEDA and the UI all read.

KEDA's two signals are recorded from the very query text of k8s/keda/base/scaledobject-*.yaml
(read at generation time), so the dashboards show the number KEDA scales on, and a change to a
ScaledObject shows up as a stale rules file in the freshness test.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from demo_observability.errors import ObservabilityError
from demo_observability.paths import KEDA_BASE_DIR

GROUP = "gtc-demo-slo"
WINDOW = "1m"  # the KEDA queries' window; every rate here uses the same one


@dataclass(frozen=True)
class RecordingRule:
    record: str
    expr: str
    help: str


# Names (level:metric:operations, Prometheus's convention); the dashboards import these.
TTFT_P50 = "workload:loadgen_ttft_seconds:p50_1m"
TTFT_P95 = "workload:loadgen_ttft_seconds:p95_1m"
ITL_P50 = "workload:loadgen_itl_seconds:p50_1m"
ITL_P95 = "workload:loadgen_itl_seconds:p95_1m"
CHAT_TTFT_P95_BY_TURNS = "turns:loadgen_ttft_seconds:chat_p95_1m"
PREFILL_SIGNAL = "keda:prefill_ttft_slo_ratio:max_1m"
DECODE_SIGNAL = "keda:decode_itl_slo_ratio:max_1m"
KV_HIT_RATIO = "router:kv_prefill_hit_ratio:rate_1m"
OUTPUT_TOKENS_RATE = "model:dynamo_frontend_output_tokens:rate_1m"
FROZEN_STREAMS = "workload:loadgen_frozen_streams:increase_1m"

KEDA_RULES = {"prefill": PREFILL_SIGNAL, "decode": DECODE_SIGNAL}


def _quantile(q: float, metric: str) -> str:
    return f"histogram_quantile({q}, sum by (workload, le) (rate({metric}_bucket[{WINDOW}])))"


def _chat_ttft(turn_matcher: str, turns: str) -> str:
    inner = (
        "histogram_quantile(0.95, sum by (le) "
        f'(rate(loadgen_ttft_seconds_bucket{{workload="chat", {turn_matcher}}}[{WINDOW}])))'
    )
    return f'label_replace({inner}, "turns", "{turns}", "", "")'


def keda_query(pool: str, keda_dir: Path = KEDA_BASE_DIR) -> str:
    """The query string of the pool's ScaledObject trigger, exactly as KEDA sends it."""
    path = keda_dir / f"scaledobject-{pool}.yaml"
    try:
        (doc,) = yaml.safe_load_all(path.read_text())
        query = doc["spec"]["triggers"][0]["metadata"]["query"]
    except (OSError, ValueError, KeyError, IndexError, TypeError) as exc:
        raise ObservabilityError(f"{path}: no prometheus trigger query ({exc})") from exc
    if not isinstance(query, str):
        raise ObservabilityError(f"{path}: the trigger query is not a string")
    return query


def recording_rules(keda_dir: Path = KEDA_BASE_DIR) -> list[RecordingRule]:
    return [
        RecordingRule(TTFT_P50, _quantile(0.5, "loadgen_ttft_seconds"), "client TTFT p50"),
        RecordingRule(TTFT_P95, _quantile(0.95, "loadgen_ttft_seconds"), "client TTFT p95"),
        RecordingRule(ITL_P50, _quantile(0.5, "loadgen_itl_seconds"), "client ITL p50"),
        RecordingRule(ITL_P95, _quantile(0.95, "loadgen_itl_seconds"), "client ITL p95"),
        RecordingRule(
            CHAT_TTFT_P95_BY_TURNS,
            _chat_ttft('turn="1"', "1") + "\nor\n" + _chat_ttft('turn!="1"', "2+"),
            "chat TTFT p95, first turn vs follow-up turns (prefix already cached)",
        ),
        RecordingRule(
            PREFILL_SIGNAL,
            keda_query("prefill", keda_dir),
            "the prefill ScaledObject's signal: worst per-workload TTFT p95 / SLO",
        ),
        RecordingRule(
            DECODE_SIGNAL,
            keda_query("decode", keda_dir),
            "the decode ScaledObject's signal: worst per-workload ITL p95 / SLO",
        ),
        RecordingRule(
            KV_HIT_RATIO,
            # Prefill side: tokens of each prompt already cached on the prefill worker the
            # router chose, over all prompt tokens. Not usage.cached_tokens /
            # dynamo_frontend_cached_tokens: in disaggregated mode those report the decode
            # worker's local cache (docs/measurement-conventions.md, "KV cache hit rate").
            "sum(rate(dynamo_component_router_kv_selected_cached_prefix_tokens_total"
            f'{{phase="prefill"}}[{WINDOW}]))\n/\n'
            "sum(rate(dynamo_component_router_input_sequence_tokens_sum"
            f'{{phase="prefill"}}[{WINDOW}]))',
            "KV cache hit rate on the prefill pool (router's view of reused prompt tokens)",
        ),
        RecordingRule(
            FROZEN_STREAMS,
            f"sum by (workload) (increase(loadgen_frozen_streams_total[{WINDOW}]))",
            "streams that paused longer than 250 ms at least once, per minute",
        ),
        RecordingRule(
            OUTPUT_TOKENS_RATE,
            f"sum(rate(dynamo_frontend_output_tokens_total[{WINDOW}]))",
            "output tokens per second served by the frontend",
        ),
    ]


def rule_groups(rules: list[RecordingRule]) -> dict[str, Any]:
    """The `groups:` document Prometheus loads (and PrometheusRule.spec carries)."""
    return {
        "groups": [{"name": GROUP, "rules": [{"record": r.record, "expr": r.expr} for r in rules]}]
    }


class _BlockDumper(yaml.SafeDumper):
    """Multi-line expressions as `|-` blocks, so the file reads like the source."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_BlockDumper.add_representer(str, _str)


def rules_yaml(rules: list[RecordingRule]) -> str:
    header = (
        "# GENERATED by `make dashboards` from observability/src/demo_observability/rules.py\n"
        "# (and the KEDA queries in k8s/keda/base). Do not edit: edit the source, regenerate.\n"
        "# Loaded by the local stack's Prometheus; shipped to the cluster by\n"
        "# terraform/cluster-config (kube-prometheus-stack additionalPrometheusRulesMap).\n"
    )
    notes = "".join(f"#   {r.record}: {r.help}\n" for r in rules)
    body = yaml.dump(rule_groups(rules), Dumper=_BlockDumper, sort_keys=False, width=100)
    return header + "# Rules:\n" + notes + body
