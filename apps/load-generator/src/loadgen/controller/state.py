"""JSON shapes of GET /api/scenario and /api/pools (the UI codes to them: docs/contracts.md)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from demo_common.gpu_budget import MIN_POOL_REPLICAS
from loadgen.controller.ports import Mode, PoolName
from loadgen.demo_script.phases import Segment

EventKind = Literal["mode", "phase", "scale", "keda", "error"]
EventSource = Literal["script", "keda", "presenter", "controller"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PhaseView(_Model):
    id: str
    name: str
    caption: str
    index: int
    count: int
    duration_s: float
    elapsed_s: float
    time_left_s: float
    preset: str | None


class NextAction(_Model):
    pool: PoolName
    replicas: int
    in_s: float
    reason: str


class KedaPoolView(_Model):
    metric: float | None
    threshold: float | None = Field(description="null until the autoscaler has reported")
    desired: int | None
    last_scale_s: float | None = Field(description="demo seconds since the controller started")
    metrics_missing_since_s: float | None = Field(
        default=None,
        description="set while the autoscaler gets no metric (Prometheus down or no data): demo "
        "seconds since the controller started when that began; the pool holds its size",
    )
    note: str | None = Field(default=None, description="why the pool is where it is")


class KedaView(_Model):
    paused: bool
    backend: Literal["local", "cluster"]
    pools: dict[PoolName, KedaPoolView]


class TimelineEvent(_Model):
    t_s: float = Field(description="demo seconds since the controller started")
    wall_time: str = Field(description="ISO-8601 UTC")
    kind: EventKind
    source: EventSource
    pool: PoolName | None = None
    from_replicas: int | None = None
    to_replicas: int | None = None
    phase: str | None = None
    message: str


class AudienceView(_Model):
    """What the audience screen shows now, and who decided it."""

    show: Segment
    source: Literal["default", "presenter", "script"] = Field(
        description="presenter: the presenter's toggle; script: the auto phase's `show`"
    )
    presenter: Segment = Field(description="the presenter's choice (kept until changed)")


class AudienceBody(_Model):
    """`PUT /api/scenario/audience` body."""

    show: Segment


class ScenarioState(_Model):
    mode: Mode
    cycle: int = Field(description="completed auto cycles")
    phase: PhaseView | None
    next_action: NextAction | None
    scaling: dict[PoolName, str]
    keda: KedaView
    timeline: list[TimelineEvent] = Field(description="newest last, capped")
    speed: float
    audience: AudienceView


class PoolView(_Model):
    desired: int
    ready: int
    starting: int
    min: int
    max: int


class PoolsState(_Model):
    budget_gpus: int
    free_gpus: int
    pools: dict[PoolName, PoolView]


class ScaleBody(_Model):
    """`PUT /api/pools/{pool}` body."""

    replicas: int = Field(ge=MIN_POOL_REPLICAS, le=64, description="a pool never goes below 1")
