"""Unit tests of the fidelity table, its CLI and the benchmark file writer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from demo_bench.fidelity import JSON_NAME, write_fidelity_table
from localcluster.perfmodel import hardware_profile
from localcluster.perfmodel.fidelity import FidelityRow, failures, fidelity_rows, main
from localcluster.perfmodel.measurements import (
    H200_8B_DECODE,
    H200_8B_PREFILL,
    H200_70B_CACHED_PREFILL,
    H200_70B_DECODE,
    H200_70B_PREFILL,
    h200_70b_engine_figures,
)


def test_rows_cover_every_measured_point() -> None:
    rows = fidelity_rows(hardware_profile("h200-70b-fp8"))
    expected = len(H200_70B_PREFILL) + len(H200_70B_DECODE) + len(H200_8B_PREFILL)
    expected += len(H200_8B_DECODE) + len(H200_70B_CACHED_PREFILL)
    expected += len(h200_70b_engine_figures())
    assert len(rows) == expected
    assert failures(rows) == []
    groups = {r.group for r in rows}
    assert {"band 70B on H200", "band 8B on H200"} <= groups
    assert any("TRT-LLM" in g for g in groups)
    assert any("ShareGPT" in g for g in groups)


def test_failures_catch_a_point_out_of_band_or_off_by_more_than_20_percent() -> None:
    out = FidelityRow("band 70B on H200", "prefill 1", 1.0, 2.0, 3.0, 2.0, None, False)
    cached = FidelityRow("cached prefix (torch only)", "x", 0.0, 2.0, 3.0, None, None, False)
    assert failures([out, cached]) == [out]


def test_derived_profile_has_no_rows() -> None:
    assert fidelity_rows(hardware_profile("h100-8b")) == []


def test_cli_prints_table_and_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    out = capsys.readouterr().out
    assert "| band 70B on H200 | prefill 20480 tokens | 3091.8–4013.6 |" in out
    assert "ITL p50 @120" in out
    assert "every point in its band" in out
    assert main(["--profile", "h100-8b"]) == 0
    assert "No measured figures on this hardware" in capsys.readouterr().out


def test_cli_json_is_machine_readable(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows
    assert {"group", "point", "predicted", "position", "rel_error", "ok"} <= rows[0].keys()


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
    assert prod["measured_hardware"]
    assert prod["failures"] == 0
    assert report["profiles"]["h100-8b"]["rows"] == []
