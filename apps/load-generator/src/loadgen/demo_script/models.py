"""The demo script's schema: SLOs and workload shapes per workload, and the named presets.

The scenario controller adds `phases:` to the same file later; everything is validated once when
the file is loaded.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from loadgen.demo_script.load import LoadConfig
from loadgen.demo_script.phases import CycleLayout, Phase, budget_problems
from loadgen.records import WORKLOADS, RequestRecord, Workload

# model_validate(..., context={DEFER_CROSS_CHECKS: True}): the loader runs `cross_problems`
# itself so it can name the YAML line of each problem.
DEFER_CROSS_CHECKS = "defer_cross_checks"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Slo(_Strict):
    """Service-level objectives of one workload (client-side, p95 over requests).

    One request meets them (goodput) when its TTFT, its mean inter-token latency and its
    longest gap between two content events are each within the bound.
    """

    ttft_p95_s: float = Field(gt=0, le=600, description="time to first token, p95, seconds")
    itl_p95_s: float = Field(gt=0, le=10, description="inter-token latency, p95, seconds")
    max_gap_p95_s: float = Field(
        gt=0, le=60, description="longest pause of a stream (between two content events), p95"
    )

    def met_by(self, record: RequestRecord) -> bool:
        """Whether one finished request met all three bounds (an error never does)."""
        if not record.ok or record.ttft_ns is None:
            return False
        itl_ns = record.itl_mean_ns
        return (
            record.ttft_ns <= self.ttft_p95_s * 1e9
            and (itl_ns is None or itl_ns <= self.itl_p95_s * 1e9)
            and (record.max_gap_ns is None or record.max_gap_ns <= self.max_gap_p95_s * 1e9)
        )


class ChatShape(_Strict):
    """Workload A: multi-turn conversations over a topic passage, full history every turn."""

    turns_min: int = Field(default=3, ge=1, le=20)
    turns_max: int = Field(default=5, ge=1, le=20)
    max_tokens: int = Field(default=300, ge=1, le=8192, description="answer length per turn")
    think_time_s: float = Field(
        default=0.0, ge=0, le=600, description="mean pause between turns (exponential); 0 = none"
    )
    system_prompt: str = Field(min_length=1)
    opening_questions: tuple[str, ...] = Field(min_length=1)
    fallback_questions: tuple[str, ...] = Field(
        min_length=1, description="local bank used when the follow-up model is off or fails"
    )

    unique_prefix: bool = Field(
        default=True,
        description="start each conversation with its own id, so turn 1 misses the prefix cache "
        "and only turns 2+ hit it (passages repeat across conversations)",
    )

    @model_validator(mode="after")
    def _turns_ordered(self) -> ChatShape:
        if self.turns_max < self.turns_min:
            raise ValueError("turns_max must be >= turns_min")
        return self

    @field_validator("system_prompt", "opening_questions")
    @classmethod
    def _placeholders(cls, value: str | tuple[str, ...]) -> str | tuple[str, ...]:
        for template in (value,) if isinstance(value, str) else value:
            try:
                template.format(topic="t", passage="p")
            except (KeyError, IndexError, ValueError) as exc:
                raise ValueError(
                    f"only {{topic}} and {{passage}} may appear in braces ({exc!r})"
                ) from None
        if isinstance(value, str) and "{passage}" not in value:
            raise ValueError("system_prompt must contain {passage}")
        return value


class SummarizationShape(_Strict):
    """Workload B: one long document -> a short summary."""

    max_tokens: int = Field(default=200, ge=1, le=4096)
    instruction: str = Field(min_length=1)
    unique_prefix: bool = Field(
        default=True,
        description="start each request with its own id so repeated documents stay uncached "
        "(the workload exists to load prefill)",
    )
    buckets: tuple[int, ...] = Field(
        default=(), description="document size buckets to draw from; empty = all in the corpus"
    )


class ReasoningShape(_Strict):
    """Workload C: a short prompt -> 500..2000 output tokens, asked for explicitly."""

    request_min_tokens: bool = Field(
        default=True, description="also send min_tokens + ignore_eos so the length is honoured"
    )
    output_tokens_scale: float = Field(
        default=1.0, gt=0, le=4, description="multiplies each prompt's expected_output_tokens"
    )


class WorkloadShapes(_Strict):
    chat: ChatShape
    summarization: SummarizationShape
    reasoning: ReasoningShape


class Preset(_Strict):
    """A named load configuration the presenter (or a scenario phase) applies in one click."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$", description="URL-friendly key")
    name: str = Field(min_length=1)
    description: str = ""
    load: LoadConfig


class DemoScript(_Strict):
    """The whole demo-script file."""

    version: int = Field(ge=1, le=1)
    slos: dict[Workload, Slo]
    workloads: WorkloadShapes
    presets: tuple[Preset, ...] = Field(min_length=1)
    layout: CycleLayout | None = Field(default=None, description="required with phases")
    phases: tuple[Phase, ...] = Field(default=(), description="the auto-mode cycle, in order")

    @field_validator("slos")
    @classmethod
    def _every_workload(cls, slos: dict[Workload, Slo]) -> dict[Workload, Slo]:
        missing = [w for w in WORKLOADS if w not in slos]
        if missing:
            raise ValueError(f"missing SLOs for {', '.join(missing)}")
        return slos

    @field_validator("presets")
    @classmethod
    def _unique(cls, presets: tuple[Preset, ...]) -> tuple[Preset, ...]:
        for attr in ("id", "name"):
            seen: set[str] = set()
            for preset in presets:
                key = getattr(preset, attr).lower()
                if key in seen:
                    raise ValueError(f"duplicate preset {attr} {key!r}")
                seen.add(key)
        return presets

    @model_validator(mode="after")
    def _cross_checks(self, info: ValidationInfo) -> DemoScript:
        if not (info.context or {}).get(DEFER_CROSS_CHECKS):
            problems = cross_problems(self)
            if problems:
                path, reason = problems[0]
                raise ValueError(f"{'.'.join(map(str, path))}: {reason}")
        return self

    def preset(self, key: str) -> Preset | None:
        """A preset by id or by name (case and spacing ignored)."""
        wanted = _slug(key)
        for preset in self.presets:
            if wanted in (preset.id, _slug(preset.name)):
                return preset
        return None


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.strip().lower()).strip("-")


def cross_problems(script: DemoScript) -> list[tuple[tuple[str | int, ...], str]]:
    """(field path, reason) for what spans fields: unknown presets, phase ids, GPU budget."""
    problems: list[tuple[tuple[str | int, ...], str]] = []
    if script.phases and script.layout is None:
        problems.append((("phases",), "phases need a `layout` (budget_gpus + initial pools)"))
    known = {p.id for p in script.presets}
    seen: set[str] = set()
    for index, phase in enumerate(script.phases):
        if phase.preset is not None and phase.preset not in known:
            problems.append(
                (
                    ("phases", index, "preset"),
                    f"unknown preset {phase.preset!r} (known: {', '.join(sorted(known))})",
                )
            )
        if phase.id in seen:
            problems.append((("phases", index, "id"), f"duplicate phase id {phase.id!r}"))
        seen.add(phase.id)
    if script.layout is not None:
        problems.extend(budget_problems(script.layout, script.phases))
    return problems
