"""Record sinks for analysis after a session: a per-request JSONL log and the JSON summary."""

from __future__ import annotations

import json
import logging
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import IO, Any

from loadgen.errors import ConfigError
from loadgen.records import RequestRecord

log = logging.getLogger(__name__)


class JsonlLog:
    """Appends one JSON object per request to a file.

    Lines are serialized in the event loop (cheap) and written by one background thread: the
    1 Hz flush hands its batch over without waiting, so a slow disk (the machine is shared)
    never stalls the loop. `flush(wait=True)` (at stop) and `close` return once it is written.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._file: IO[str] | None = path.open("a", encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"request log {path}: {exc.strerror}") from None
        self._lines: list[str] = []
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="request-log")
        self._last: Future[None] | None = None

    def write(self, record: RequestRecord) -> None:
        if self._file is not None:
            self._lines.append(json.dumps(record.to_json(), separators=(",", ":")) + "\n")

    def flush(self, *, wait: bool = True) -> None:
        if self._file is not None and self._lines:
            batch, self._lines = "".join(self._lines), []
            self._last = self._writer.submit(self._append, self._file, batch)
        if wait and self._last is not None:
            self._last.result()  # the thread writes in order: the last batch is the newest

    def _append(self, file: IO[str], batch: str) -> None:
        try:
            file.write(batch)
            file.flush()
        except OSError as exc:  # the session goes on; say why lines are missing
            log.error("request log %s: %s", self.path, exc)

    def close(self) -> None:
        if self._file is not None:
            self.flush()
            self._writer.shutdown(wait=True)
            self._file.close()
            self._file = None


def write_summary(folder: Path, summary: dict[str, Any]) -> Path:
    """Write `summary` as summary-<start>.json in `folder`; returns the path."""
    folder.mkdir(parents=True, exist_ok=True)
    stamp = str(summary.get("started_at", "session")).replace(":", "").replace("+0000", "Z")
    path = folder / f"summary-{stamp}.json"
    path.write_text(json.dumps(summary, indent=2, default=str) + "\n", encoding="utf-8")
    return path
