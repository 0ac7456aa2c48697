"""The loop-cost benchmark runs the engine's record path and the snapshot tick end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from demo_bench.loop_cost import answer, main, measure


def test_synthetic_answer_carries_one_itl_per_token() -> None:
    import random

    record = answer(random.Random(1), "reasoning", 40)
    assert sum(n for _, n in record.itl_per_token_ns()) == 39
    assert record.e2e_ns is not None
    assert record.ttft_ns is not None
    assert record.e2e_ns > record.ttft_ns


def test_small_run_writes_its_numbers(tmp_path: Path) -> None:
    out = tmp_path / "loop-cost.json"
    assert main(["--out", str(out), "--answers", "3", "--tokens", "50"]) == 0
    result = json.loads(out.read_text())
    assert (result["answers"], result["tokens_per_answer"]) == (3, 50)
    # Measured CPU time: some was spent, and far less than a second (ms, not s or ns).
    assert 0 < result["record_path_cpu_ms_per_answer"] < 1000
    assert 0 < result["snapshot_tick_cpu_ms"] < 1000


def test_bad_sizes_are_a_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--out", "x.json", "--answers", "0"])
    assert "--answers must be >= 1" in capsys.readouterr().err
    assert measure(1, 2, repeat=1)["answers"] == 1
