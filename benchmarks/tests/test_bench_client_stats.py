"""Client benchmark statistics: percentiles, frontend histogram deltas, per-step summaries,
CPU interpolation, event counting, verdicts and the markdown report."""

from __future__ import annotations

import pytest

from demo_bench.client_report import (
    TARGETS,
    capacity_verdict,
    render_markdown,
    step_holds,
    verdicts,
)
from demo_bench.client_stats import (
    Window,
    cores_used,
    describe,
    event_instants,
    in_flight_stats,
    parse_histogram,
    per_request_itl_ms,
    server_view,
    step_stats,
)
from demo_bench.client_tap import EventCounter
from loadgen.records import RequestRecord

MS = 1_000_000
S = 1_000_000_000


def exposition(counts: list[int], total: float, model: str = "m") -> str:
    edges = ["0.01", "0.1", "1", "+Inf"]
    lines = ["# TYPE dynamo_frontend_time_to_first_token_seconds histogram"]
    for le, n in zip(edges, counts, strict=True):
        lines.append(
            f'dynamo_frontend_time_to_first_token_seconds_bucket{{model="{model}",le="{le}"}} {n}'
        )
    lines.append(f'dynamo_frontend_time_to_first_token_seconds_sum{{model="{model}"}} {total}')
    lines.append(
        f'dynamo_frontend_time_to_first_token_seconds_count{{model="{model}"}} {counts[-1]}'
    )
    return "\n".join(lines) + "\n"


def record(n: int, intended_ns: int, *, lag_ns: int = MS, ttft_ns: int = 50 * MS,
           gaps: int = 3, gap_ns: int = 10 * MS, ok: bool = True) -> RequestRecord:  # fmt: skip
    send = intended_ns + lag_ns
    first = send + ttft_ns
    rec = RequestRecord(
        request_id=f"r{n}", workload="reasoning", turn=1, conversation_id=None,
        status="ok" if ok else "error", reason="none" if ok else "http_500",
        intended_ns=intended_ns, send_ns=send, first_token_ns=first,
        gaps=[(gap_ns, 1)] * gaps, content_events=gaps + 1, output_tokens=gaps + 1,
    )  # fmt: skip
    rec.last_token_ns = first + gaps * gap_ns
    return rec


def test_describe_takes_the_kits_percentiles() -> None:
    values = [float(v) for v in range(1, 101)]
    assert describe(values)["p95"] == pytest.approx(95.05)
    assert describe(values)["p99"] == pytest.approx(99.01)
    assert describe([3.0, 1.0, 2.0])["p50"] == 2.0
    assert describe([])["mean"] is None


def test_histogram_delta_mean_and_quantile() -> None:
    before = parse_histogram(exposition([0, 10, 10, 10], 0.5), TTFT := _ttft(), {"model": "m"})
    after = parse_histogram(exposition([0, 40, 50, 50], 3.1), TTFT, {"model": "m"})
    delta = after.minus(before)
    assert delta.count == 40
    assert delta.mean() == pytest.approx(2.6 / 40)
    # 30 of the 40 new observations sit in (0.01, 0.1]: the median is 2/3 into that bucket.
    assert delta.quantile(0.5) == pytest.approx(0.01 + 0.09 * 20 / 30)
    assert delta.bucket_around(0.05) == (0.01, 0.1)
    view = server_view(after, before)
    assert view["count"] == 40
    assert view["mean_ms"] == pytest.approx(65.0)
    assert view["p50_bucket_ms"] == [10.0, 100.0]


def test_histogram_filters_labels_and_handles_missing_series() -> None:
    text = exposition([1, 2, 3, 3], 0.2, model="a") + exposition([0, 0, 5, 5], 2.0, model="b")
    only_b = parse_histogram(text, _ttft(), {"model": "b"})
    assert only_b.count == 5
    empty = parse_histogram("", _ttft(), {"model": "b"})
    assert only_b.minus(empty) == only_b
    assert empty.mean() is None
    assert empty.quantile(0.5) is None
    with pytest.raises(ValueError, match="edges differ"):
        only_b.minus(parse_histogram(exposition([1, 1, 1, 1], 0.0).replace('"1"', '"2"'),
                                     _ttft(), {}))  # fmt: skip


def _ttft() -> str:
    return "dynamo_frontend_time_to_first_token_seconds"


def test_event_instants_and_aiperf_itl() -> None:
    rec = record(1, 0, gaps=3, gap_ns=10 * MS)
    instants = event_instants(rec)
    assert [t for t, _ in instants] == [51 * MS, 61 * MS, 71 * MS, 81 * MS]
    assert per_request_itl_ms(rec) == pytest.approx(10.0)
    rec.output_tokens = 1
    assert per_request_itl_ms(rec) is None


