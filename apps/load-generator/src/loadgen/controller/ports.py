"""The scenario controller's ports: the cluster scaler, the load driver, the metrics reader,
what the autoscaler decided, where the controller saves its mode, and who observes it.

The controller core imports only these Protocols; `loadgen.adapters` implements them for the
cluster (Kubernetes scaling adapters + KEDA, Prometheus) and for the local stack (the pool
control API + the local KEDA, the local Prometheus), and holds the state file and the
controller's Prometheus series. Pools are named "prefill" | "decode". Adapters raise
`loadgen.errors.ScalerError` subclasses (ScalerUnavailable, ScaleRejected).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from loadgen.demo_script.load import LoadConfig
from loadgen.demo_script.phases import PoolName as PoolName  # one definition, the script's

POOL_NAMES: tuple[PoolName, ...] = ("prefill", "decode")
Mode = Literal["auto", "manual", "stopped"]


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


class SavedState(BaseModel):
    """The controller's mode and phase as saved, so a restart (or a crash) can reconcile."""

    model_config = ConfigDict(extra="forbid")

    mode: Mode
    cycle: int = Field(default=0, ge=0)
    phase_index: int | None = Field(default=None, ge=0)
    phase_id: str | None = None
    wall_time: str = ""


class StateStore(Protocol):
    """Where the controller keeps its SavedState."""

    def load(self) -> SavedState | None:
        """The saved state; None when there is none. Raises ConfigError when it is unreadable."""
        ...

    def save(self, state: SavedState) -> None: ...


class ControllerObserver(Protocol):
    """Told what the controller does (the Prometheus series); NoObserver when nobody listens."""

    def set_phase(self, phase: str | None, mode: str) -> None: ...

    def phase_started(self, phase: str) -> None: ...

    def scaled(self, pool: PoolName, source: str, before: int, after: int) -> None: ...

    def pools(self, pools: Mapping[PoolName, PoolState], budget_gpus: int) -> None: ...

    def paused(self, paused: bool) -> None: ...

    def scaler_failed(self, source: str) -> None: ...

    def watch_metrics_missing(
        self, decisions: Callable[[], Mapping[PoolName, AutoscalerDecision]]
    ) -> None:
        """Read the autoscaler's decisions whenever it reports (not on the controller's poll)."""
        ...


class NoObserver:
    """The default observer: hears everything, keeps nothing."""

    def set_phase(self, phase: str | None, mode: str) -> None:
        pass

    def phase_started(self, phase: str) -> None:
        pass

    def scaled(self, pool: PoolName, source: str, before: int, after: int) -> None:
        pass

    def pools(self, pools: Mapping[PoolName, PoolState], budget_gpus: int) -> None:
        pass

    def paused(self, paused: bool) -> None:
        pass

    def scaler_failed(self, source: str) -> None:
        pass

    def watch_metrics_missing(
        self, decisions: Callable[[], Mapping[PoolName, AutoscalerDecision]]
    ) -> None:
        pass
