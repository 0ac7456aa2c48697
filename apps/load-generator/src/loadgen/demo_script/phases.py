"""The demo script's auto-mode cycle: initial layout, phases (load + caption) and scaling steps.

Times are demo seconds (the engine's clock: "Demo time" in docs/measurement-conventions.md). A scale
step's `at` counts from the start of its phase; a scale-out meant for the next phase is put
early in the phase before it, because a 70B worker needs ~208 s from launch to ready
(docs/calibration.md) and the recovery must land inside the phase it is for.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from demo_common.gpu_budget import MIN_POOL_REPLICAS, budget_refusal
from loadgen.demo_script.load import LoadConfig

PoolName = Literal["prefill", "decode"]
# What the audience screen shows during a phase: the live charts, or the recorded layout
# comparison (`make compare`), the "why disaggregation" segment.
Segment = Literal["live", "comparison"]
_DURATION = re.compile(r"^\s*\+?\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min)?\s*$")
_UNIT_S = {"ms": 0.001, "s": 1.0, "m": 60.0, "min": 60.0, None: 1.0}


def parse_duration_s(value: object) -> float:
    """Seconds from 90, 90.5, "90s", "+30s", "1.5m", "250ms"; negative values are refused."""
    if isinstance(value, bool):
        raise ValueError("expected a duration like 90, '90s' or '+30s'")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        if value.strip().startswith("-"):
            raise ValueError(f"negative time {value!r}: times count forward from the phase start")
        match = _DURATION.match(value)
        if match is None:
            raise ValueError(f"{value!r} is not a duration like 90, '90s', '+30s' or '1.5m'")
        seconds = float(match.group(1)) * _UNIT_S[match.group(2)]
    else:
        raise ValueError("expected a duration like 90, '90s' or '+30s'")
    if seconds < 0:
        raise ValueError(f"negative time {value!r}: times count forward from the phase start")
    return seconds


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PoolLayout(_Strict):
    """Replicas of both pools (one GPU per worker); every pool keeps at least one worker."""

    prefill: int = Field(ge=MIN_POOL_REPLICAS, le=64)
    decode: int = Field(ge=MIN_POOL_REPLICAS, le=64)

    def of(self, pool: PoolName) -> int:
        return self.prefill if pool == "prefill" else self.decode

    def with_pool(self, pool: PoolName, replicas: int) -> PoolLayout:
        return self.model_copy(update={pool: replicas})

    def gpus(self) -> int:
        return self.prefill + self.decode

    def counts(self) -> dict[str, int]:
        return {"prefill": self.prefill, "decode": self.decode}


class CycleLayout(_Strict):
    """The layout a cycle starts from (and resets to), and the GPUs the script may use."""

    budget_gpus: int = Field(ge=2, le=64, description="8 on the prod node, 3 on dev")
    initial: PoolLayout


class ScaleStep(_Strict):
    """Set one pool's replicas `at` demo seconds after its phase started."""

    at: float = Field(description="offset from the phase start: 30, '30s', '+30s', '1.5m'")
    pool: PoolName
    replicas: int = Field(ge=MIN_POOL_REPLICAS, le=64, description="a pool never goes below 1")
    reason: str = Field(default="", max_length=200, description="shown as the next action")

    @field_validator("at", mode="before")
    @classmethod
    def _duration(cls, value: object) -> float:
        return parse_duration_s(value)


class Phase(_Strict):
    """One act of the cycle: the load it offers, what the audience is told, what gets scaled."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str = Field(min_length=1, max_length=60)
    caption: str = Field(min_length=1, max_length=160, description="one line for the audience")
    duration: float = Field(description="demo seconds: 90, '90s', '2m'")
    preset: str | None = Field(default=None, description="a preset id of this file")
    load: LoadConfig | None = Field(default=None, description="instead of a preset")
    scale: tuple[ScaleStep, ...] = ()
    show: Segment = Field(
        default="live",
        description="audience screen during the phase: live charts, or `comparison` (the "
        "latest `make compare` report; the live charts stay when none is recorded)",
    )

    @field_validator("duration", mode="before")
    @classmethod
    def _duration(cls, value: object) -> float:
        seconds = parse_duration_s(value)
        if seconds <= 0:
            raise ValueError("a phase lasts longer than 0 s")
        return seconds

    @model_validator(mode="after")
    def _one_load(self) -> Phase:
        if (self.preset is None) == (self.load is None):
            raise ValueError("give exactly one of `preset` or `load` (rps + mix)")
        for step in self.scale:
            if step.at >= self.duration:
                raise ValueError(
                    f"scale step at {step.at:g}s is not inside the phase ({self.duration:g}s)"
                )
        return self


def ordered_steps(phase: Phase) -> list[ScaleStep]:
    """The phase's steps in time order (stable for equal times)."""
    return sorted(phase.scale, key=lambda s: s.at)


def layout_at_phase_start(initial: PoolLayout, phases: tuple[Phase, ...], index: int) -> PoolLayout:
    """The layout the script has produced when phase `index` starts (index 0: `initial`)."""
    layout = initial
    for phase in phases[:index]:
        for step in ordered_steps(phase):
            layout = layout.with_pool(step.pool, step.replicas)
    return layout


def budget_problems(
    cycle: CycleLayout, phases: tuple[Phase, ...]
) -> list[tuple[tuple[str | int, ...], str]]:
    """(field path, reason) for the initial layout and every step the GPU budget rule refuses."""
    problems: list[tuple[tuple[str | int, ...], str]] = []
    layout = cycle.initial
    refusal = budget_refusal({}, layout.counts(), cycle.budget_gpus)
    if refusal is not None:
        problems.append((("layout", "initial"), f"initial layout: {refusal}"))
    for p_index, phase in enumerate(phases):
        steps = sorted(enumerate(phase.scale), key=lambda pair: pair[1].at)
        for s_index, step in steps:
            before, layout = layout, layout.with_pool(step.pool, step.replicas)
            refusal = budget_refusal(before.counts(), layout.counts(), cycle.budget_gpus)
            if refusal is not None:
                path = ("phases", p_index, "scale", s_index)
                problems.append((path, f"{step.pool} -> {step.replicas}: {refusal}"))
    return problems
