"""Response bodies of the HTTP API (request bodies are loadgen.demo_script.load models)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from loadgen.demo_script.load import LoadConfig
from loadgen.demo_script.models import Preset, Slo
from loadgen.metrics.snapshot import EngineState, LiveSnapshot
from loadgen.records import Workload


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FollowupView(_Model):
    """Where chat follow-up questions come from, and how often the fallback was used."""

    mode: str
    remote: str | None
    counts: dict[str, int]
    last_fallback_reason: str | None
    last_error: str | None


class StatusResponse(_Model):
    state: EngineState
    endpoint: str
    model: str
    config: LoadConfig
    overflow: str
    active_preset: str | None
    slos: dict[Workload, Slo]
    live: LiveSnapshot | None
    followup: FollowupView
    conversations: int
    last_summary_file: str | None
    generated_at: datetime


class StateResponse(_Model):
    state: EngineState


class StopResponse(_Model):
    state: EngineState
    summary: dict[str, Any]


class ConfigResponse(_Model):
    config: LoadConfig
    active_preset: str | None


class PresetList(_Model):
    presets: list[Preset]
    active_preset: str | None
