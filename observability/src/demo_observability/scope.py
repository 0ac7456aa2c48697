"""Where each metric exists: the ONE place that says which queries the live check may skip.

Every other expression in the dashboards, rules and ScaledObjects must return data on the local
stack under load (tests/observability/test_live_queries.py).
"""

from __future__ import annotations

import re

# Only in the cluster: no GPU, no dcgm-exporter on the local stack.
CLUSTER_ONLY_METRICS: dict[str, str] = {
    "DCGM_FI_DEV_GPU_UTIL": "dcgm-exporter (GPU nodes only)",
    "DCGM_FI_PROF_NVLINK_TX_BYTES": "dcgm-exporter DCP profile (GPU nodes only)",
    "DCGM_FI_PROF_NVLINK_RX_BYTES": "dcgm-exporter DCP profile (GPU nodes only)",
}

# Only on the local stack: the pool supervisor's own view (the cluster has scaling adapters).
LOCAL_ONLY_METRICS: dict[str, str] = {
    "localcluster_pool_replicas": "the local stack's pool supervisor",
}

CLUSTER_ONLY_NOTE = "Cluster only"
LOCAL_ONLY_NOTE = "Local stack only"

_NAME = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")


def metric_names(expr: str) -> set[str]:
    """Identifiers in an expression (a superset of its metric names; enough for lookups)."""
    return set(_NAME.findall(expr))


def cluster_only(expr: str) -> bool:
    return bool(metric_names(expr) & CLUSTER_ONLY_METRICS.keys())


def local_only(expr: str) -> bool:
    return bool(metric_names(expr) & LOCAL_ONLY_METRICS.keys())
