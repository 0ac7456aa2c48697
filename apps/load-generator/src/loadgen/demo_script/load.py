"""The live load configuration (rate, A/B/C mix, in-flight cap) and its partial update."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from loadgen.records import WORKLOADS, Workload

MAX_RPS = 1000.0  # anything above is a typo, not a demo
MAX_IN_FLIGHT = 100_000
# JSON from a browser may carry NaN/Infinity (Python's parser takes both): finite numbers only.
_FINITE = ConfigDict(extra="forbid", allow_inf_nan=False)


class Mix(BaseModel):
    """Relative weights of the three workloads; at least one must be positive."""

    model_config = ConfigDict(**_FINITE, frozen=True)

    chat: float = Field(default=0.0, ge=0.0, le=1e6, description="weight of workload A")
    summarization: float = Field(default=0.0, ge=0.0, le=1e6, description="weight of workload B")
    reasoning: float = Field(default=0.0, ge=0.0, le=1e6, description="weight of workload C")

    def weight(self, workload: Workload) -> float:
        return float(getattr(self, workload))

    def total(self) -> float:
        return self.chat + self.summarization + self.reasoning

    def shares(self) -> dict[Workload, float]:
        """Normalised weights summing to 1."""
        total = self.total()
        return {w: self.weight(w) / total for w in WORKLOADS}


class MixUpdate(BaseModel):
    """Some of the weights; the others keep their value."""

    model_config = _FINITE

    chat: float | None = Field(default=None, ge=0.0, le=1e6)
    summarization: float | None = Field(default=None, ge=0.0, le=1e6)
    reasoning: float | None = Field(default=None, ge=0.0, le=1e6)


def _check_mix_total(mix: Mix) -> Mix:
    if mix.total() <= 0:
        raise ValueError("mix weights must not all be 0")
    return mix


class LoadConfig(BaseModel):
    """Total arrival rate split over the workloads by `mix`, with a per-workload in-flight cap.

    A chat arrival is a new conversation; its later turns follow the conversation.
    """

    model_config = ConfigDict(**_FINITE, frozen=True)

    rps: float = Field(ge=0.0, le=MAX_RPS, description="total arrivals per second")
    mix: Mix
    max_in_flight: int = Field(
        ge=1, le=MAX_IN_FLIGHT, description="per workload: requests (chat: conversations) at once"
    )

    @field_validator("mix")
    @classmethod
    def _mix_positive(cls, mix: Mix) -> Mix:
        return _check_mix_total(mix)

    def rate_of(self, workload: Workload) -> float:
        """Target arrivals per second of one workload."""
        return self.rps * self.mix.shares()[workload]

    def apply(self, update: LoadConfigUpdate) -> LoadConfig:
        """A new config with the fields `update` sets (validated again as a whole)."""
        mix = self.mix
        if update.mix is not None:
            mix = Mix.model_validate(
                self.mix.model_dump() | update.mix.model_dump(exclude_none=True)
            )
        return LoadConfig.model_validate(
            {
                "rps": self.rps if update.rps is None else update.rps,
                "mix": mix,
                "max_in_flight": (
                    self.max_in_flight if update.max_in_flight is None else update.max_in_flight
                ),
            }
        )


class LoadConfigUpdate(BaseModel):
    """`PUT /api/workload/config` body: any subset of the fields."""

    model_config = _FINITE

    rps: float | None = Field(default=None, ge=0.0, le=MAX_RPS, description="total arrivals/s")
    mix: MixUpdate | None = None
    max_in_flight: int | None = Field(default=None, ge=1, le=MAX_IN_FLIGHT)
