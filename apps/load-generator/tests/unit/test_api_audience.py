"""PUT /api/scenario/audience and ScenarioState.audience: what the audience screen shows — the
presenter's toggle, or an auto phase with `show: comparison` (the "why disaggregation" panel)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from demo_common.corpus import load_corpus
from demo_testing.controller import FakeScaler
from demo_testing.doubles import FakeClock, write_tiny_corpus
from loadgen.adapters.state_store import MemoryStateStore
from loadgen.api import create_app
from loadgen.controller_wiring import ScenarioPorts
from loadgen.demo_script import default_script_path, parse_demo_script
from loadgen.records import ChatRequest, RequestRecord
from loadgen.settings import Settings

TOKEN = "presenter-secret-1"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
# The packaged script's first phase, then a closing "why" phase that shows the comparison.
WHY_CYCLE = """
layout: {budget_gpus: 8, initial: {prefill: 2, decode: 3}}
phases:
  - {id: why, name: Why Disaggregation, caption: "Same traffic, same GPUs: the numbers.",
     duration: 60s, preset: baseline, show: comparison}
  - {id: live, name: Baseline, caption: live, duration: 60s, preset: baseline}
"""


class NeverCalled:
    async def send(self, request: ChatRequest, *, intended_ns: int | None = None) -> RequestRecord:
        raise AssertionError("no request is sent while the fake clock stands still")


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    text = default_script_path().read_text()
    script = parse_demo_script(text[: text.index("\nlayout:")] + "\n" + WHY_CYCLE, "why.yaml")
    clock = FakeClock(start_ns=0)
    app = create_app(
        Settings(ui_dir=tmp_path / "no-ui", summary_dir=tmp_path / "sessions"),
        script=script, corpus=load_corpus(write_tiny_corpus(tmp_path / "c")),
        presenter_token=TOKEN, sender=NeverCalled(), clock=clock,
        scenario_ports=ScenarioPorts(scaler=FakeScaler(clock), store=MemoryStateStore()),
    )  # fmt: skip
    with TestClient(app) as test_client:
        yield test_client


def test_live_by_default(client: TestClient) -> None:
    audience = client.get("/api/scenario").json()["audience"]
    assert audience == {"show": "live", "source": "default", "presenter": "live"}


def test_the_presenter_toggles_the_audience_screen(client: TestClient) -> None:
    state = client.put("/api/scenario/audience", json={"show": "comparison"}, headers=AUTH)
    assert state.status_code == 200
    assert state.json()["audience"] == {
        "show": "comparison",
        "source": "presenter",
        "presenter": "comparison",
    }
    assert client.get("/api/scenario").json()["audience"]["show"] == "comparison"
    assert state.json()["timeline"][-1]["message"] == "audience screen: comparison"
    back = client.put("/api/scenario/audience", json={"show": "live"}, headers=AUTH).json()
    assert back["audience"]["show"] == "live"


def test_an_auto_phase_with_show_comparison_shows_it(client: TestClient) -> None:
    state = client.post("/api/scenario/auto", headers=AUTH).json()
    assert state["phase"]["id"] == "why"
    assert state["audience"] == {"show": "comparison", "source": "script", "presenter": "live"}
    manual = client.post("/api/scenario/manual", headers=AUTH).json()
    assert manual["audience"]["show"] == "live"  # the phase's flag ends with auto mode


def test_the_toggle_needs_the_token(client: TestClient) -> None:
    assert client.put("/api/scenario/audience", json={"show": "comparison"}).status_code == 401
    bad = {"Authorization": "Bearer nope-nope-nope"}
    answer = client.put("/api/scenario/audience", json={"show": "comparison"}, headers=bad)
    assert answer.status_code == 401
    assert client.get("/api/scenario").json()["audience"]["show"] == "live"


@pytest.mark.parametrize(
    ("body", "field"),
    [({"show": "charts"}, "show"), ({}, "show"), ({"show": "live", "extra": 1}, "extra")],
)
def test_bad_bodies_are_422_naming_the_field(
    client: TestClient, body: dict[str, object], field: str
) -> None:
    answer = client.put("/api/scenario/audience", json=body, headers=AUTH)
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"][-1] == field
