"""GET /api/comparison: the recorded layout comparison for the audience, or 404."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from demo_common.corpus import load_corpus
from demo_testing.doubles import FakeClock, write_tiny_corpus
from loadgen.api import create_app
from loadgen.scenario import load_demo_script
from loadgen.settings import Settings

RECORD = {
    "measured_at": "2026-11-30T02:00Z", "machine": "x86_64, 2 cores", "speed": 1.0, "env": "prod",
    "titles": {"aggregated": "aggregated, all budget GPUs", "static": "static"},
    "layouts": {
        "aggregated": {"valid": True, "goodput_per_gpu": 0.05, "gpu_seconds": 800.0, "requests": 9},
        "static": {"valid": False, "goodput_per_gpu": 0.1, "gpu_seconds": 500.0, "requests": 9},
    },
    "ratio_vs_aggregated": {"static": 2.0},
}  # fmt: skip


def _client(tmp_path: Path, comparison_dir: Path) -> Iterator[TestClient]:
    settings = Settings(ui_dir=tmp_path / "no-ui", comparison_dir=comparison_dir)
    app = create_app(
        settings, script=load_demo_script(), corpus=load_corpus(write_tiny_corpus(tmp_path / "c")),
        presenter_token="presenter-token-123", clock=FakeClock(),
    )  # fmt: skip
    with TestClient(app) as client:
        yield client


@pytest.fixture
def recorded(tmp_path: Path) -> Iterator[TestClient]:
    folder = tmp_path / "compare"
    folder.mkdir()
    (folder / "comparison.json").write_text(json.dumps(RECORD))
    (folder / "goodput.png").write_bytes(b"\x89PNG\r\n\x1a\nfake")
    yield from _client(tmp_path, folder)


def test_the_recorded_comparison_is_shown_with_where_and_when(recorded: TestClient) -> None:
    body = recorded.get("/api/comparison").json()
    assert body["measured_at"] == "2026-11-30T02:00Z"
    assert body["machine"] == "x86_64, 2 cores"
    assert body["layouts"]["static"]["ratio_vs_aggregated"] == 2.0
    assert body["layouts"]["static"]["valid"] is False
    assert body["layouts"]["aggregated"]["ratio_vs_aggregated"] is None
    plot = recorded.get("/api/comparison/plot.png")
    assert plot.status_code == 200
    assert plot.headers["content-type"] == "image/png"


def test_no_record_is_404(tmp_path: Path) -> None:
    for client in _client(tmp_path, tmp_path / "nowhere"):
        assert client.get("/api/comparison").status_code == 404
        assert client.get("/api/comparison/plot.png").status_code == 404
