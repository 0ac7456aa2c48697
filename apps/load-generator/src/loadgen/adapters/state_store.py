"""Adapters of the controller's StateStore port: a JSON file, or memory (remembers nothing)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from pydantic import ValidationError

from loadgen.controller.ports import SavedState
from loadgen.errors import ConfigError


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
