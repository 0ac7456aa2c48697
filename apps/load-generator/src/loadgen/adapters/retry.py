"""Retry policy shared by the HTTP adapters: attempts, doubling backoff, per-request timeout."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class RetryPolicy(BaseModel):
    """Attempts per call and the backoff between them (doubling from `first_backoff_s`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    attempts: int = Field(default=5, ge=1, le=20)
    first_backoff_s: float = Field(default=0.2, ge=0)
    max_backoff_s: float = Field(default=5.0, ge=0)
    request_timeout_s: float = Field(default=10.0, gt=0)

    def backoff_s(self, attempt: int) -> float:
        """Wait before retry number `attempt + 1` (0-based)."""
        return float(min(self.max_backoff_s, self.first_backoff_s * 2**attempt))
