"""The GPU budget guard and the Prometheus answer parser."""

from __future__ import annotations

import pytest

from loadgen.adapters.guard import check_scale
from loadgen.adapters.kubernetes import parse_bool_annotation
from loadgen.adapters.prometheus import parse_instant
from loadgen.errors import MetricsUnavailable, ScaleRejected


def test_guard_keeps_one_worker_and_the_gpu_budget() -> None:
    desired = {"prefill": 2, "decode": 3}
    assert check_scale("prefill", 5, desired, 8) == "prefill"  # 5 + 3 = 8
    with pytest.raises(ScaleRejected, match="exceeds the GPU budget of 8"):
        check_scale("prefill", 6, desired, 8)
    with pytest.raises(ScaleRejected, match="at least 1"):
        check_scale("decode", 0, desired, 8)
    with pytest.raises(ScaleRejected, match="unknown pool 'router'"):
        check_scale("router", 1, desired, 8)
    with pytest.raises(ScaleRejected, match="integer"):
        check_scale("decode", True, desired, 8)
    with pytest.raises(ScaleRejected, match="budget of 3"):
        check_scale("decode", 3, {"prefill": 1, "decode": 1}, 3)


def vector(*values: str) -> dict[str, object]:
    result = [{"metric": {}, "value": [1.0, v]} for v in values]
    return {"status": "success", "data": {"resultType": "vector", "result": result}}


def test_instant_answers() -> None:
    assert parse_instant(vector("0.75"), "q") == 0.75
    assert parse_instant(vector(), "q") is None
    assert parse_instant(vector("NaN"), "q") is None
    assert parse_instant(vector("+Inf"), "q") is None
    scalar = {"status": "success", "data": {"resultType": "scalar", "result": [1.0, "2"]}}
    assert parse_instant(scalar, "q") == 2.0
    with pytest.raises(MetricsUnavailable, match="2 series"):
        parse_instant(vector("1", "2"), "q")
    with pytest.raises(MetricsUnavailable, match="parse error"):
        parse_instant({"status": "error", "error": "parse error"}, "q")
    with pytest.raises(MetricsUnavailable, match="malformed"):
        parse_instant({"status": "success", "data": {"resultType": "vector", "result": [{}]}}, "q")


def test_keda_reads_paused_like_go_parsebool_and_anything_else_as_paused() -> None:
    assert parse_bool_annotation(None) is False
    assert parse_bool_annotation("false") is False
    assert parse_bool_annotation("0") is False
    assert parse_bool_annotation("true") is True
    assert parse_bool_annotation("T") is True
    assert parse_bool_annotation("yes") is True  # not a Go bool: KEDA assumes paused
