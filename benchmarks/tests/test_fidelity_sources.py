"""The four-source fidelity table: AIConfigurator in-process gives NVIDIA's published figures."""

from __future__ import annotations

from pathlib import Path

import pytest

from demo_bench.fidelity_sources import Aic, SourceRow, render_markdown
from localcluster.modeldir import write_model_dir
from localcluster.perfmodel import PROD_PROFILE, hardware_profile


def test_aic_estimates_the_70b_on_the_h200_as_calibration_md_quotes(tmp_path: Path) -> None:
    # calibration.md (AIConfigurator estimate, TP1): prefill 10240 -> 1239 ms, 16 x 4096 -> 24.3.
    aic = Aic(write_model_dir(tmp_path / "m", "70b"), "h200_sxm", "trtllm")
    assert aic.static(10_240, 1)[0] == pytest.approx(1239, abs=2)
    assert aic.static(4096, 16)[1] == pytest.approx(24.3, abs=0.2)


def test_table_shows_each_source_against_ais() -> None:
    rows = [
        SourceRow("prefill", "10240 tokens", 1236.5, 1238.8, 1521.7, (1307, 1797.1)),
        SourceRow("decode step", "128 x 1024", None, 30.1, 27.4, None, "above max batch"),
    ]
    text = render_markdown(hardware_profile(PROD_PROFILE), rows)
    assert (
        "| prefill | 10240 tokens | 1236.5 | 1238.8 (+0 %) | 1521.7 (+23 %) | 1307..1797.1 |"
        in text
    )
    assert "| decode step | 128 x 1024 | — | 30.1 | 27.4 | — | above max batch |" in text
