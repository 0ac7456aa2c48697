"""Settings of the load-generator app: LOADGEN_* env vars (plus a few shared names), parsed once.

Shared names without the prefix: PRESENTER_TOKEN, FOLLOWUP_BASE_URL, FOLLOWUP_MODEL,
GRADIENT_API_KEY. The CLI passes its flags as init values, which win over the environment.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, SettingsConfigDict

from demo_common.gpu_budget import GPU_BUDGET
from loadgen.engine.settings import EngineSettings

PLACEHOLDER_SECRETS = {"changeme", "change-me", "secret", "password", "token", "presenter"}
DEFAULT_MODEL = "meta-llama/Llama-3.1-70B-Instruct"
# Files of the checkout the app reads, found from this file rather than the working directory
# (src/loadgen/settings.py -> apps/load-generator, -> the repo root); an installed app sets them.
APP_DIR = Path(__file__).resolve().parents[2]
REPO_DIR = APP_DIR.parents[1]


def _alias(name: str, env: str) -> AliasChoices:
    return AliasChoices(name, env)


# Secrets come from the environment only: never a flag (it would show in `ps` and shell history).
SECRET_FIELDS = ("endpoint_api_key", "presenter_token", "gradient_api_key")


class Settings(BaseSettings, EngineSettings):
    """Everything `loadgen serve` needs; see the field descriptions (also in --help).

    The engine's own settings (seed, overflow, drain, windows, ...) are inherited from
    EngineSettings, declared once with their bounds there.
    """

    model_config = SettingsConfigDict(
        env_prefix="LOADGEN_", extra="forbid", populate_by_name=True, frozen=True
    )

    endpoint_url: str = Field(
        default="http://127.0.0.1:8000",
        description="OpenAI-compatible base URL (no /v1)",
        json_schema_extra={"flags": ["--endpoint"]},
    )
    model: str = Field(default=DEFAULT_MODEL, min_length=1, description="model name to request")
    endpoint_api_key: SecretStr | None = Field(default=None, description="Bearer key, if needed")
    corpus: str = Field(
        default="build/corpus", description="corpus folder or s3://bucket/prefix (make corpus)"
    )
    script: Path | None = Field(default=None, description="demo-script YAML (default: packaged)")
    host: str = Field(default="127.0.0.1", description="address to listen on")
    cors_origins: list[str] = Field(
        default_factory=list,
        description="browser origins allowed to call the API from other sites (none by default: "
        "the UI is served by the app itself)",
    )
    port: int = Field(default=3000, ge=0, le=65535, description="app port")
    ui_dir: Path = Field(
        default=APP_DIR / "ui" / "dist", description="UI build served at / if present"
    )
    preset: str = Field(default="baseline", description="preset whose config applies at start")
    autostart: bool = Field(
        default=False,
        description="start the load when the app starts",
        json_schema_extra={"flags": ["--start"]},
    )
    speed: float = Field(
        default=1.0,
        gt=0,
        le=1000,
        description="demo seconds per wall second: arrivals, think times, windows and phases run "
        "this much faster, and every time is reported in demo time (match the stack's SPEED)",
    )
    comparison_dir: Path | None = Field(
        default=None,
        description="layout comparison to show the audience (default: the newest "
        "benchmarks/records/*/compare)",
    )
    request_timeout_s: float = Field(default=300.0, gt=0, description="whole request bound")
    read_timeout_s: float = Field(default=60.0, gt=0, description="silence bound between bytes")
    request_log: Path | None = Field(default=None, description="append one JSON line per request")
    request_log_max_bytes: int = Field(
        default=100 * 1024 * 1024,
        ge=4096,
        description="rotate the request log when it reaches this size (bytes)",
    )
    request_log_keep: int = Field(
        default=5, ge=0, le=1000, description="rotated request logs kept (FILE.1 .. FILE.N)"
    )
    conversations_max: int = Field(default=200, ge=1, le=100_000)
    presenter_token: SecretStr | None = Field(
        default=None, validation_alias=_alias("presenter_token", "PRESENTER_TOKEN")
    )
    followup_base_url: str | None = Field(
        default=None,
        validation_alias=_alias("followup_base_url", "FOLLOWUP_BASE_URL"),
        description="OpenAI-compatible base URL incl. /v1 of the follow-up question model",
    )
    followup_model: str | None = Field(
        default=None, validation_alias=_alias("followup_model", "FOLLOWUP_MODEL")
    )
    gradient_api_key: SecretStr | None = Field(
        default=None, validation_alias=_alias("gradient_api_key", "GRADIENT_API_KEY")
    )
    followup_timeout_s: float = Field(default=5.0, gt=0, le=120)
    # Where the pools live and what scales them: the scenario controller's cluster adapter
    # reads these (k8s/load-generator sets them; RBAC allows exactly these names).
    backend: Literal["local", "cluster"] = Field(
        default="local", description="local = the embedded stack's control API; cluster = DOKS"
    )
    prometheus_url: str = Field(default="http://127.0.0.1:9090", description="for SLO queries")
    control_url: str = Field(
        default="http://127.0.0.1:8090", description="local stack's pool control API"
    )
    k8s_namespace: str = Field(default="gtc-demo", description="namespace of the DGD and KEDA")
    prefill_scaling_adapter: str = "gtc-demo-trtllmprefillworker"
    decode_scaling_adapter: str = "gtc-demo-trtllmdecodeworker"
    prefill_scaledobject: str = "gtc-demo-prefill"
    decode_scaledobject: str = "gtc-demo-decode"
    # One place for the DGDSA version: the one k8s/dynamo's manifests use (v1beta1 since the kit
    # writes the DGD as v1beta1; 1.6.x serves v1alpha1 too).
    dgdsa_api_version: Literal["v1alpha1", "v1beta1"] = Field(
        default="v1beta1", description="API version of the DGD scaling adapters"
    )
    # The scenario controller: where it keeps its mode, and its mode at first start.
    scenario_state_file: Path = Field(
        default=Path("build/scenario-state.json"),
        description="the controller's mode and phase, read back (and reconciled) on start",
    )
    scenario_start: Literal["manual", "auto"] = Field(
        default="manual", description="mode at start when no saved state exists (auto: booth)"
    )
    env: Literal["prod", "dev"] = Field(
        default="prod", description="layout: prod = 8 GPUs (2P+3D), dev = 3; the KEDA overlay"
    )
    keda_dir: Path = Field(
        default=REPO_DIR / "k8s" / "keda",
        description="the kit's KEDA manifests (the local KEDA reads them)",
    )

    @property
    def budget_gpus(self) -> int:
        """GPUs the pools may use together (one per worker): 8 on prod, 3 on dev."""
        return GPU_BUDGET[self.env]

    @field_validator("presenter_token")
    @classmethod
    def _real_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        secret = value.get_secret_value()
        if len(secret) < 8 or secret.lower() in PLACEHOLDER_SECRETS:
            raise ValueError("PRESENTER_TOKEN must be at least 8 characters and not a placeholder")
        return value

    @field_validator("cors_origins")
    @classmethod
    def _exact_origins(cls, value: list[str]) -> list[str]:
        for origin in value:
            if not origin.startswith(("http://", "https://")) or "*" in origin:
                raise ValueError(f"{origin!r}: name each origin as http(s)://host[:port], no *")
        return [origin.rstrip("/") for origin in value]

    @field_validator("endpoint_url", "followup_base_url", "prometheus_url", "control_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/") if value else value

    @model_validator(mode="after")
    def _followup_complete(self) -> Settings:
        if self.followup_base_url and not self.followup_model:
            raise ValueError("FOLLOWUP_MODEL is required when FOLLOWUP_BASE_URL is set")
        return self

    def engine_settings(self) -> EngineSettings:
        return EngineSettings.model_validate(
            self.model_dump(include=set(EngineSettings.model_fields))
        )


def env_name(name: str, field: FieldInfo) -> str | None:
    """The environment variable a Settings field reads (its alias, else LOADGEN_<NAME>)."""
    alias = field.validation_alias
    if isinstance(alias, AliasChoices):
        for choice in alias.choices:
            if isinstance(choice, str) and choice.isupper():
                return choice
    return f"LOADGEN_{name.upper()}"
