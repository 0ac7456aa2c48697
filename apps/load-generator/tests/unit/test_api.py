"""The HTTP API in process (no sockets): routes, validation naming the field, presenter auth."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from demo_common.corpus import load_corpus
from demo_testing.controller import FakeScaler
from demo_testing.doubles import FakeClock, write_tiny_corpus
from demo_testing.openapi import NON_FINITE, numeric_inputs
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


@pytest.fixture
def client(corpus_dir: Path, tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(ui_dir=tmp_path / "no-ui", summary_dir=tmp_path / "sessions")
    app = create_app(
        settings,
        script=load_demo_script(),
        corpus=load_corpus(corpus_dir),
        presenter_token=TOKEN,
        sender=NeverCalled(),
        clock=FakeClock(),
    )
    with TestClient(app) as test_client:
        yield test_client


def test_healthz_fails_once_the_runtime_has_ended(client: TestClient) -> None:
    # What a failed engine or controller task leaves: the HTTP server up, the runtime gone.
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    runtime.shutdown.set()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "runtime ended"


def test_open_read_routes(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok", "state": "idle"}
    status = client.get("/api/status").json()
    assert status["state"] == "idle"
    assert status["active_preset"] == "baseline"
    assert status["followup"]["mode"] == "local_bank"
    assert set(status["live"]["workloads"]) == {"chat", "summarization", "reasoning"}
    presets = client.get("/api/presets").json()
    assert len(presets["presets"]) == 5
    assert client.get("/api/conversations").json() == []
    assert "/api/workload/config" in client.get("/openapi.json").json()["paths"]


def test_metrics_exposes_contract_names_with_slo_edges(client: TestClient) -> None:
    text = client.get("/metrics").text
    for name in (
        "loadgen_ttft_seconds_bucket",
        "loadgen_itl_seconds_bucket",
        "loadgen_requests_total",
        "loadgen_tokens_total",
        "loadgen_followup_questions_total",
        "loadgen_target_rps",
        "loadgen_client_saturated",
        "loadgen_slo_ttft_seconds",
    ):
        assert name in text
    assert 'loadgen_ttft_seconds_bucket{le="1.5",turn="5+",workload="chat"}' in text
    assert 'loadgen_ttft_seconds_bucket{le="6.0",turn="1",workload="summarization"}' in text
    assert 'loadgen_itl_seconds_bucket{le="0.04",workload="reasoning"}' in text
    assert 'loadgen_slo_itl_seconds{workload="reasoning"} 0.04' in text
    assert 'loadgen_slo_ttft_seconds{workload="summarization"} 6.0' in text
    assert "python_gc" not in text  # a per-app registry, not the global one


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/api/workload/start", None),
        ("post", "/api/workload/stop", None),
        ("put", "/api/workload/config", {"rps": 1}),
        ("post", "/api/presets/kv-cache", None),
    ],
)
@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong-token"}])
def test_mutating_routes_need_the_token(
    client: TestClient, method: str, path: str, body: object, headers: dict[str, str]
) -> None:
    before = client.get("/api/status").json()
    response = client.request(method, path, json=body, headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    after = client.get("/api/status").json()
    assert (after["state"], after["config"]) == (before["state"], before["config"])


def test_start_stop_cycle(client: TestClient) -> None:
    assert client.post("/api/workload/start", headers=AUTH).json() == {"state": "running"}
    assert client.post("/api/workload/start", headers=AUTH).status_code == 409
    stopped = client.post("/api/workload/stop", headers=AUTH).json()
    assert stopped["state"] == "idle"
    assert Path(stopped["summary"]["file"]).is_file()
    assert client.post("/api/workload/stop", headers=AUTH).status_code == 409
    assert client.get("/api/status").json()["last_summary_file"] == stopped["summary"]["file"]


def test_partial_config_update_and_preset(client: TestClient) -> None:
    response = client.put("/api/workload/config", json={"mix": {"reasoning": 5}}, headers=AUTH)
    assert response.status_code == 200
    config = response.json()["config"]
    assert config["mix"] == {"chat": 0.6, "summarization": 0.1, "reasoning": 5.0}
    assert config["rps"] == 0.5
    applied = client.post("/api/presets/Decode%20Stress", headers=AUTH).json()
    assert applied["active_preset"] == "decode-stress"
    assert client.get("/api/status").json()["config"] == applied["config"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"rps": -1}, "rps"),
        ({"rps": 5000}, "rps"),
        ({"rps": "fast"}, "rps"),
        ({"max_in_flight": 0}, "max_in_flight"),
        ({"mix": {"chat": 0, "summarization": 0, "reasoning": 0}}, "mix"),
        ({"mix": {"chat": -2}}, "mix"),
        ({"mix": {"video": 1}}, "mix"),
        ({"burst": 3}, "burst"),
    ],
)
def test_bad_config_is_422_naming_the_field_and_changes_nothing(
    client: TestClient, body: dict[str, object], field: str
) -> None:
    before = client.get("/api/status").json()["config"]
    response = client.put("/api/workload/config", json=body, headers=AUTH)
    assert response.status_code == 422
    locs = [e["loc"] for e in response.json()["detail"]]
    assert any(loc[:2] == ["body", field] for loc in locs), locs
    assert client.get("/api/status").json()["config"] == before


def test_unknown_preset_and_conversation_are_404_naming_them(client: TestClient) -> None:
    response = client.post("/api/presets/turbo", headers=AUTH)
    assert response.status_code == 404
    assert "turbo" in response.json()["detail"]
    assert "kv-cache" in response.json()["detail"]
    response = client.get("/api/conversations/c404")
    assert response.status_code == 404
    assert "c404" in response.json()["detail"]


def test_ui_build_is_served_when_present(corpus_dir: Path, tmp_path: Path) -> None:
    ui = tmp_path / "dist"
    ui.mkdir()
    (ui / "index.html").write_text("<html>booth</html>")
    app = create_app(
        Settings(ui_dir=ui),
        script=load_demo_script(),
        corpus=load_corpus(corpus_dir),
        presenter_token=TOKEN,
        sender=NeverCalled(),
        clock=FakeClock(),
    )
    with TestClient(app) as test_client:
        assert "booth" in test_client.get("/").text
        assert test_client.get("/api/status").status_code == 200


def test_create_app_from_settings_alone_generates_a_token(
    corpus_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PRESENTER_TOKEN", raising=False)
    app = create_app(Settings(corpus=str(corpus_dir), ui_dir=tmp_path), clock=FakeClock())
    token = app.state.presenter_token
    assert len(token) >= 16
    with TestClient(app) as test_client:
        ok = test_client.post("/api/presets/baseline", headers={"Authorization": f"Bearer {token}"})
        assert ok.status_code == 200


@pytest.fixture
def wired_client(corpus_dir: Path, tmp_path: Path) -> Iterator[TestClient]:
    """The app with every route wired (scenario controller over fake ports)."""
    clock = FakeClock(start_ns=0)
    app = create_app(
        Settings(ui_dir=tmp_path / "no-ui", summary_dir=tmp_path / "sessions"),
        script=load_demo_script(),
        corpus=load_corpus(corpus_dir),
        presenter_token=TOKEN,
        sender=NeverCalled(),
        clock=clock,
        scenario_ports=ScenarioPorts(scaler=FakeScaler(clock), store=MemoryStateStore()),
    )
    with TestClient(app) as test_client:
        yield test_client


def test_every_numeric_input_refuses_nan_and_infinity_naming_the_field(
    wired_client: TestClient,
) -> None:
    """Python's JSON parser takes NaN and Infinity; each numeric input (read from the OpenAPI
    document, so a new one is covered without editing this test) answers 422 naming it."""
    client = wired_client
    inputs = numeric_inputs(client.get("/openapi.json").json())
    fields = {(i.path, i.field) for i in inputs}
    assert ("/api/workload/config", ("rps",)) in fields
    assert ("/api/workload/config", ("mix", "chat")) in fields
    assert ("/api/pools/{pool}", ("replicas",)) in fields
    before = client.get("/api/status").json()["config"]
    failures = []
    for numeric in inputs:
        for value in NON_FINITE:
            response = client.request(
                numeric.method,
                numeric.url(value, {"pool": "decode", "name": "baseline"}),
                content=numeric.body(value),
                headers={**AUTH, "Content-Type": "application/json"},
            )
            detail = response.json().get("detail") if response.status_code == 422 else None
            locs = [e["loc"] for e in detail] if isinstance(detail, list) else []
            named = [numeric.where, *numeric.field] in locs
            if response.status_code != 422 or not named:
                failures.append(f"{numeric.id}={value}: {response.status_code} {response.text}")
    assert failures == []
    assert client.get("/api/status").json()["config"] == before
