"""The operator dashboard: per-worker load, router queue, TTFT split, load-generator health."""

from __future__ import annotations

from typing import Any

from demo_observability import rules as r
from demo_observability.audience import event_annotations
from demo_observability.panels import (
    SPEED_NOTE,
    Grid,
    Q,
    assemble,
    timeseries,
)

UID = "gtc-demo-operator"
W = r.WINDOW


def build() -> dict[str, Any]:
    panels = [
        timeseries(
            "TTFT p95: frontend vs client",
            "Frontend: measured inside the Dynamo frontend (router, prefill, KV transfer, first "
            "decode step). Client: the load generator's send-to-first-token. The gap is HTTP, "
            "network and streaming overhead. Dynamo's TTFT buckets are ~2x apart, so its p95 "
            f"is coarse. {SPEED_NOTE}",
            [
                Q(
                    "histogram_quantile(0.95, sum by (le) "
                    f"(rate(dynamo_frontend_time_to_first_token_seconds_bucket[{W}])))",
                    "frontend p95",
                ),
                Q(
                    "histogram_quantile(0.95, sum by (le) "
                    f"(rate(loadgen_ttft_seconds_bucket[{W}])))",
                    "client p95",
                ),
            ],
            Grid(0, 0, 12, 8),
            unit="s",
        ),
        timeseries(
            "KEDA signals",
            "What each ScaledObject reads (recording rules = the ScaledObjects' own queries): "
            "worst per-workload p95/SLO ratio. Threshold 0.8: above it the pool grows.",
            [
                Q(r.PREFILL_SIGNAL, "prefill (TTFT/SLO)"),
                Q(r.DECODE_SIGNAL, "decode (ITL/SLO)"),
                Q("max(loadgen_keda_paused)", "KEDA paused"),
            ],
            Grid(12, 0, 12, 8),
            unit="none",
            thresholds=[(None, "green"), (0.8, "red")],
        ),
        timeseries(
            "Active prefill tokens per worker",
            "Prompt tokens each worker is prefilling now, as the router tracks them.",
            [
                Q(
                    "sum by (worker_type, worker_id) "
                    "(dynamo_frontend_worker_active_prefill_tokens)",
                    "{{worker_type}} {{worker_id}}",
                )
            ],
            Grid(0, 8, 8, 8),
            unit="short",
        ),
        timeseries(
            "KV blocks in use per worker",
            "Decode KV blocks each worker holds (router's view) against one worker's total.",
            [
                Q(
                    "sum by (worker_type, worker_id) (dynamo_frontend_worker_active_decode_blocks)",
                    "{{worker_type}} {{worker_id}}",
                ),
                Q("max(dynamo_frontend_model_total_kv_blocks)", "blocks per worker"),
            ],
            Grid(8, 8, 8, 8),
            unit="short",
            dashed_regex="blocks per worker",
        ),
        timeseries(
            "Router queue and registered workers",
            "Requests waiting in the router per worker type; workers registered with it. The "
            "registered gauge can keep a removed prefill worker's series when the pool empties "
            "and refills within about a second (ai-dynamo 1.6.1): the audience board takes pool "
            "sizes from the scaling adapters instead.",
            [
                Q(
                    "sum by (worker_type) (dynamo_frontend_router_queue_pending_requests)",
                    "queued for {{worker_type}}",
                ),
                Q(
                    "sum by (worker_type) (dynamo_component_router_worker_registered)",
                    "{{worker_type}} registered",
                ),
            ],
            Grid(16, 8, 8, 8),
            unit="short",
        ),
        timeseries(
            "KV cache: prefill side vs frontend cached_tokens",
            "Prefill side (the audience number): router's cached-prefix tokens on the chosen "
            "prefill worker. Frontend cached_tokens (= usage.cached_tokens) reports the decode "
            "worker's local cache in disaggregated mode and reads low.",
            [
                Q(r.KV_HIT_RATIO, "prefill side (router)"),
                Q(
                    f"sum(rate(dynamo_frontend_cached_tokens_sum[{W}])) / "
                    f"sum(rate(dynamo_frontend_input_sequence_tokens_sum[{W}]))",
                    "frontend cached_tokens",
                ),
            ],
            Grid(0, 16, 8, 8),
            unit="percentunit",
            max_value=1,
        ),
        timeseries(
            "Arrivals: target vs achieved",
            "Per workload, arrivals per second the script asks for and the client dispatched.",
            [
                Q("sum by (workload) (loadgen_target_rps)", "{{workload}} target"),
                Q("sum by (workload) (loadgen_achieved_rps)", "{{workload}} achieved"),
            ],
            Grid(8, 16, 8, 8),
            unit="reqps",
            dashed_regex=".* target$",
        ),
        timeseries(
            "Load generator health",
            "Schedule lag p99 (actual minus intended send time), worst event-loop delay, and "
            "the saturation flag (1 = the client is too late to trust its numbers).",
            [
                Q(
                    "histogram_quantile(0.99, sum by (workload, le) "
                    f"(rate(loadgen_schedule_lag_seconds_bucket[{W}])))",
                    "{{workload}} lag p99",
                ),
                Q("max(loadgen_event_loop_lag_seconds)", "event-loop lag"),
                Q("max(loadgen_client_saturated)", "saturated"),
            ],
            Grid(16, 16, 8, 8),
            unit="s",
        ),
        timeseries(
            "Errors by reason",
            "Failed and dropped requests per second by workload and reason.",
            [
                Q(
                    "sum by (workload, status, reason) "
                    f'(rate(loadgen_requests_total{{status!="ok"}}[{W}]))',
                    "{{workload}} {{status}} {{reason}}",
                )
            ],
            Grid(0, 24, 8, 8),
            unit="reqps",
        ),
        timeseries(
            "Chat follow-up questions",
            "Follow-up questions by source (remote model or local fallback) and reason, over "
            "5 minutes: a rising fallback count means the question model is unreachable.",
            [
                Q(
                    "sum by (source, reason) (increase(loadgen_followup_questions_total[5m]))",
                    "{{source}} {{reason}}",
                )
            ],
            Grid(8, 24, 8, 8),
            unit="short",
        ),
        timeseries(
            "Scaling events",
            "Scale actions since the load generator started, by pool, source (script, KEDA, "
            "presenter) and direction (the raw count: increase() would miss each series' "
            "first event, as the counters are born at 1).",
            [
                Q(
                    "sum by (pool, source, direction) (loadgen_scenario_scale_events_total)",
                    "{{pool}} {{direction}} ({{source}})",
                )
            ],
            Grid(16, 24, 8, 8),
            unit="short",
        ),
        timeseries(
            "Local pool supervisor",
            "Workers per pool and state (desired, pending, starting, ready, stopping).",
            [Q("sum by (pool, state) (localcluster_pool_replicas)", "{{pool}} {{state}}")],
            Grid(0, 32, 12, 8),
            unit="none",
        ),
        timeseries(
            "NVLink traffic",
            "NVLink bytes per second per GPU: KV transfer between prefill and decode workers "
            "should show here; zero under load means it fell back to TCP.",
            [
                Q(f"sum by (gpu) (rate(DCGM_FI_PROF_NVLINK_TX_BYTES[{W}]))", "GPU {{gpu}} tx"),
                Q(f"sum by (gpu) (rate(DCGM_FI_PROF_NVLINK_RX_BYTES[{W}]))", "GPU {{gpu}} rx"),
            ],
            Grid(12, 32, 12, 8),
            unit="Bps",
        ),
    ]
    return assemble(
        "GTC demo: operator",
        UID,
        "For the team: workers, router, TTFT split, load-generator health.",
        ["gtc-demo", "operator"],
        refresh="10s",
        window="now-30m",
        panels=panels,
        annotations=event_annotations(),
    )
