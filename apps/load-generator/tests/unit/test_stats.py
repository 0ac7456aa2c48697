"""Log-bucketed histogram percentiles and merging; tallies and the sliding live window."""

from __future__ import annotations

import random
from typing import Any

import pytest

from loadgen.metrics.live import LiveWindow
from loadgen.metrics.snapshot import client_health
from loadgen.metrics.stats import LogHistogram
from loadgen.metrics.tally import Tally
from loadgen.records import RequestRecord

S = 1_000_000_000
MS = 1_000_000


def test_quantiles_within_one_percent_of_exact() -> None:
    rng = random.Random(5)
    values = [rng.lognormvariate(-3, 1) for _ in range(20000)]
    hist = LogHistogram()
    for v in values:
        hist.add(v)
    ordered = sorted(values)
    for q in (0.5, 0.9, 0.95, 0.99):
        exact = ordered[int(q * len(ordered)) - 1]
        assert hist.quantile(q) == pytest.approx(exact, rel=0.01)
    assert hist.mean() == pytest.approx(sum(values) / len(values), rel=1e-9)


def test_weights_and_merge() -> None:
    a, b = LogHistogram(), LogHistogram()
    a.add(0.010, weight=3)
    b.add(0.100)
    merged = LogHistogram.merged([a, b])
    assert merged.count == 4
    assert merged.quantile(0.75) == pytest.approx(0.010, rel=0.01)
    assert merged.quantile(1.0) == pytest.approx(0.100, rel=0.01)
    assert LogHistogram().quantile(0.5) is None


def record(
    workload: str = "chat", turn: int = 1, status: str = "ok", **kw: object
) -> RequestRecord:
    rec = RequestRecord(
        request_id="r",
        workload=workload,  # type: ignore[arg-type]
        turn=turn,
        conversation_id=None,
        status=status,  # type: ignore[arg-type]
        reason="none" if status == "ok" else "timeout",
        intended_ns=0,
        send_ns=2 * MS,
        first_token_ns=102 * MS,
        second_token_ns=122 * MS,
        last_token_ns=142 * MS,
        gaps=[(20 * MS, 1), (20 * MS, 2)],
        input_tokens=100,
        output_tokens=4,
        cached_tokens=64,
    )
    for key, value in kw.items():
        setattr(rec, key, value)
    return rec


def test_tally_per_workload_and_turn() -> None:
    tally = Tally()
    tally.add_record(record(turn=1, cached_tokens=0))
    tally.add_record(record(turn=6))
    tally.add_record(record(workload="reasoning", status="error"))
    chat = tally.workloads["chat"].to_dict(seconds=2.0)
    assert chat["ok"] == 2
    assert chat["ttft_ms"]["p50"] == pytest.approx(100, rel=0.01)
    assert chat["itl_ms"]["count"] == 6  # 3 tokens per record
    assert chat["lag_ms"]["p50"] == pytest.approx(2, rel=0.01)
    assert chat["completed_rps"] == 1.0
    assert set(tally.turns) == {"1", "5+"}
    assert tally.turns["5+"].to_dict()["cache_hit_ratio"] == 0.64
    assert tally.workloads["reasoning"].to_dict()["reasons"] == {"timeout": 1}


