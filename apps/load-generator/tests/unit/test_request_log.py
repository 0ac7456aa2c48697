"""The request log (--request-log): every record one line, written off the event loop, none
lost; it rotates by size and keeps a bounded number of old files."""

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


MS = 1_000_000


def _answer(i: int, gaps: list[tuple[int, int]]) -> RequestRecord:
    return RequestRecord(
        request_id=f"r{i}", workload="reasoning", turn=1, conversation_id=None, status="ok",
        reason="none", intended_ns=0, send_ns=MS, first_token_ns=50 * MS,
        last_token_ns=200 * MS, gaps=gaps,
    )  # fmt: skip


def test_itl_mean_and_max_are_per_token(tmp_path: Path) -> None:
    # 10 ms for one token, then one event carrying 4 tokens 80 ms later (20 ms each).
    line = _answer(1, [(10 * MS, 1), (80 * MS, 4)]).to_json()
    assert line["itl_mean_ms"] == 18.0  # (10 + 4 x 20) / 5
    assert line["itl_max_ms"] == 20.0
    empty = _answer(2, []).to_json()
    assert (empty["itl_mean_ms"], empty["itl_max_ms"]) == (None, None)


def test_background_flushes_then_close_keep_every_line_in_order(tmp_path: Path) -> None:
    path = tmp_path / "requests.jsonl"
    log = JsonlLog(path)
    for i in range(50):
        log.write(_answer(i, [(10 * MS, 1)]))
        if i % 7 == 0:
            log.flush(wait=False)  # the 1 Hz tick: handed to the writer thread
    log.flush()  # at stop: returns once written
    assert len(path.read_text().splitlines()) == 50
    log.write(_answer(50, []))
    log.close()
    ids = [json.loads(line)["request_id"] for line in path.read_text().splitlines()]
    assert ids == [f"r{i}" for i in range(51)]
