"""The scenario and pools routes in process, over fake ports: modes, 401/409/422, the shapes."""

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
from loadgen.demo_script import load_demo_script
from loadgen.records import ChatRequest, RequestRecord
from loadgen.settings import Settings

TOKEN = "presenter-secret-1"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


class NeverCalled:
    async def send(self, request: ChatRequest, *, intended_ns: int | None = None) -> RequestRecord:
        raise AssertionError("no request is sent while the fake clock stands still")


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_corpus(tmp_path_factory.mktemp("corpus"))


class Rig:
    def __init__(self, corpus_dir: Path, tmp_path: Path, *, with_ports: bool = True) -> None:
        self.clock = FakeClock(start_ns=0)
        self.scaler = FakeScaler(self.clock, paused=True)  # left paused by a crash
        self.store = MemoryStateStore()
        ports = ScenarioPorts(scaler=self.scaler, store=self.store) if with_ports else None
        self.app = create_app(
            Settings(ui_dir=tmp_path / "no-ui", summary_dir=tmp_path / "sessions"),
            script=load_demo_script(),
            corpus=load_corpus(corpus_dir),
            presenter_token=TOKEN,
            sender=NeverCalled(),
            clock=self.clock,
            scenario_ports=ports,
        )


@pytest.fixture
def rig(corpus_dir: Path, tmp_path: Path) -> Iterator[tuple[Rig, TestClient]]:
    rig = Rig(corpus_dir, tmp_path)
    with TestClient(rig.app) as client:
        yield rig, client


def test_state_at_start_is_manual_with_keda_resumed(rig: tuple[Rig, TestClient]) -> None:
    r, client = rig
    state = client.get("/api/scenario").json()
    assert state["mode"] == "manual"
    assert state["phase"] is None
    assert state["keda"] == {
        "paused": False,
        "backend": "local",
        "pools": {
            p: {
                "metric": None,
                "threshold": None,
                "desired": None,
                "last_scale_s": None,
                "metrics_missing_since_s": None,
                "note": None,
            }
            for p in ("prefill", "decode")
        },
    }
    assert state["speed"] == 1.0
    assert state["scaling"] == {"prefill": "steady", "decode": "steady"}
    assert [e["kind"] for e in state["timeline"]] == ["mode", "keda", "keda"]
    assert state["timeline"][-1]["message"] == "KEDA was left paused by a previous run; resumed"
    assert r.scaler.paused is False


def test_mutations_need_the_token(rig: tuple[Rig, TestClient]) -> None:
    _, client = rig
    for path in ("/api/scenario/auto", "/api/scenario/manual", "/api/scenario/stop"):
        assert client.post(path).status_code == 401
    assert client.put("/api/pools/decode", json={"replicas": 4}).status_code == 401
    bad = {"Authorization": "Bearer nope-nope-nope"}
    assert client.post("/api/scenario/auto", headers=bad).status_code == 401


def test_auto_mode_owns_load_and_pools(rig: tuple[Rig, TestClient]) -> None:
    r, client = rig
    answer = client.post("/api/scenario/auto", headers=AUTH)
    assert answer.status_code == 200
    state = answer.json()
    assert state["mode"] == "auto"
    assert state["keda"]["paused"] is True
    assert state["phase"]["id"] == "baseline"
    assert state["phase"]["count"] == 5
    assert state["next_action"]["pool"] == "decode"
    assert r.scaler.paused is True
    assert client.get("/api/status").json()["state"] == "running"
    for method, path, body in (
        ("PUT", "/api/pools/decode", {"replicas": 4}),
        ("POST", "/api/workload/stop", None),
        ("PUT", "/api/workload/config", {"rps": 2}),
        ("POST", "/api/presets/kv-cache", None),
    ):
        answer = client.request(method, path, json=body, headers=AUTH)
        assert answer.status_code == 409, path
        assert "manual" in answer.json()["detail"]
    assert client.post("/api/scenario/auto", headers=AUTH).json()["mode"] == "auto"  # idempotent


def test_manual_pool_overrides_and_guard(rig: tuple[Rig, TestClient]) -> None:
    r, client = rig
    client.post("/api/scenario/auto", headers=AUTH)
    assert client.post("/api/scenario/manual", headers=AUTH).json()["keda"]["paused"] is False
    answer = client.put("/api/pools/decode", json={"replicas": 4}, headers=AUTH)
    assert answer.status_code == 200
    assert answer.json() == {
        "budget_gpus": 8,
        "free_gpus": 2,
        "pools": {
            "prefill": {"desired": 2, "ready": 2, "starting": 0, "min": 1, "max": 4},
            "decode": {"desired": 4, "ready": 4, "starting": 0, "min": 1, "max": 6},
        },
    }
    assert r.scaler.desired() == {"prefill": 2, "decode": 4}
    over = client.put("/api/pools/decode", json={"replicas": 7}, headers=AUTH)
    assert over.status_code == 409
    assert "over the GPU budget of 8" in over.json()["detail"]
    for body in ({"replicas": 0}, {"replicas": "x"}, {}):
        answer = client.put("/api/pools/decode", json=body, headers=AUTH)
        assert answer.status_code == 422
        assert answer.json()["detail"][0]["loc"][-1] == "replicas"
    assert client.put("/api/pools/embed", json={"replicas": 2}, headers=AUTH).status_code == 422
    timeline = client.get("/api/scenario").json()["timeline"]
    assert timeline[-1]["source"] == "presenter"
    assert (timeline[-1]["from_replicas"], timeline[-1]["to_replicas"]) == (3, 4)
    assert client.get("/api/pools").json()["pools"]["decode"]["desired"] == 4


def test_stop_ends_load_and_forbids_overrides(rig: tuple[Rig, TestClient]) -> None:
    r, client = rig
    client.post("/api/scenario/auto", headers=AUTH)
    state = client.post("/api/scenario/stop", headers=AUTH).json()
    assert state["mode"] == "stopped"
    assert state["keda"]["paused"] is False
    assert client.get("/api/status").json()["state"] == "idle"
    assert client.put("/api/pools/prefill", json={"replicas": 3}, headers=AUTH).status_code == 409
    assert r.store.state is not None
    assert r.store.state.mode == "stopped"


def test_metrics_carry_the_controller_series(rig: tuple[Rig, TestClient]) -> None:
    _, client = rig
    client.post("/api/scenario/auto", headers=AUTH)
    text = client.get("/metrics").text
    assert 'loadgen_scenario_phase_info{mode="auto",phase="baseline"} 1.0' in text
    assert 'loadgen_scenario_phase_changes_total{phase="baseline"} 1.0' in text
    assert 'loadgen_pool_replicas{pool="decode",state="desired"} 3.0' in text
    assert "loadgen_gpu_budget 8.0" in text
    assert "loadgen_keda_paused 1.0" in text
    assert "loadgen_scenario_scale_events_total" in text


def test_without_a_backend_the_routes_say_so(corpus_dir: Path, tmp_path: Path) -> None:
    rig = Rig(corpus_dir, tmp_path, with_ports=False)
    with TestClient(rig.app) as client:
        assert client.get("/api/scenario").status_code == 503
        assert client.get("/api/pools").status_code == 503
        assert client.post("/api/workload/start", headers=AUTH).status_code == 200
