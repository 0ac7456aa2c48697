"""Settings and layouts of the embedded local stack (the local stand-in for the DOKS node)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue

EnvName = Literal["prod", "dev"]
PoolName = Literal["prefill", "decode"]
# The frontend's request migration, the same in the cluster (tests/crosscheck): in-flight
# requests move to another worker when theirs goes away (scale-in, crash). Measured with the
# mocker: a SIGKILLed decode worker failed 2 streams at 0 and none at 3.
FRONTEND_MIGRATION_LIMIT = 3
POOL_NAMES: tuple[PoolName, ...] = ("prefill", "decode")


class Layout(BaseModel):
    """What one environment's node holds: GPU slots, initial pool sizes, hardware profile."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    gpu_slots: int = Field(ge=1)
    prefill: int = Field(ge=1)
    decode: int = Field(ge=1)
    profile: str
    model_size: Literal["70b", "8b"]


# The same shapes as terraform/environments/{prod,dev}.tfvars.
LAYOUTS: dict[EnvName, Layout] = {
    "prod": Layout(gpu_slots=8, prefill=2, decode=3, profile="h200-70b-fp8", model_size="70b"),
    "dev": Layout(gpu_slots=3, prefill=1, decode=1, profile="h100-8b", model_size="8b"),
}


def reachable(host: str) -> str:
    """An address to connect to for a listen address (the wildcard means this machine)."""
    return "127.0.0.1" if host in ("0.0.0.0", "", "::") else host


def _env(name: str) -> dict[str, JsonValue]:
    """The field's environment twin (the CLI derives its flags and env reads from the fields)."""
    return {"env": name}


class LocalClusterSettings(BaseModel):
    """Everything the local stack needs, validated once at the edge.

    Fields with an `env` twin are read from that variable when their flag is not given.
    """

    model_config = ConfigDict(extra="forbid")

    env: EnvName = Field(
        default="prod",
        description="layout: prod (8 H200) or dev (3 H100)",
        json_schema_extra=_env("ENV"),
    )
    serving: Literal["disaggregated", "aggregated"] = Field(
        default="disaggregated",
        description="aggregated is the baseline without disaggregation: every worker does "
        "prefill and decode; they form the decode pool and the prefill pool stays empty.",
        json_schema_extra=_env("DEMO_SERVING"),
    )
    speed: float = Field(
        default=1.0,
        ge=0.0,
        le=1000.0,
        description="Speed factor: mocker --speedup-ratio and every delay the stack owns scale "
        "together; 0 means no simulated delay at all (benchmarks).",
        json_schema_extra=_env("SPEED"),
    )
    timing: Literal["ais", "npz"] = Field(
        default="ais",
        description="what times the mocker workers: ais (NVIDIA's TRT-LLM measurements, via "
        "AISimulate) or npz (the project's physics model, kept to compare against)",
        json_schema_extra=_env("DEMO_TIMING"),
    )
    host: str = Field(
        default="127.0.0.1", description="address to listen on", json_schema_extra=_env("DEMO_HOST")
    )
    control_host: str = Field(
        default="127.0.0.1",
        description="address of the pool control API; it has no authentication, so it stays on "
        "loopback unless set here (DEMO_HOST does not move it)",
        json_schema_extra=_env("DEMO_CONTROL_HOST"),
    )
    frontend_port: int = Field(
        default=8000, ge=1, le=65535, description="Dynamo frontend port",
        json_schema_extra=_env("DEMO_FRONTEND_PORT"),
    )  # fmt: skip
    prometheus_port: int = Field(
        default=9090, ge=1, le=65535, description="Prometheus port",
        json_schema_extra=_env("DEMO_PROMETHEUS_PORT"),
    )  # fmt: skip
    control_port: int = Field(
        default=8090, ge=1, le=65535, description="pool control API port",
        json_schema_extra=_env("DEMO_CONTROL_PORT"),
    )  # fmt: skip
    workdir: Path | None = Field(
        default=None,
        description="Where logs, discovery records and Prometheus data go; a "
        "fresh temporary folder when unset.",
        json_schema_extra=_env("DEMO_WORKDIR"),
    )
    initial_prefill: int | None = Field(default=None, ge=0)
    initial_decode: int | None = Field(default=None, ge=0)
    readiness_delay_s: float | None = Field(
        default=None,
        ge=0.0,
        description="Delay before a scaled-out or replacement worker is launched, in wall-clock "
        "seconds; default: the profile's measured start-to-ready time divided by the speed factor.",
        json_schema_extra=_env("DEMO_READINESS_DELAY_S"),
    )
    migration_limit: int = Field(
        default=FRONTEND_MIGRATION_LIMIT, ge=0, le=10, description="frontend --migration-limit",
        json_schema_extra=_env("DEMO_MIGRATION_LIMIT"),
    )  # fmt: skip
    extra_scrape_targets: list[str] = Field(
        default_factory=list, description="host:port Prometheus also scrapes",
        json_schema_extra={**_env("DEMO_SCRAPE_TARGETS"), "flags": ["--scrape-target"]},
    )  # fmt: skip
    scrape_interval_s: float = Field(default=2.0, gt=0.0, le=60.0)
    startup_timeout_s: float = Field(default=120.0, gt=0.0)
    drain_timeout_s: float = Field(default=10.0, gt=0.0)
    prometheus_binary: str = "prometheus"

    @property
    def layout(self) -> Layout:
        return LAYOUTS[self.env]

    def initial_replicas(self, pool: PoolName) -> int:
        if self.serving == "aggregated":
            if pool == "prefill":
                return 0
            # As many GPUs as the disaggregated layout, all serving both phases.
            default = self.layout.prefill + self.layout.decode
            return self.initial_decode if self.initial_decode is not None else default
        override = self.initial_prefill if pool == "prefill" else self.initial_decode
        return override if override is not None else getattr(self.layout, pool)

    def scaled(self, seconds: float) -> float:
        """A delay the stack owns, at the speed factor (0 = no delay)."""
        return 0.0 if self.speed == 0 else seconds / self.speed
