"""Record sinks for analysis after a session: a per-request JSONL log and the JSON summary."""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO, Any

from loadgen.errors import ConfigError
from loadgen.records import RequestRecord


class JsonlLog:
    """Appends one JSON object per request to a file (flushed at 1 Hz and at stop)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._file: IO[str] | None = path.open("a", encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"request log {path}: {exc.strerror}") from None

    def write(self, record: RequestRecord) -> None:
        if self._file is not None:
            self._file.write(json.dumps(record.to_json(), separators=(",", ":")) + "\n")

    def flush(self) -> None:
        if self._file is not None:
            self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def write_summary(folder: Path, summary: dict[str, Any]) -> Path:
    """Write `summary` as summary-<start>.json in `folder`; returns the path."""
    folder.mkdir(parents=True, exist_ok=True)
    stamp = str(summary.get("started_at", "session")).replace(":", "").replace("+0000", "Z")
    path = folder / f"summary-{stamp}.json"
    path.write_text(json.dumps(summary, indent=2, default=str) + "\n", encoding="utf-8")
    return path
