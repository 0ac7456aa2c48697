"""Record sinks for analysis after a session: a per-request JSONL log and the JSON summary."""

from __future__ import annotations

import json
import logging
import os
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

    Size-based rotation, so a days-long booth run cannot fill the disk: once the file holds
    `max_bytes`, it becomes `<name>.1` (the older ones shift to `.2` ... `.<keep>`, the oldest
    is deleted) and a new file starts. A record is never split across two files. The file,
    its size and the rotation belong to the writer thread.
    """

    def __init__(self, path: Path, *, max_bytes: int | None = None, keep: int = 5) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self.keep = keep
        self.rotations = 0
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._file: IO[str] | None = path.open("a", encoding="utf-8")
            self._size = path.stat().st_size
        except OSError as exc:
            raise ConfigError(f"request log {path}: {exc.strerror}") from None
        self._open = True
        self._lines: list[str] = []
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="request-log")
        self._last: Future[None] | None = None

    def write(self, record: RequestRecord) -> None:
        if self._open:
            self._lines.append(json.dumps(record.to_json(), separators=(",", ":")) + "\n")

    def flush(self, *, wait: bool = True) -> None:
        if self._open and self._lines:
            batch, self._lines = self._lines, []
            self._last = self._writer.submit(self._append, batch)
        if wait and self._last is not None:
            self._last.result()  # the thread writes in order: the last batch is the newest

    def rotated(self, index: int) -> Path:
        """The `index`-th older file (1 = the most recent one rotated out)."""
        return self.path.with_name(f"{self.path.name}.{index}")

    def _append(self, lines: list[str]) -> None:
        """Writer thread: append `lines`, rotating between two lines when the file is full."""
        try:
            for line in lines:
                if self._file is None:
                    return
                size = len(line.encode("utf-8"))
                over = self.max_bytes is not None and self._size + size > self.max_bytes
                if over and self._size > 0:
                    self._rotate()
                    if self._file is None:
                        return
                self._file.write(line)
                self._size += size
            if self._file is not None:
                self._file.flush()
        except OSError as exc:  # the session goes on; say why lines are missing
            log.error("request log %s: %s", self.path, exc)

    def _rotate(self) -> None:
        assert self._file is not None
        self._file.close()
        try:
            self.rotated(self.keep).unlink(missing_ok=True)
            for index in range(self.keep - 1, 0, -1):
                if self.rotated(index).exists():
                    os.replace(self.rotated(index), self.rotated(index + 1))
            if self.keep > 0:
                os.replace(self.path, self.rotated(1))
            else:
                self.path.unlink(missing_ok=True)
            self._file = self.path.open("a", encoding="utf-8")
        except OSError as exc:
            # The disk is the problem the rotation guards against: stop logging, keep serving.
            log.error("request log %s: rotation failed (%s); request logging stops", self.path, exc)
            self._file = None
            return
        self._size = 0
        self.rotations += 1

    def close(self) -> None:
        if self._open:
            self.flush()
            self._open = False
            self._writer.shutdown(wait=True)
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
