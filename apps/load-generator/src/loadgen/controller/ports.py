"""The scenario controller's ports: the cluster scaler, the load driver and the metrics reader.

The controller core imports only these Protocols; `loadgen.adapters` implements them for the
cluster (Kubernetes scaling adapters + KEDA, Prometheus) and for the local stack (the pool
control API + the local KEDA, the local Prometheus). Pools are named "prefill" | "decode".
Adapters raise `loadgen.errors.ScalerError` subclasses (ScalerUnavailable, ScaleRejected).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, Protocol

from loadgen.scenario.load import LoadConfig

PoolName = Literal["prefill", "decode"]
POOL_NAMES: tuple[PoolName, ...] = ("prefill", "decode")


@dataclass(frozen=True)
class PoolState:
    """Replicas of one pool: asked for, serving, and launched but not ready yet."""

    desired: int
    ready: int
    starting: int


@dataclass(frozen=True)
class ClusterState:
    """Both pools and the GPUs the layout may use in total (8 prod, 3 dev; 1 GPU per worker)."""

    pools: Mapping[PoolName, PoolState]
    budget_gpus: int


class ClusterScaler(Protocol):
    """Scales the pools and pauses/resumes the autoscaler (KEDA) that also scales them."""

    async def state(self) -> ClusterState: ...

    async def scale(self, pool: PoolName, replicas: int) -> None:
        """Set the pool's desired replicas; idempotent (same value twice = one change)."""
        ...

    async def set_autoscaling_paused(self, paused: bool) -> None:
        """KEDA pause annotation `autoscaling.keda.sh/paused` on both ScaledObjects; idempotent."""
        ...

    async def autoscaling_paused(self) -> bool:
        """True when the autoscaler is paused for any pool (a half-paused state counts)."""
        ...


class MetricsReader(Protocol):
    """An instant PromQL query (Prometheus HTTP API)."""

    async def instant(self, promql: str) -> float | None:
        """The query's single scalar value; None when it returns no data."""
        ...


class LoadDriver(Protocol):
    """The engine, as the controller sees it."""

    async def apply(self, config: LoadConfig) -> None:
        """Offer this load from now on (takes effect at once when running)."""
        ...

    async def start(self) -> None:
        """Start arrivals; no-op when already running."""
        ...

    async def stop(self) -> None:
        """Stop arrivals (in-flight requests drain); no-op when stopped."""
        ...

    def running(self) -> bool: ...


@dataclass(frozen=True)
class AutoscalerDecision:
    """The autoscaler's last evaluation of one pool, for ScenarioState.keda.

    `last_scale_ns` and `metrics_missing_since_ns` are on the same clock the controller runs on
    (the engine's demo clock). `metrics_missing_since_ns` is set while the metric query gives
    no value (Prometheus down, timing out, or no data): the autoscaler then holds the pool's
    size, as KEDA does on a scaler error when no `fallback` is configured; `note` says why the
    pool is where it is.
    """

    metric: float | None
    threshold: float
    desired: int | None
    last_scale_ns: int | None
    metrics_missing_since_ns: int | None = None
    note: str = ""


class AutoscalerView(Protocol):
    """What the autoscaler (the local KEDA, or KEDA's HPAs in the cluster) last decided."""

    def decisions(self) -> Mapping[PoolName, AutoscalerDecision]: ...
