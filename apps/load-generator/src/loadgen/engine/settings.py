"""How the engine behaves (not what load it offers: that is scenario.load.LoadConfig)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class EngineSettings(BaseModel):
    """How the engine behaves (not what load it offers: that is LoadConfig)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    seed: int = 0
    overflow: Literal["drop", "queue"] = Field(
        default="drop", description="arrivals over the in-flight cap: count as dropped, or queue"
    )
    queue_limit: int = Field(default=1000, ge=0, description="queued arrivals per workload")
    drain_s: float = Field(default=5.0, ge=0, le=600, description="stop: wait, then cancel")
    window_s: int = Field(default=30, ge=1, le=3600, description="live aggregates window")
    tick_s: float = Field(default=1.0, gt=0, le=60, description="live aggregates period")
    saturation_lag_ms: float = Field(
        default=50.0, gt=0, description="client saturated above this loop or dispatch lag"
    )
    loop_probe_s: float = Field(default=0.1, gt=0, le=10)
    summary_dir: Path | None = None
