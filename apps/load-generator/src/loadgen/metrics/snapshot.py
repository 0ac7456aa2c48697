"""Views built from Tallies: the live snapshot (pushed at 1 Hz), client health, the summary."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from loadgen.demo_script.models import Slo
from loadgen.metrics.stats import LogHistogram
from loadgen.metrics.tally import Tally, WorkloadTally
from loadgen.records import WORKLOADS, Workload

EngineState = Literal["idle", "running", "stopping"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Percentiles(_Model):
    """Milliseconds; None when there is no sample in the window."""

    count: int
    mean: float | None
    p50: float | None
    p90: float | None
    p95: float | None
    p99: float | None
    max: float | None


class SloCheck(_Model):
    ttft_p95_ms: float
    itl_p95_ms: float
    max_gap_p95_ms: float
    ttft_met: bool | None
    itl_met: bool | None
    max_gap_met: bool | None


class TurnWindow(_Model):
    ok: int
    errors: int
    input_tokens: int
    cached_tokens: int
    cache_hit_ratio: float | None
    ttft_ms: Percentiles
    itl_ms: Percentiles


class WorkloadWindow(_Model):
    target_rps: float
    offered_rps: float
    achieved_rps: float
    completed_rps: float
    output_tokens_per_s: float
    in_flight: int
    active: int
    queued: int
    arrivals: int
    dispatched: int
    ok: int
    errors: int
    dropped: int
    stopped: int
    reasons: dict[str, int]
    input_tokens: int
    output_tokens: int
    cached_tokens: int
    cache_hit_ratio: float | None
    ttft_ms: Percentiles
    ttst_ms: Percentiles
    itl_ms: Percentiles
    e2e_ms: Percentiles
    max_gap_ms: Percentiles
    lag_ms: Percentiles
    frozen_streams: int  # streams that paused longer than records.FREEZE_GAP_NS at least once
    frozen_s: float
    within_slo: int  # requests that met every SLO of their workload
    slo_attainment: float | None  # within_slo / (ok + errors + dropped)
    goodput_rps: float
    slo: SloCheck


class ClientHealth(_Model):
    event_loop_lag_ms: float
    dispatch_lag_p99_ms: float | None
    saturated: bool


class LiveSnapshot(_Model):
    at: datetime
    state: EngineState
    window_s: float
    workloads: dict[Workload, WorkloadWindow]
    chat_turns: dict[str, TurnWindow]
    client: ClientHealth


def _slo_check(stats: Mapping[str, Any], slo: Slo) -> SloCheck:
    def met(key: str, bound_s: float) -> bool | None:
        p95 = stats[key]["p95"]
        return None if p95 is None else p95 <= bound_s * 1000

    return SloCheck(
        ttft_p95_ms=slo.ttft_p95_s * 1000,
        itl_p95_ms=slo.itl_p95_s * 1000,
        max_gap_p95_ms=slo.max_gap_p95_s * 1000,
        ttft_met=met("ttft_ms", slo.ttft_p95_s),
        itl_met=met("itl_ms", slo.itl_p95_s),
        max_gap_met=met("max_gap_ms", slo.max_gap_p95_s),
    )


def _turn(tally: WorkloadTally) -> TurnWindow:
    d = tally.to_dict()
    return TurnWindow(
        ok=d["ok"],
        errors=d["errors"],
        input_tokens=d["input_tokens"],
        cached_tokens=d["cached_tokens"],
        cache_hit_ratio=d["cache_hit_ratio"],
        ttft_ms=Percentiles.model_validate(d["ttft_ms"]),
        itl_ms=Percentiles.model_validate(d["itl_ms"]),
    )


def build_snapshot(
    *,
    at: datetime,
    state: EngineState,
    tally: Tally,
    span_s: float,
    targets: Mapping[Workload, float],
    lanes: Mapping[Workload, tuple[int, int, int]],
    slos: Mapping[Workload, Slo],
    client: ClientHealth,
) -> LiveSnapshot:
    """`lanes` maps each workload to (in_flight, active, queued)."""
    workloads: dict[Workload, WorkloadWindow] = {}
    for w in WORKLOADS:
        d = tally.workloads[w].to_dict(span_s)
        in_flight, active, queued = lanes[w]
        workloads[w] = WorkloadWindow.model_validate(
            d
            | {
                "target_rps": round(targets[w], 4),
                "in_flight": in_flight,
                "active": active,
                "queued": queued,
                "slo": _slo_check(d, slos[w]),
            }
        )
    turns = {label: _turn(t) for label, t in sorted(tally.turns.items())}
    return LiveSnapshot(
        at=at,
        state=state,
        window_s=round(span_s, 3),
        workloads=workloads,
        chat_turns=turns,
        client=client,
    )


def client_health(loop_lag_ns: int, dispatch_lag: LogHistogram, bound_ms: float) -> ClientHealth:
    """Saturated when the event loop or the arrival loops ran later than `bound_ms` lately
    (both over the same recent seconds; see docs/measurement-conventions.md)."""
    dispatch_p99 = dispatch_lag.quantile(0.99)
    loop_lag_ms = loop_lag_ns / 1e6
    dispatch_ms = None if dispatch_p99 is None else dispatch_p99 * 1000
    saturated = loop_lag_ms > bound_ms or (dispatch_ms is not None and dispatch_ms > bound_ms)
    return ClientHealth(
        event_loop_lag_ms=round(loop_lag_ms, 3),
        dispatch_lag_p99_ms=None if dispatch_ms is None else round(dispatch_ms, 3),
        saturated=saturated,
    )


def session_summary(
    tally: Tally, duration_s: float, *, started_at: datetime | None, extra: Mapping[str, Any]
) -> dict[str, Any]:
    """The JSON summary of a whole session (returned by stop and written to a file)."""
    return {
        "started_at": started_at.isoformat() if started_at else None,
        "stopped_at": datetime.now(UTC).isoformat(),
        "duration_s": round(duration_s, 3),
        "workloads": {w: tally.workloads[w].to_dict(duration_s) for w in WORKLOADS},
        "chat_turns": {k: v.to_dict() for k, v in sorted(tally.turns.items())},
        "client": {"dispatch_lag_ms": tally.dispatch_lag.summary(scale=1000.0)},
        **extra,
    }
