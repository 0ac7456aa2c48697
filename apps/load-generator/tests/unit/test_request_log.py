"""The request log (--request-log) rotates by size and keeps a bounded number of old files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from loadgen.metrics.recorder import JsonlLog
from loadgen.records import RequestRecord
from loadgen.settings import Settings


def _record(n: int) -> RequestRecord:
    return RequestRecord(
        request_id=f"req-{n:05d}", workload="chat", turn=1, conversation_id=None,
        status="ok", reason="", intended_ns=1_000_000 + n,  # same length: same line size
    )  # fmt: skip


def _ids(path: Path) -> list[str]:
    return [json.loads(line)["request_id"] for line in path.read_text().splitlines()]


def test_the_log_rotates_at_max_bytes_and_keeps_n_files(tmp_path: Path) -> None:
    path = tmp_path / "logs" / "requests.jsonl"
    line_bytes = len(json.dumps(_record(0).to_json(), separators=(",", ":"))) + 1
    log = JsonlLog(path, max_bytes=line_bytes * 10, keep=2)
    for n in range(45):
        log.write(_record(n))
    log.close()
    # 10 records per file: 0-9, 10-19, 20-29, 30-39 rotated, 40-44 current; two old files kept.
    assert log.rotations == 4
    assert _ids(path) == [f"req-{n:05d}" for n in range(40, 45)]
    assert _ids(log.rotated(1)) == [f"req-{n:05d}" for n in range(30, 40)]
    assert _ids(log.rotated(2)) == [f"req-{n:05d}" for n in range(20, 30)]
    assert not log.rotated(3).exists()
    for file in (path, log.rotated(1), log.rotated(2)):
        assert file.stat().st_size <= line_bytes * 10  # and no record split across files


def test_an_existing_log_counts_towards_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "requests.jsonl"
    path.write_text("x" * 900 + "\n")
    log = JsonlLog(path, max_bytes=1000, keep=1)
    log.write(_record(1))
    log.close()
    assert log.rotated(1).read_text() == "x" * 900 + "\n"
    assert _ids(path) == ["req-00001"]


def test_keep_zero_keeps_only_the_current_file(tmp_path: Path) -> None:
    path = tmp_path / "requests.jsonl"
    log = JsonlLog(path, max_bytes=1, keep=0)
    for n in range(3):
        log.write(_record(n))
    log.close()
    assert _ids(path) == ["req-00002"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["requests.jsonl"]


def test_no_limit_never_rotates(tmp_path: Path) -> None:
    log = JsonlLog(tmp_path / "requests.jsonl")
    for n in range(100):
        log.write(_record(n))
    log.close()
    assert log.rotations == 0
    assert len(_ids(tmp_path / "requests.jsonl")) == 100


def test_rotation_settings_have_sane_defaults_and_bounds() -> None:
    settings = Settings()
    assert settings.request_log_max_bytes == 100 * 1024 * 1024
    assert settings.request_log_keep == 5
    with pytest.raises(ValueError, match="request_log_max_bytes"):
        Settings(request_log_max_bytes=10)
