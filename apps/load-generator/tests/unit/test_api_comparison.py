"""GET /api/comparison: the recorded layout comparison for the audience, or `recorded: false`.

The record is written by the real report writer (demo_bench.compare) from synthetic runs, so
the route is tested against the writer's shape, not a copy of it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from demo_bench.compare.synthetic import write_synthetic_comparison
from demo_common.corpus import load_corpus
from demo_testing.doubles import FakeClock, write_tiny_corpus
from loadgen.api import create_app
from loadgen.demo_script import load_demo_script
from loadgen.settings import Settings


def _client(tmp_path: Path, comparison_dir: Path) -> Iterator[TestClient]:
    settings = Settings(ui_dir=tmp_path / "no-ui", comparison_dir=comparison_dir)
    app = create_app(
        settings, script=load_demo_script(), corpus=load_corpus(write_tiny_corpus(tmp_path / "c")),
        presenter_token="presenter-token-123", clock=FakeClock(),
    )  # fmt: skip
    with TestClient(app) as client:
        yield client


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_synthetic_comparison(tmp_path_factory.mktemp("compare")).parent


@pytest.fixture
def recorded(tmp_path: Path, written: Path) -> Iterator[TestClient]:
    yield from _client(tmp_path, written)


def test_the_recorded_comparison_is_shown_with_where_and_when(
    recorded: TestClient, written: Path
) -> None:
    raw = json.loads((written / "comparison.json").read_text())
    answer = recorded.get("/api/comparison").json()
    assert (answer["recorded"], answer["note"]) == (True, "")
    body = answer["comparison"]
    for key in ("measured_at", "machine", "speed", "env", "script"):
        assert body[key] == raw[key]
    assert body["profile"] == "h200-70b-fp8"  # env prod
    assert list(body["layouts"]) == ["aggregated", "static", "controller", "keda"]
    static = body["layouts"]["static"]
    assert static["ratio_vs_aggregated"] == raw["ratio_vs_aggregated"]["static"] == 2.8
    frozen = {name: n["frozen_streams"] for name, n in body["layouts"].items()}
    assert frozen == {name: n["frozen_streams"] for name, n in raw["layouts"].items()}
    assert frozen["aggregated"] == 18  # synthetic: 3 per workload and phase
    assert static["goodput_per_gpu"] == raw["layouts"]["static"]["goodput_per_gpu"]
    assert static["gpu_seconds"] == 500.0
    assert static["slo_attainment"] == {"chat": 0.7, "summarization": 0.7, "reasoning": 0.7}
    assert body["layouts"]["aggregated"]["ratio_vs_aggregated"] is None
    # The saturation guard's verdict, per layout and overall, with its reason.
    assert body["layouts"]["keda"]["valid"] is False
    assert "client loop lag" in body["layouts"]["keda"]["invalid_because"][0]
    assert body["valid"] is False
    assert body["plot"] == "/api/comparison/plot.png"
    plot = recorded.get("/api/comparison/plot.png")
    assert plot.status_code == 200
    assert plot.headers["content-type"] == "image/png"
    assert plot.content[:8] == b"\x89PNG\r\n\x1a\n"


def test_an_older_record_gets_its_attainment_from_the_phases(tmp_path: Path, written: Path) -> None:
    raw = json.loads((written / "comparison.json").read_text())
    for numbers in raw["layouts"].values():
        del numbers["slo_attainment"]
    del raw["profile"]
    folder = tmp_path / "old"
    folder.mkdir()
    (folder / "comparison.json").write_text(json.dumps(raw))
    for client in _client(tmp_path, folder):
        body = client.get("/api/comparison").json()["comparison"]
        assert body["profile"] is None
        assert body["plot"] is None  # no goodput.png beside it
        assert body["layouts"]["controller"]["slo_attainment"]["chat"] == 0.9
        assert client.get("/api/comparison/plot.png").status_code == 404


def test_no_record_is_an_answer_not_a_404(tmp_path: Path) -> None:
    for client in _client(tmp_path, tmp_path / "nowhere"):
        answer = client.get("/api/comparison")
        assert answer.status_code == 200  # a 404 would be a console error on every poll
        assert answer.json() == {
            "recorded": False,
            "note": "no comparison recorded yet",
            "comparison": None,
        }
        assert client.get("/api/comparison/plot.png").status_code == 404


@pytest.mark.parametrize("text", ['{"measured_at": "x"}', "not json", '{"layouts": 3}'])
def test_an_unreadable_record_is_not_recorded_naming_the_problem(tmp_path: Path, text: str) -> None:
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "comparison.json").write_text(text)
    for client in _client(tmp_path, folder):
        answer = client.get("/api/comparison").json()
        assert answer["recorded"] is False
        assert answer["comparison"] is None
        assert "unreadable" in answer["note"]
