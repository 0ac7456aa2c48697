"""Stream stalls (longest pause, time frozen) and goodput (a request within all of its SLOs)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from loadgen.demo_script.models import Slo
from loadgen.metrics.prometheus import LoadgenMetrics
from loadgen.metrics.tally import WorkloadTally
from loadgen.records import FREEZE_GAP_NS, WORKLOADS, RequestRecord

MS = 1_000_000
SLO = Slo(ttft_p95_s=1.5, itl_p95_s=0.06, max_gap_p95_s=0.5)


def _record(ttft_ms: int, gaps_ms: list[int], status: str = "ok") -> RequestRecord:
    record = RequestRecord(
        request_id="r", workload="chat", turn=1, conversation_id=None,
        status=status, reason="none", intended_ns=0, send_ns=0,  # type: ignore[arg-type]
        first_token_ns=ttft_ms * MS, gaps=[(g * MS, 1) for g in gaps_ms],
    )  # fmt: skip
    record.measure_stalls()
    return record


@pytest.mark.parametrize(
    ("ttft_ms", "gaps_ms", "status", "met"),
    [
        (1000, [30, 40, 30], "ok", True),
        (1000, [], "ok", True),  # one token: nothing to pause between
        (1501, [30, 40, 30], "ok", False),  # TTFT over 1.5 s
        (1000, [70, 70, 70], "ok", False),  # mean ITL over 60 ms, no pause over 0.5 s
        (1000, [20] * 30 + [520], "ok", False),  # mean 36 ms, but one 0.52 s freeze
        (1000, [20] * 30 + [450], "ok", True),  # a visible freeze within the stall bound
        (1000, [30, 40, 30], "error", False),  # an error never counts
    ],
)
def test_goodput_needs_every_slo(ttft_ms: int, gaps_ms: list[int], status: str, met: bool) -> None:
    assert SLO.met_by(_record(ttft_ms, gaps_ms, status)) is met


@pytest.mark.parametrize(
    "bad",
    [
        {"ttft_p95_s": 1.5, "itl_p95_s": 0.06},  # the stall bound is required
        {"ttft_p95_s": 1.5, "itl_p95_s": 0.06, "max_gap_p95_s": 0},
        {"ttft_p95_s": 1.5, "itl_p95_s": 0.06, "max_gap_p95_s": "soon"},
        {"ttft_p95_s": 1.5, "itl_p95_s": 0.06, "max_gap_p95_s": float("inf")},
    ],
)
def test_slo_refuses_a_bad_stall_bound_naming_it(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError, match="max_gap_p95_s"):
        Slo.model_validate(bad)


def test_tally_and_prometheus_count_frozen_streams_and_goodput() -> None:
    frozen = _record(1000, [20] * 30 + [450])
    frozen.within_slo = True
    slow = _record(2000, [30])
    slow.within_slo = False
    dropped = RequestRecord(
        request_id="d", workload="chat", turn=1, conversation_id=None, status="dropped",
        reason="queue_full", intended_ns=0,
    )  # fmt: skip
    tally = WorkloadTally()
    for r in (frozen, slow, dropped):
        tally.add_record(r)
    out = tally.to_dict(seconds=10.0)
    assert (out["frozen_streams"], out["frozen_s"], out["within_slo"]) == (1, 0.45, 1)
    assert out["slo_attainment"] == 0.3333  # 1 of 3: the dropped request was not served
    assert out["goodput_rps"] == 0.1
    assert out["max_gap_ms"]["count"] == 2
    other = WorkloadTally()
    other.merge(tally)
    other.subtract(tally)
    assert other.empty()

    metrics = LoadgenMetrics(dict.fromkeys(WORKLOADS, SLO))
    for r in (frozen, slow, dropped):
        metrics.observe(r)
    text = metrics.render().decode()
    assert 'loadgen_frozen_streams_total{workload="chat"} 1.0' in text
    assert 'loadgen_frozen_seconds_total{workload="chat"} 0.45' in text
    assert 'loadgen_requests_within_slo_total{workload="chat"} 1.0' in text
    assert 'loadgen_slo_max_gap_seconds{workload="chat"} 0.5' in text
    freeze_edge = f'le="{FREEZE_GAP_NS / 1e9}"'
    assert f'loadgen_max_gap_seconds_bucket{{{freeze_edge},workload="chat"}} 1.0' in text
