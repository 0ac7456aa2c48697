"""The audience dashboard: what the booth screen shows (1920x1080, readable from the aisle)."""

from __future__ import annotations

from typing import Any

from grafana_foundation_sdk.builders import stat as stat_b
from grafana_foundation_sdk.builders import timeseries as ts_b
from grafana_foundation_sdk.models import common

from demo_observability import rules as r
from demo_observability.panels import (
    SPEED_NOTE,
    Grid,
    Q,
    annotation,
    assemble,
    stat,
    timeseries,
)

UID = "gtc-demo-audience"
SLO_DASH = ".* SLO$"
GREEN, AMBER, RED = "green", "#EAB839", "red"

# Pool sizes: the scenario controller exports what it asked for and what is ready, from the
# scaling adapters (DGDSA) in the cluster and from the pool supervisor locally.
POOL_SOURCE = (
    "desired/ready from the scenario controller (cluster: the DynamoGraphDeploymentScalingAdapter "
    "spec and ready pods; local: the pool supervisor)."
)


def _pool_stat(pool: str, grid: Grid) -> stat_b.Panel:
    return stat(
        f"{pool.capitalize()} pool",
        f"{pool.capitalize()} workers. {POOL_SOURCE}",
        [
            Q(f'sum(loadgen_pool_replicas{{pool="{pool}", state="desired"}})', "desired"),
            Q(f'sum(loadgen_pool_replicas{{pool="{pool}", state="ready"}})', "ready"),
        ],
        grid,
        unit="none",
        decimals=0,
    )