def test_live_window_forgets_old_bins_and_reports_span() -> None:
    live = LiveWindow(window_s=10)
    live.restart(0)
    for second in range(30):
        live.add_arrival("chat", dispatch_lag_ns=1 * MS, now_ns=second * S)
        live.add_dispatch("chat", now_ns=second * S)
        live.add_record(record(), now_ns=second * S + S // 2)
    tally, span = live.tally(now_ns=29 * S + S // 2)
    assert span == pytest.approx(9.5)
    assert tally.workloads["chat"].arrivals == 10
    assert tally.workloads["chat"].to_dict(span)["achieved_rps"] == pytest.approx(10 / 9.5, 1e-3)
    early, span_early = LiveWindow(window_s=10), 0.0
    early.restart(0)
    _, span_early = early.tally(now_ns=2 * S)
    assert span_early == pytest.approx(2.0)


def test_add_many_equals_add_one_by_one() -> None:
    pairs = [(0.0, 1), (3e-8, 2), (0.021, 1), (0.5, 4), (12.0, 0), (0.021, 3)]
    one, many = LogHistogram(), LogHistogram()
    for value, weight in pairs:
        one.add(value * 1e-3, weight)
    many.add_many(pairs, 1e-3)
    assert (many.count, many.total) == (one.count, one.total)
    assert [many.quantile(q) for q in (0, 0.3, 0.5, 0.9, 1)] == [
        one.quantile(q) for q in (0, 0.3, 0.5, 0.9, 1)
    ]


def test_live_window_equals_merging_its_bins_afresh() -> None:
    # The window keeps its closed bins merged (add on close, subtract on expiry): whatever the
    # sequence, it must read exactly as merging the bins of the last window_s seconds afresh.
    rng = random.Random(7)
    live = LiveWindow(window_s=5)
    live.restart(0)
    kept: list[tuple[int, RequestRecord | None, int]] = []  # (now_ns, record, dispatch lag)
    now = 0
    for _ in range(400):
        now += rng.choice([0, 1, 50 * MS, 400 * MS, S, 3 * S, 7 * S])
        if rng.random() < 0.3:
            lag = rng.randrange(0, 80 * MS)
            live.add_arrival("chat", lag, now)
            kept.append((now, None, lag))
        else:
            rec = record(
                workload=rng.choice(["chat", "reasoning"]), turn=rng.randint(1, 6),
                status=rng.choice(["ok", "ok", "error", "dropped", "stopped"]),
                first_token_ns=rng.randrange(3 * MS, 900 * MS),
                gaps=[(rng.randrange(MS, 90 * MS), rng.randint(1, 3)) for _ in range(20)],
            )  # fmt: skip
            live.add_record(rec, now)
            kept.append((now, rec, 0))
        if rng.random() < 0.2:
            got, _ = live.tally(now)
            fresh = Tally()
            for at, kept_rec, lag in kept:
                if at // S > now // S - 5:
                    if kept_rec is None:
                        fresh.add_arrival("chat", lag)
                    else:
                        fresh.add_record(kept_rec)
            assert set(got.turns) == set(fresh.turns)
            for w in got.workloads:
                assert _flat(got.workloads[w].to_dict(1.0)) == _flat(
                    fresh.workloads[w].to_dict(1.0)
                )
            for label in got.turns:
                assert _flat(got.turns[label].to_dict()) == _flat(fresh.turns[label].to_dict())
            assert _flat(got.dispatch_lag.summary()) == _flat(fresh.dispatch_lag.summary())


def _flat(view: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested dict -> flat; floats compared approximately (sums differ in the last bits)."""
    out: dict[str, Any] = {}
    for key, value in view.items():
        if isinstance(value, dict) and key != "reasons":
            out |= _flat(value, f"{prefix}{key}.")
        else:
            out[prefix + key] = pytest.approx(value) if isinstance(value, float) else value
    return out


def test_one_late_arrival_flags_the_client_for_the_recent_seconds_only() -> None:
    # The saturation flag looks back 5 s: one arrival dispatched 80 ms late is not the client's
    # state 30 s later (the live window's span).
    live = LiveWindow(window_s=30)
    flagged = []
    for second in range(100, 140):
        lag_ms = 80 if second == 100 else 1
        live.add_arrival("chat", dispatch_lag_ns=lag_ms * MS, now_ns=second * S)
        recent = live.recent_dispatch_lag(second * S + S // 2, 5)
        if client_health(0, recent, 50.0).saturated:
            flagged.append(second)
    assert flagged == [100, 101, 102, 103, 104]
