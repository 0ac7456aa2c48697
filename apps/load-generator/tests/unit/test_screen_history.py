"""The screens' history (GET /api/history) and the router KV reading (GET /api/kv-cache):
points built from live snapshots, bounded by age and count, Prometheus down read as such."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from demo_common.corpus import load_corpus
from demo_testing.controller import FakeScaler
from demo_testing.doubles import FakeClock, write_tiny_corpus
from loadgen.adapters.router_kv import KV_HIT_RATIO_QUERY
from loadgen.adapters.state_store import MemoryStateStore
from loadgen.api import create_app
from loadgen.api.screen_history import (
    STALE_AFTER_S,
    HistoryPoint,
    KvReading,
    ScreenHistory,
    point_of,
    read_kv,
    read_pools,
    recording,
)
from loadgen.controller_wiring import ScenarioPorts
from loadgen.demo_script import load_demo_script
from loadgen.errors import MetricsUnavailable, ScalerUnavailable
from loadgen.metrics.snapshot import LiveSnapshot
from loadgen.records import ChatRequest, RequestRecord
from loadgen.runtime import open_runtime
from loadgen.settings import Settings

S = 1_000_000_000
T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


class NeverCalled:
    async def send(self, request: ChatRequest, *, intended_ns: int | None = None) -> RequestRecord:
        raise AssertionError("no request is sent in these tests")


class ScriptedReader:
    """A MetricsReader answering from a list (a value, None, or an exception to raise)."""

    def __init__(self, *answers: float | Exception | None) -> None:
        self.answers = list(answers)
        self.queries: list[str] = []
        self.closed = False

    async def instant(self, promql: str) -> float | None:
        self.queries.append(promql)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def aclose(self) -> None:
        self.closed = True


def pct(p50: float | None, p95: float | None, count: int = 4, mean: float | None = None) -> Any:
    mean = p50 if mean is None else mean
    return {
        "count": count,
        "mean": mean,
        "p50": p50,
        "p90": p95,
        "p95": p95,
        "p99": p95,
        "max": p95,
    }


def window(ttft: tuple[float | None, float | None], rps: float, tokens_s: float) -> Any:
    return {
        "target_rps": rps, "offered_rps": rps, "achieved_rps": rps / 2, "completed_rps": rps,
        "output_tokens_per_s": tokens_s, "in_flight": 1, "active": 1, "queued": 0, "arrivals": 1,
        "dispatched": 1, "ok": 1, "errors": 0, "dropped": 0, "stopped": 0, "reasons": {},
        "input_tokens": 10, "output_tokens": 10, "cached_tokens": 0, "cache_hit_ratio": None,
        "ttft_ms": pct(*ttft), "ttst_ms": pct(1, 2), "itl_ms": pct(20, 30), "e2e_ms": pct(1, 2),
        "lag_ms": pct(1, 2), "max_gap_ms": pct(30, 40), "frozen_streams": 0, "frozen_s": 0.0,
        "within_slo": 1, "slo_attainment": 1.0, "goodput_rps": rps,
        "slo": {"ttft_p95_ms": 1500, "itl_p95_ms": 60, "max_gap_p95_ms": 500, "ttft_met": True,
                "itl_met": True, "max_gap_met": True},
    }  # fmt: skip


def turn(mean: float | None, count: int) -> Any:
    return {
        "ok": count, "errors": 0, "input_tokens": 100, "cached_tokens": 50,
        "cache_hit_ratio": 0.5, "ttft_ms": pct(mean, mean, count, mean), "itl_ms": pct(5, 9),
    }  # fmt: skip


def snapshot(at: datetime) -> LiveSnapshot:
    return LiveSnapshot.model_validate(
        {
            "at": at,
            "state": "running",
            "window_s": 30,
            "workloads": {
                "chat": window((100, 400), 1.0, 50),
                "summarization": window((None, None), 0.5, 0),
                "reasoning": window((80, 90), 2.0, 900),
            },
            "chat_turns": {"1": turn(300, 4), "2": turn(100, 3), "5+": turn(60, 1)},
            "client": {"event_loop_lag_ms": 1, "dispatch_lag_p99_ms": None, "saturated": False},
        }
    )


LIVE = KvReading(status="live", ratio=0.87, read_at=T0, detail="router")


def point(t_s: float) -> HistoryPoint:
    return point_of(snapshot(datetime.fromtimestamp(t_s, UTC)), LIVE, None)


def test_a_point_holds_what_the_charts_draw() -> None:
    p = point_of(snapshot(T0), LIVE, {"prefill": {"ready": 2, "desired": 3}})  # type: ignore[dict-item]
    assert p.t_s == T0.timestamp()
    assert p.workloads["chat"].ttft_p95_ms == 400
    assert p.workloads["summarization"].ttft_p50_ms is None  # a gap, not a zero
    assert p.workloads["reasoning"].itl_p95_ms == 30
    assert p.chat_ttft_turn1_ms == 300
    assert p.chat_ttft_later_ms == pytest.approx((3 * 100 + 1 * 60) / 4)  # pooled, not averaged
    assert (p.achieved_rps, p.target_rps, p.output_tokens_per_s) == (1.75, 3.5, 950)
    assert p.kv_hit_ratio == 0.87
    assert p.pools is not None
    assert p.pools["prefill"].desired == 3


def test_a_point_never_carries_a_ratio_that_is_not_live() -> None:
    stale = LIVE.model_copy(update={"status": "unavailable"})
    assert point_of(snapshot(T0), stale, None).kv_hit_ratio is None


def test_history_keeps_five_minutes_in_order_and_answers_after() -> None:
    history = ScreenHistory(window_s=300, capacity=1000)
    t0 = T0.timestamp()
    for i in range(400):
        history.add(point(t0 + i))
    history.add(point(t0 + 200))  # out of order: ignored
    kept = [p.t_s - t0 for p in history.points()]
    assert kept[0] == 99
    assert kept[-1] == 399
    assert len(kept) == 301
    assert [p.t_s - t0 for p in history.points(after_s=t0 + 397)] == [398, 399]


def test_history_is_bounded_by_count_too() -> None:
    history = ScreenHistory(window_s=300, capacity=50)
    for i in range(200):
        history.add(point(T0.timestamp() + i * 0.1))
    assert len(history.points()) == 50


def test_a_reading_older_than_the_bound_is_unavailable_not_live() -> None:
    now = [T0]
    history = ScreenHistory(now=lambda: now[0])
    history.set_kv(LIVE)
    assert history.kv().status == "live"
    now[0] = T0 + timedelta(seconds=STALE_AFTER_S + 1)
    reading = history.kv()
    assert reading.status == "unavailable"
    assert reading.ratio is None
    assert "no answer from Prometheus for 11 s" in reading.detail


async def test_kv_readings_live_no_data_and_prometheus_down() -> None:
    before = KvReading(status="live", ratio=0.5, read_at=T0, detail="x")
    live = await read_kv(ScriptedReader(0.875), before)
    assert (live.status, live.ratio) == ("live", 0.875)
    assert live.read_at is not None
    assert live.read_at > T0
    for empty in (None, math.nan):
        quiet = await read_kv(ScriptedReader(empty), before)
        assert (quiet.status, quiet.ratio) == ("no_data", None)
    down = await read_kv(ScriptedReader(MetricsUnavailable("connection refused")), before)
    assert (down.status, down.ratio, down.read_at) == ("unavailable", None, T0)
    assert "connection refused" in down.detail
    unwired = await read_kv(None, before)
    assert unwired.status == "unavailable"
    assert "no Prometheus" in unwired.detail


async def test_the_reader_is_asked_the_router_query() -> None:
    reader = ScriptedReader(0.5)
    await read_kv(reader, LIVE)
    assert reader.queries == [KV_HIT_RATIO_QUERY]


async def test_pool_points_from_the_scaler_and_none_when_it_fails() -> None:
    scaler = FakeScaler(FakeClock(start_ns=0), prefill=2, decode=3)
    pools = await read_pools(scaler)
    assert pools is not None
    assert (pools["prefill"].ready, pools["decode"].desired) == (2, 3)
    scaler.fail = ScalerUnavailable("api down")
    assert await read_pools(scaler) is None
    assert await read_pools(None) is None


async def test_recording_adds_one_point_per_live_snapshot(tmp_path: Path) -> None:
    clock = FakeClock(start_ns=0)
    reader = ScriptedReader(0.9, 0.9, MetricsUnavailable("down"))
    ports = ScenarioPorts(scaler=FakeScaler(clock), store=MemoryStateStore())
    settings = Settings(ui_dir=tmp_path / "no-ui", summary_dir=tmp_path / "s")
    corpus = load_corpus(write_tiny_corpus(tmp_path / "c"))
    script = load_demo_script()
    async with (
        open_runtime(
            settings, script, corpus, "token-123456", sender=NeverCalled(), clock=clock,
            scenario_ports=ports,
        ) as runtime,
        recording(runtime, reader) as history,
    ):  # fmt: skip
        for _ in range(3):
            await clock.run_for(S)  # one engine tick: a snapshot published
    points = history.points()
    assert len(points) == 3
    assert [p.kv_hit_ratio for p in points] == [0.9, 0.9, None]
    assert all(p.pools is not None and p.pools["decode"].ready == 3 for p in points)
    assert history.kv().status == "unavailable"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[tuple[TestClient, ScriptedReader]]:
    reader = ScriptedReader(0.9)
    app = create_app(
        Settings(ui_dir=tmp_path / "no-ui", summary_dir=tmp_path / "s"),
        script=load_demo_script(), corpus=load_corpus(write_tiny_corpus(tmp_path / "c")),
        presenter_token="presenter-secret-1", sender=NeverCalled(), clock=FakeClock(),
        metrics_reader=reader,
    )  # fmt: skip
    with TestClient(app) as test_client:
        yield test_client, reader
    assert reader.closed, "the app closes the reader it was given"


def test_history_and_kv_routes(client: tuple[TestClient, ScriptedReader]) -> None:
    http, _ = client
    first = http.get("/api/history").json()
    assert first["window_s"] == 300
    assert first["points"] == []
    assert first["kv"]["status"] == "unavailable"  # nothing read yet: not a number
    history: ScreenHistory = http.app.state.screen_history  # type: ignore[attr-defined]
    t0 = datetime.now(UTC).timestamp()
    for i in range(3):
        history.add(point(t0 + i))
    history.set_kv(LIVE.model_copy(update={"read_at": datetime.now(UTC)}))
    body = http.get("/api/history", params={"after": t0}).json()
    assert [p["t_s"] - t0 for p in body["points"]] == [1, 2]
    assert body["points"][0]["workloads"]["chat"]["ttft_p95_ms"] == 400
    kv = http.get("/api/kv-cache").json()
    assert (kv["status"], kv["ratio"]) == ("live", 0.87)


@pytest.mark.parametrize("after", ["-1", "nan", "inf", "soon"])
def test_history_rejects_a_bad_after_naming_it(
    client: tuple[TestClient, ScriptedReader], after: str
) -> None:
    http, _ = client
    response = http.get("/api/history", params={"after": after})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "after"]