def build() -> dict[str, Any]:
    top, mid, low, bottom = 0, 5, 13, 21
    panels: list[stat_b.Panel | ts_b.Panel] = [
        stat(
            "Phase",
            "The demo script's current phase (scenario controller, auto mode); in manual or "
            "stopped mode no phase plays and the panel says so.",
            [Q("max by (phase, mode) (loadgen_scenario_phase_info) == 1", "{{phase}}")],
            Grid(0, top, 6, 5),
            unit="none",
            text_mode=common.BigValueTextMode.NAME,
            no_value="no script phase (manual or stopped)",
        ),
        _pool_stat("prefill", Grid(6, top, 4, 5)),
        _pool_stat("decode", Grid(10, top, 4, 5)),
        stat(
            "Free GPUs",
            "GPU budget of the node minus the GPUs the pools asked for (scenario controller).",
            [
                Q(
                    'max(loadgen_gpu_budget) - sum(loadgen_pool_replicas{state="desired"})',
                    "free",
                )
            ],
            Grid(14, top, 3, 5),
            unit="none",
            decimals=0,
            thresholds=[(None, RED), (1, GREEN)],
            text_mode=common.BigValueTextMode.VALUE,
        ),
        stat(
            "KV cache hit rate",
            "Share of prompt tokens already cached on the prefill worker the router chose "
            "(router, prefill phase, last minute). Not usage.cached_tokens, which in "
            "disaggregated mode reports the decode worker's cache.",
            [Q(r.KV_HIT_RATIO, "hit rate")],
            Grid(17, top, 4, 5),
            unit="percentunit",
            decimals=0,
            thresholds=[(None, "blue")],
            text_mode=common.BigValueTextMode.VALUE,
        ),
        stat(
            "Output tokens/s",
            f"Tokens streamed by the Dynamo frontend per second (last minute). {SPEED_NOTE}",
            [Q(r.OUTPUT_TOKENS_RATE, "tokens/s")],
            Grid(21, top, 3, 5),
            unit="short",
            decimals=0,
            thresholds=[(None, "blue")],
            text_mode=common.BigValueTextMode.VALUE,
        ),
        timeseries(
            "Time to first token (p50 / p95) vs SLO",
            "Client-side TTFT per workload from the load generator's histograms (bucket edges "
            "on the SLOs); dashed lines are each workload's p95 SLO. The prefill pool scales "
            "on the worst p95/SLO ratio.",
            [
                Q(r.TTFT_P95, "{{workload}} p95"),
                Q(r.TTFT_P50, "{{workload}} p50"),
                Q("max by (workload) (loadgen_slo_ttft_seconds)", "{{workload}} SLO"),
            ],
            Grid(0, mid, 12, 8),
            unit="s",
            dashed_regex=SLO_DASH,
        ),
        timeseries(
            "Inter-token latency (p50 / p95) vs SLO",
            "Client-side ITL per token and workload; dashed lines are the p95 SLOs. The decode "
            "pool scales on the worst p95/SLO ratio.",
            [
                Q(r.ITL_P95, "{{workload}} p95"),
                Q(r.ITL_P50, "{{workload}} p50"),
                Q("max by (workload) (loadgen_slo_itl_seconds)", "{{workload}} SLO"),
            ],
            Grid(12, mid, 12, 8),
            unit="s",
            dashed_regex=SLO_DASH,
        ),
        timeseries(
            "Chat TTFT p95: first turn vs follow-ups",
            "Follow-up turns resend the conversation so far: its prefix is already in the "
            "prefill worker's KV cache, so their TTFT stays low as the prompt grows.",
            [Q(r.CHAT_TTFT_P95_BY_TURNS, "turn {{turns}}")],
            Grid(0, low, 8, 8),
            unit="s",
        ),
        timeseries(
            "KV cache hit rate (prefill)",
            "Router's prefill-phase cached-prefix tokens / prompt tokens, per minute.",
            [Q(r.KV_HIT_RATIO, "hit rate")],
            Grid(8, low, 8, 8),
            unit="percentunit",
            max_value=1,
        ),
        timeseries(
            "Queue depth",
            "Requests waiting in the Dynamo router's queue per worker type, and requests in "
            "flight at the frontend.",
            [
                Q(
                    "sum by (worker_type) (dynamo_frontend_router_queue_pending_requests)",
                    "queued for {{worker_type}}",
                ),
                Q("sum(dynamo_frontend_inflight_requests)", "in flight"),
            ],
            Grid(16, low, 8, 8),
            unit="short",
        ),
        timeseries(
            "Pool sizes",
            f"Workers per pool. {POOL_SOURCE}",
            [
                Q('sum by (pool) (loadgen_pool_replicas{state="desired"})', "{{pool}} desired"),
                Q('sum by (pool) (loadgen_pool_replicas{state="ready"})', "{{pool}} ready"),
            ],
            Grid(0, bottom, 6, 7),
            unit="none",
            dashed_regex=".* desired$",
        ),
        timeseries(
            "GPU utilization",
            "DCGM GPU utilization per GPU of the node.",
            [Q("avg by (gpu) (DCGM_FI_DEV_GPU_UTIL)", "GPU {{gpu}}")],
            Grid(6, bottom, 6, 7),
            unit="percent",
            max_value=100,
        ),
        timeseries(
            "Output tokens/s",
            f"Tokens streamed by the Dynamo frontend per second. {SPEED_NOTE}",
            [Q(r.OUTPUT_TOKENS_RATE, "tokens/s")],
            Grid(12, bottom, 6, 7),
            unit="short",
        ),
        timeseries(
            "Streams that froze (per minute)",
            "Answers whose text stopped for longer than 250 ms at least once (a reader sees "
            "the stream stop), per workload over the last minute, measured by the load "
            "generator. A per-token ITL p95 hides these: a long prompt prefilled on the same "
            "GPU stops every stream that GPU decodes.",
            [Q(r.FROZEN_STREAMS, "{{workload}}")],
            Grid(18, bottom, 6, 7),
            unit="short",
        ),
    ]
    return assemble(
        "GTC demo: disaggregated inference",
        UID,
        "Audience screen: latency against SLOs, pools, KV cache, phases.",
        ["gtc-demo", "audience"],
        refresh="5s",
        window="now-15m",
        panels=panels,
        annotations=event_annotations(),
    )


def new_events(counter: str, by: str, window: str = "30s") -> str:
    """Series > 0 where `counter` rose within `window`, by `by`.

    The controller's counters are born at their first event (value 1): increase() cannot see
    that first step, so a label set that did not exist `window` ago counts as an event too.
    """
    return (
        f"sum by ({by}) (\n  (increase({counter}[{window}]) > 0)\n"
        f"  or ({counter} unless {counter} offset {window})\n)"
    )


def event_annotations() -> list[dict[str, Any]]:
    """Scaling events and phase changes (scenario controller), on both dashboards."""
    return [
        annotation(
            "Scaling events",
            new_events("loadgen_scenario_scale_events_total", "pool, direction, source"),
            "orange",
            "{{pool}} {{direction}} ({{source}})",
            ["pool", "direction", "source"],
        ),
        annotation(
            "Phase changes",
            new_events("loadgen_scenario_phase_changes_total", "phase"),
            "purple",
            "phase: {{phase}}",
            ["phase"],
        ),
    ]
