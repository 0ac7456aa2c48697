"""Unit tests of the fidelity table, its CLI and the benchmark file writer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from demo_bench.fidelity import JSON_NAME, write_fidelity_table
from localcluster.perfmodel import hardware_profile
from localcluster.perfmodel.fidelity import TARGET_REL_ERROR, fidelity_rows, main, max_fitted_error


def test_rows_cover_every_calibration_table() -> None:
    rows = fidelity_rows(hardware_profile("h200-70b-fp8"))
    sources = {r.source for r in rows}
    assert any("ShareGPT" in s for s in sources)
    assert any("TRT-LLM" in s for s in sources)
    assert any("multi-turn" in s for s in sources)
    assert {r.role for r in rows} == {"fitted", "check"}
    assert max_fitted_error(rows) <= TARGET_REL_ERROR
    in_range = [r for r in rows if r.in_range]
    assert all(r.measured_low * 0.99 <= r.predicted <= r.measured_high * 1.01 for r in in_range)


def test_extrapolated_profile_has_no_rows() -> None:
    assert fidelity_rows(hardware_profile("h100-8b")) == []


def test_cli_prints_table_and_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    out = capsys.readouterr().out
    assert "| TRT-LLM agg, 3xH200 | ITL p50 @100 |" in out
    assert "meets the 25 % target" in out
    assert main(["--profile", "h100-8b"]) == 0
    assert "extrapolated" in capsys.readouterr().out


def test_cli_json_is_machine_readable(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows
    assert {"figure", "predicted", "rel_error", "role"} <= rows[0].keys()


def test_cli_rejects_unknown_profile_with_exit_code_2() -> None:
    with pytest.raises(SystemExit) as info:
        main(["--profile", "nope"])
    assert info.value.code == 2


def test_benchmark_writes_markdown_and_json(tmp_path: Path) -> None:
    markdown = write_fidelity_table(tmp_path / "bench")
    text = markdown.read_text()
    assert "h200-70b-fp8" in text
    assert "h100-8b" in text
    report = json.loads((tmp_path / "bench" / JSON_NAME).read_text())
    prod = report["profiles"]["h200-70b-fp8"]
    assert prod["fitted"]
    assert prod["max_fitted_rel_error"] <= TARGET_REL_ERROR
    assert report["profiles"]["h100-8b"]["rows"] == []