def test_step_stats_counts_only_the_window() -> None:
    records = [record(i, i * 100 * MS, lag_ns=(i + 1) * MS) for i in range(10)]  # 0..0.9 s
    records.append(record(99, 300 * MS, ok=False))
    starts = [(r.intended_ns, r.send_ns or 0) for r in records]
    starts.append((450 * MS, 452 * MS))  # still streaming at the stop: no record
    window = Window(200 * MS, 700 * MS)  # intended 0.2, 0.3, 0.4, 0.5, 0.6 (+ the failed one)
    stats = step_stats(records, starts, window, target_rps=10.0, sse_events=40,
                       server_ttft_ms={f"r{i}": 49.0 for i in range(10)})  # fmt: skip
    assert stats["arrivals"] == 7
    assert stats["ok"] == 5
    assert stats["errors"] == {"http_500": 1}
    assert stats["unfinished_at_stop"] == 1
    assert stats["achieved_send_rps"] == pytest.approx(14.0)
    assert stats["events_per_s"] == pytest.approx(80.0)
    assert stats["ttft_ms"]["p50"] == pytest.approx(50.0)
    assert stats["itl_per_token_ms"]["count"] == 15
    assert stats["schedule_lag_ms"]["max"] == pytest.approx(7.0)
    assert stats["client_added_ttft_ms"]["p50"] == pytest.approx(1.0)
    assert stats["server_ttft_ms"]["count"] == 5


def test_cpu_interpolation_and_in_flight() -> None:
    samples = [(0, 10.0), (S, 10.5), (2 * S, 11.5)]
    assert cores_used(samples, Window(S // 2, 3 * S // 2)) == pytest.approx(0.75)
    assert cores_used(samples, Window(S, 3 * S)) is None  # beyond the samples
    flight = in_flight_stats([(0, 5), (S, 9), (2 * S, 1)], Window(0, 2 * S))
    assert flight == {"mean": 7.0, "max": 9.0}


def test_event_counter_bins() -> None:
    counter = EventCounter()
    counter.add(5 * MS, b"data: {}\n\ndata: {}\n\n")
    counter.add(15 * MS, b"data: [DONE]\n\n")
    counter.add(25 * MS, b": keep-alive\n\n")
    assert counter.between(0, 20 * MS) == 3
    assert counter.between(10 * MS, 20 * MS) == 1
    assert counter.between(1 * MS, 10 * MS) == 0  # the first bin starts before the window


def step(rps: float, sent: float, lag_p99: float, streams: float, events: float,
         errors: dict[str, int] | None = None) -> dict[str, object]:  # fmt: skip
    return {
        "target_rps": rps, "achieved_send_rps": sent, "schedule_lag_ms": {"p99": lag_p99},
        "in_flight": {"mean": streams, "max": streams}, "events_per_s": events,
        "errors": errors or {},
    }  # fmt: skip


def test_capacity_verdict_finds_best_held_step_and_where_it_broke() -> None:
    steps = [
        step(50, 50, 3.0, 150, 7500),
        step(100, 99, 8.0, 320, 15000),
        step(150, 140, 40.0, 600, 20000),  # lagging and short of the rate
    ]
    assert [step_holds(s) for s in steps] == [True, True, False]
    assert not step_holds(step(50, 50, 3.0, 150, 7500, {"disconnect": 1}))
    verdict = capacity_verdict(steps)
    assert verdict["met"] is True
    assert verdict["best_events_per_s"] == 15000
    assert verdict["first_failing_step_rps"] == 150
    assert capacity_verdict(steps[:1])["met"] is False  # too few streams and events
    assert capacity_verdict([])["met"] is False


def test_report_shows_comparison_added_ttft_and_capacity() -> None:
    results: dict[str, object] = {
        "mode": "quick",
        "pinning": "client on CPU 0",
        "comparisons": {
            "speed0": {
                "scenario": {"name": "speed0", "speed": 0.0, "rate_rps": 100.0, "isl": 200,
                             "osl": 16, "duration_s": 10.0},
                "aiperf": {"version": "0.13.0", "ttft_ms": {"mean": 88.0, "p50": 87.0},
                           "server": {"ttft": {"mean_ms": 83.0}}},
                "loadgen": {"ttft_ms": {"mean": 89.5, "p50": 88.0}, "errors": {},
                            "server": {"ttft": {"mean_ms": 86.0, "p50_bucket_ms": [47, 100]}}},
            }
        },
        "added_ttft_source": {"client_added_ttft_ms": {"p50": 0.7, "p95": 4.0, "count": 700}},
        "capacity_source": [step(50, 50, 3.0, 320, 12000)],
    }  # fmt: skip
    verdict = verdicts(results)
    assert verdict["added_ttft_met"] is True
    assert verdict["capacity_source"]["met"] is True
    results["verdicts"] = verdict
    text = render_markdown(results)
    assert "| TTFT added over the frontend's mean (ms) | 5.00 | 3.50 |  |" in text
    assert "p50 0.700 ms" in text
    assert "**met**" in text
    assert "AIPerf 0.13.0" in text
    assert "| – | 50.0 / – | 50.0 | 320 / 320 | 12,000 |" in text
    assert f"p99 <= {TARGETS['schedule_lag_p99_ms']:g} ms" in text
