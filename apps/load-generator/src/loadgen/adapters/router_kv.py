"""The KV cache hit rate a visitor is shown: the router's prefill side, read from Prometheus.

Prompt tokens already cached on the prefill worker the router chose, over all prompt tokens
routed to prefill, in the last minute. Not `usage.cached_tokens` (= dynamo_frontend_cached_tokens):
in disaggregated mode that is the *decode* worker's local cache, which misses once per decode
worker even when every prefill reuses the prefix (docs/measurement-conventions.md). The series
are the ones the ai-dynamo 1.6.1 frontend exports (checked on the live local stack); the
expression is the recording rule `router:kv_prefill_hit_ratio:rate_1m` verbatim (a contract
test keeps the two equal), asked directly so the number needs no rule deployed and no
evaluation lag.
"""

from __future__ import annotations

from loadgen.controller.ports import MetricsReader

RECORDED_AS = "router:kv_prefill_hit_ratio:rate_1m"
KV_HIT_RATIO_QUERY = (
    'sum(rate(dynamo_component_router_kv_selected_cached_prefix_tokens_total{phase="prefill"}[1m]))'
    "\n/\n"
    'sum(rate(dynamo_component_router_input_sequence_tokens_sum{phase="prefill"}[1m]))'
)


async def read_kv_hit_ratio(reader: MetricsReader) -> float | None:
    """The ratio now; None when no prompt was routed in the last minute (0/0) or the router
    series do not exist yet. Raises MetricsUnavailable when Prometheus does not answer."""
    return await reader.instant(KV_HIT_RATIO_QUERY)
