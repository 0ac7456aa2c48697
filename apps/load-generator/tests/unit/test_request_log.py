"""The JSONL request log: every record one line, written off the event loop, none lost."""

from __future__ import annotations

import json
from pathlib import Path

from loadgen.metrics.recorder import JsonlLog
from loadgen.records import RequestRecord

MS = 1_000_000


def _record(i: int, gaps: list[tuple[int, int]]) -> RequestRecord:
    return RequestRecord(
        request_id=f"r{i}", workload="reasoning", turn=1, conversation_id=None, status="ok",
        reason="none", intended_ns=0, send_ns=MS, first_token_ns=50 * MS,
        last_token_ns=200 * MS, gaps=gaps,
    )  # fmt: skip


def test_itl_mean_and_max_are_per_token(tmp_path: Path) -> None:
    # 10 ms for one token, then one event carrying 4 tokens 80 ms later (20 ms each).
    line = _record(1, [(10 * MS, 1), (80 * MS, 4)]).to_json()
    assert line["itl_mean_ms"] == 18.0  # (10 + 4 x 20) / 5
    assert line["itl_max_ms"] == 20.0
    empty = _record(2, []).to_json()
    assert (empty["itl_mean_ms"], empty["itl_max_ms"]) == (None, None)


def test_background_flushes_then_close_keep_every_line_in_order(tmp_path: Path) -> None:
    path = tmp_path / "requests.jsonl"
    log = JsonlLog(path)
    for i in range(50):
        log.write(_record(i, [(10 * MS, 1)]))
        if i % 7 == 0:
            log.flush(wait=False)  # the 1 Hz tick: handed to the writer thread
    log.flush()  # at stop: returns once written
    assert len(path.read_text().splitlines()) == 50
    log.write(_record(50, []))
    log.close()
    ids = [json.loads(line)["request_id"] for line in path.read_text().splitlines()]
    assert ids == [f"r{i}" for i in range(51)]
