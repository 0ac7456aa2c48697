"""Where the controller keeps its mode and phase, so a restart (or a crash) can reconcile."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from loadgen.controller.state import Mode
from loadgen.errors import ConfigError


class SavedState(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mode: Mode
    cycle: int = Field(default=0, ge=0)
    phase_index: int | None = Field(default=None, ge=0)
    phase_id: str | None = None
    wall_time: str = ""


class StateStore(Protocol):
    def load(self) -> SavedState | None:
        """The saved state; None when there is none. Raises ConfigError when it is unreadable."""
        ...

    def save(self, state: SavedState) -> None: ...


class FileStateStore:
    """One JSON file, replaced atomically (a crash mid-write leaves the previous state)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> SavedState | None:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise ConfigError(f"{self.path}: cannot read scenario state: {exc.strerror}") from None
        try:
            return SavedState.model_validate(json.loads(text))
        except (ValueError, ValidationError) as exc:
            raise ConfigError(f"{self.path}: unreadable scenario state: {exc}") from None

    def save(self, state: SavedState) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(state.model_dump_json(), encoding="utf-8")
        os.replace(tmp, self.path)


class MemoryStateStore:
    """For tests and for runs that must not remember anything."""

    def __init__(self, state: SavedState | None = None) -> None:
        self.state = state
        self.saves = 0

    def load(self) -> SavedState | None:
        return self.state

    def save(self, state: SavedState) -> None:
        self.state = state
        self.saves += 1
