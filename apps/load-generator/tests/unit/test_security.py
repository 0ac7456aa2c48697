"""Presenter token guard (rate limit, logs without the token), read-only open routes, CORS."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from demo_common.corpus import load_corpus
from demo_testing.doubles import FakeClock, write_tiny_corpus
from loadgen.api import create_app
from loadgen.api.presenter_guard import PresenterGuard
from loadgen.demo_script import load_demo_script
from loadgen.records import ChatRequest, RequestRecord
from loadgen.settings import Settings

TOKEN = "presenter-secret-guard-1"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
READ_METHODS = {"GET", "HEAD"}


class NeverCalled:
    async def send(self, request: ChatRequest, *, intended_ns: int | None = None) -> RequestRecord:
        raise AssertionError("no request is sent while the fake clock stands still")


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return Path(write_tiny_corpus(tmp_path_factory.mktemp("corpus")))


def make_client(corpus_dir: Path, tmp_path: Path, **settings: object) -> TestClient:
    app = create_app(
        Settings(ui_dir=tmp_path / "no-ui", **settings),
        script=load_demo_script(),
        corpus=load_corpus(corpus_dir),
        presenter_token=TOKEN,
        sender=NeverCalled(),
        clock=FakeClock(),
    )
    return TestClient(app)


@pytest.fixture
def client(corpus_dir: Path, tmp_path: Path) -> Iterator[TestClient]:
    with make_client(corpus_dir, tmp_path) as test_client:
        yield test_client


class Ticks:
    def __init__(self) -> None:
        self.now = 0

    def __call__(self) -> int:
        return self.now


def test_guard_limits_failures_per_client_and_forgets_them_after_the_window() -> None:
    ticks = Ticks()
    guard = PresenterGuard(TOKEN, max_failures=3, window_s=10, now_ns=ticks)
    for _ in range(3):
        assert guard.retry_after_s("10.0.0.7") is None
        assert not guard.check("10.0.0.7", "guess")
    assert guard.retry_after_s("10.0.0.7") == 10
    assert guard.retry_after_s("10.0.0.8") is None  # other clients are unaffected
    ticks.now = 4_500_000_000
    assert guard.retry_after_s("10.0.0.7") == 6
    ticks.now = 10_000_000_001
    assert guard.retry_after_s("10.0.0.7") is None
    assert guard.check("10.0.0.7", TOKEN)


def test_guard_keeps_a_bounded_number_of_clients() -> None:
    guard = PresenterGuard(TOKEN, max_failures=2, max_clients=5, now_ns=Ticks())
    for n in range(50):
        guard.check(f"10.0.1.{n}", None)
    assert len(guard._failures) == 5
    assert guard.rejected == 50


def test_failures_are_logged_without_the_token(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = "wrong-but-close-" + TOKEN
    with caplog.at_level(logging.WARNING, logger="loadgen.api.presenter_guard"):
        client.post("/api/workload/start", headers={"Authorization": f"Bearer {wrong}"})
        client.post("/api/workload/start")
    messages = [r.getMessage() for r in caplog.records]
    assert any("presenter token wrong" in m for m in messages), messages
    assert any("presenter token missing" in m for m in messages), messages
    assert all(TOKEN not in m for m in messages)


def test_too_many_wrong_tokens_get_429_and_change_nothing(client: TestClient) -> None:
    before = client.get("/api/status").json()
    codes = [
        client.post(
            "/api/workload/start", headers={"Authorization": f"Bearer nope-{n}"}
        ).status_code
        for n in range(25)
    ]
    assert codes[:20] == [401] * 20
    assert set(codes[20:]) == {429}
    limited = client.post("/api/presets/kv-cache", headers=AUTH)
    assert limited.status_code == 429  # the client is refused without a check while limited
    assert int(limited.headers["retry-after"]) >= 1
    after = client.get("/api/status").json()
    assert (after["state"], after["config"]) == (before["state"], before["config"])


def test_every_mutating_route_needs_the_token_and_every_open_route_only_reads(
    client: TestClient,
) -> None:
    """Walks the OpenAPI document, so routes added later (scenario, pools) are covered too."""
    paths = client.get("/openapi.json").json()["paths"]
    writes = 0
    for path, operations in paths.items():
        concrete = re.sub(r"\{[^}]+\}", "prefill", path)
        for method, operation in operations.items():
            secured = bool(operation.get("security"))
            if method.upper() in READ_METHODS:
                assert not secured, f"{method} {path} is a read route: it must stay open"
                continue
            writes += 1
            assert secured, f"{method} {path} changes state: it must need the presenter token"
            response = client.request(method, concrete, json={})
            assert response.status_code == 401, f"{method} {path}: {response.status_code}"
    assert writes >= 4


@pytest.mark.parametrize("path", ["/metrics", "/api/status", "/healthz", "/api/presets"])
@pytest.mark.parametrize("method", ["post", "put", "delete", "patch"])
def test_open_routes_refuse_writes(client: TestClient, path: str, method: str) -> None:
    assert client.request(method, path, headers=AUTH).status_code == 405


def test_cors_is_closed_by_default(client: TestClient) -> None:
    evil = {"Origin": "https://evil.example"}
    assert "access-control-allow-origin" not in client.get("/api/status", headers=evil).headers
    preflight = client.options(
        "/api/workload/start",
        headers={**evil, "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "authorization"},
    )  # fmt: skip
    assert preflight.status_code >= 400
    assert "access-control-allow-origin" not in preflight.headers


def test_cors_opens_to_named_origins_only(corpus_dir: Path, tmp_path: Path) -> None:
    with make_client(corpus_dir, tmp_path, cors_origins=["https://booth.example/"]) as client:
        good = client.get("/api/status", headers={"Origin": "https://booth.example"})
        assert good.headers["access-control-allow-origin"] == "https://booth.example"
        bad = client.get("/api/status", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in bad.headers


@pytest.mark.parametrize("origin", ["*", "booth.example", "https://*.example"])
def test_cors_origins_must_be_exact(origin: str) -> None:
    with pytest.raises(ValidationError, match="cors_origins"):
        Settings(cors_origins=[origin])
