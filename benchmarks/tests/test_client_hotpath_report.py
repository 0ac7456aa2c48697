"""The hot-path benchmark's verdicts: the target needs events, streams and loop lag together."""

from __future__ import annotations

from typing import Any

from demo_bench.client_hotpath_report import render_markdown, step_meets, us_per_event, verdicts


def step(events: float, streams: float, lag_p99: float, errors: int = 0) -> dict[str, Any]:
    return {
        "offered_streams": 660, "events_per_s": events, "client_cpu_cores": events * 22e-6,
        "in_flight": {"mean": streams, "max": streams + 20}, "loop_lag_ms": {"p99": lag_p99},
        "errors": {"disconnect": errors} if errors else {}, "ttft_ms": {"p50": 1.0},
    }  # fmt: skip


def test_each_part_of_the_target_counts() -> None:
    assert step_meets(step(22_000, 650, 3.0))
    assert not step_meets(step(19_000, 650, 3.0))  # too few events
    assert not step_meets(step(22_000, 590, 3.0))  # too few streams
    assert not step_meets(step(22_000, 650, 12.0))  # loop lag over 10 ms
    assert not step_meets(step(22_000, 650, 3.0, errors=1))
    assert us_per_event(step(20_000, 650, 3.0)) == 22.0


def test_verdicts_and_report_against_aiperf() -> None:
    results: dict[str, Any] = {
        "capacity": {"baseline": [step(22_000, 690, 18.0)], "streaming": [step(22_000, 690, 3.0)]},
        "aiperf": {"ttft_ms": {"p50": 1.5}, "client_cpu_cores": 0.2, "requests": 400},
        "loadgen_like_aiperf": {"ttft_ms": {"p50": 0.6}, "client_tree_cpu_cores": 0.07, "ok": 400},
        "variants": {"streaming": {"transport": "streaming", "event_parsing": "fast"}},
    }
    out = verdicts(results)
    assert (out["baseline"]["met"], out["streaming"]["met"]) == (False, True)
    assert out["vs_aiperf"] == {"ttft_p50_diff_ms": -0.9, "cpu_ratio": 0.35, "met": True}
    results["verdicts"] = out
    text = render_markdown(results)
    assert "Target **met** by `streaming`" in text
    assert "Target **not met** by `baseline`" in text
