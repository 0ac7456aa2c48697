"""The rehearsal's numbers from its raw series: phases, windows, effect sizes, recovery, GPU-s.

Pure functions over plain data (no I/O), so they are unit-tested on synthetic series. Every
time is demo seconds since the controller started (the engine's demo clock).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from demo_common.percentile import percentile

WINDOW_S = 30.0  # rolling window of the latency series (demo s)
STEP_S = 10.0
RECOVERY_FACTOR = 1.2  # "recovered" = p95 back within 1.2x baseline
# The effect targets, for the rehearsal and the sizing replay alike: a stress phase's p95 peaks
# at >= PEAK_MIN x Baseline and is back within RECOVERY_FACTOR x RECOVERY_MAX_S after ready.
# 1.8x: one H200 decode worker with a full KV cache steps at 40-41 ms against Baseline's
# 22-24 ms, so ITL cannot climb much past it (docs/calibration.md); TTFT is held to the same bar.
PEAK_MIN = 1.8
RECOVERY_MAX_S = 60.0


@dataclass(frozen=True)
class Sample:
    """One finished request."""

    workload: str
    turn: int
    ok: bool
    t_s: float  # send time
    ttft_s: float | None
    itl_s: tuple[float, ...] = ()  # per-token inter-token latencies
    input_tokens: int | None = None
    reason: str = ""  # the record's reason ("cancelled": cut by the stop at the end of a run)
    max_gap_s: float | None = None  # the stream's longest pause between two content events
    frozen_s: float = 0.0  # time in pauses over the freeze threshold (records.FREEZE_GAP_NS)


# Requests in flight when a run stopped ("stopped"; "cancelled" in records from before that
# status) are neither a success nor a miss: every report leaves them out of its figures and
# counts them apart as cut (docs/measurement-conventions.md), as the app's own summary does.
CUT_AT_STOP = ("stopped", "cancelled")


def without_cut(samples: Sequence[Sample]) -> tuple[list[Sample], int]:
    """The samples that count, and how many the stop cut."""
    kept = [s for s in samples if s.reason not in CUT_AT_STOP]
    return kept, len(samples) - len(kept)


# A workload's SLO bounds, seconds: (TTFT, mean ITL, longest pause); runs recorded before the
# stall bound carry (TTFT, ITL) only.
SloBounds = tuple[float, ...]


@dataclass(frozen=True)
class PhaseSpan:
    id: str
    name: str
    start_s: float
    end_s: float


@dataclass(frozen=True)
class PoolSample:
    t_s: float
    desired: Mapping[str, int]
    ready: Mapping[str, int]
    starting: Mapping[str, int]


@dataclass(frozen=True)
class ScaleMark:
    t_s: float
    pool: str
    from_replicas: int
    to_replicas: int
    source: str


@dataclass
class WindowPoint:
    t_s: float  # window end
    n: int
    p50: float | None
    p95: float | None


@dataclass
class Recovery:
    """One scale-out and what followed it."""

    pool: str
    issued_s: float
    to_replicas: int
    ready_s: float | None  # first sample with ready >= to_replicas
    recovered_s: float | None  # first window end after ready with p95 <= factor x baseline
    recovery_after_ready_s: float | None
    details: dict[str, float | None] = field(default_factory=dict)


def phase_spans(events: Iterable[Mapping[str, object]], end_s: float) -> list[PhaseSpan]:
    """Phases from the controller's timeline (kind=phase events carrying a phase id)."""
    starts = [
        (float(str(e["t_s"])), str(e["phase"]), str(e["message"]).split(":", 1)[0])
        for e in events
        if e.get("kind") == "phase" and e.get("phase")
    ]
    spans = []
    for i, (t, pid, name) in enumerate(starts):
        stop = starts[i + 1][0] if i + 1 < len(starts) else end_s
        spans.append(PhaseSpan(pid, name, t, stop))
    return spans


def first_cycle(spans: Sequence[PhaseSpan]) -> list[PhaseSpan]:
    """The spans up to (not including) the first phase's second start."""
    out: list[PhaseSpan] = []
    for s in spans:
        if out and s.id == out[0].id:
            break
        out.append(s)
    return out


def span(spans: Sequence[PhaseSpan], phase_id: str) -> PhaseSpan | None:
    """The first span of `phase_id` (a rehearsal plays one cycle)."""
    return next((s for s in spans if s.id == phase_id), None)


def values(samples: Iterable[Sample], metric: str) -> list[float]:
    """TTFT values, or every per-token ITL, of ok requests."""
    out: list[float] = []
    for s in samples:
        if not s.ok:
            continue
        if metric == "ttft" and s.ttft_s is not None:
            out.append(s.ttft_s)
        elif metric == "itl":
            out.extend(s.itl_s)
    return out


def select(
    samples: Iterable[Sample],
    workload: str,
    start_s: float,
    end_s: float,
    turns: tuple[int, int] = (1, 10_000),
) -> list[Sample]:
    lo, hi = turns
    return [
        s
        for s in samples
        if s.workload == workload and start_s <= s.t_s < end_s and lo <= s.turn <= hi
    ]


def windows(
    samples: Sequence[Sample],
    workload: str,
    metric: str,
    start_s: float,
    end_s: float,
    window_s: float = WINDOW_S,
    step_s: float = STEP_S,
) -> list[WindowPoint]:
    points = []
    t = start_s + window_s
    while t <= end_s + 1e-9:
        v = values(select(samples, workload, t - window_s, t), metric)
        points.append(WindowPoint(t, len(v), percentile(v, 50), percentile(v, 95)))
        t += step_s
    return points


def meets_slos(sample: Sample, slo: SloBounds) -> bool:
    """One request within every SLO of its workload: its TTFT, its mean inter-token latency and
    its longest pause (the load generator's `Slo.met_by`: one rule in every report)."""
    if not sample.ok or sample.ttft_s is None or sample.ttft_s > slo[0]:
        return False
    if sample.itl_s and sum(sample.itl_s) / len(sample.itl_s) > slo[1]:
        return False
    max_gap_bound = slo[2] if len(slo) > 2 else None
    return max_gap_bound is None or sample.max_gap_s is None or sample.max_gap_s <= max_gap_bound


def slo_attainment(
    samples: Sequence[Sample], slos: Mapping[str, SloBounds], start_s: float, end_s: float
) -> dict[str, dict[str, float | int | None]]:
    """Per workload: share of requests within every SLO (`meets_slos`; failures are misses)
    and how many of them froze (paused longer than the freeze threshold at least once)."""
    out: dict[str, dict[str, float | int | None]] = {}
    for workload, slo in slos.items():
        chosen = select(samples, workload, start_s, end_s)
        met = sum(1 for s in chosen if meets_slos(s, slo))
        out[workload] = {
            "requests": len(chosen),
            "errors": sum(1 for s in chosen if not s.ok),
            "attainment": round(met / len(chosen), 4) if chosen else None,
            "frozen_streams": sum(1 for s in chosen if s.frozen_s > 0),
            "frozen_s": round(sum(s.frozen_s for s in chosen), 3),
        }
    return out


def ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0:
        return None
    return round(a / b, 3)


def ready_time(
    pools: Sequence[PoolSample], pool: str, after_s: float, replicas: int
) -> float | None:
    for p in pools:
        if p.t_s >= after_s and p.ready.get(pool, 0) >= replicas:
            return p.t_s
    return None


def scale_out_recovery(
    mark: ScaleMark,
    pools: Sequence[PoolSample],
    series: Sequence[WindowPoint],
    baseline_p95: float | None,
    factor: float = RECOVERY_FACTOR,
) -> Recovery:
    ready_s = ready_time(pools, mark.pool, mark.t_s, mark.to_replicas)
    recovered_s = None
    if ready_s is not None and baseline_p95 is not None:
        for point in series:
            # A zero p95 is a saturated client reading bursts, not a recovery.
            if point.t_s >= ready_s and point.p95 and point.p95 <= factor * baseline_p95:
                recovered_s = point.t_s
                break
    return Recovery(
        pool=mark.pool,
        issued_s=mark.t_s,
        to_replicas=mark.to_replicas,
        ready_s=ready_s,
        recovered_s=recovered_s,
        recovery_after_ready_s=(
            None if recovered_s is None or ready_s is None else round(recovered_s - ready_s, 1)
        ),
        details={"launch_to_ready_s": None if ready_s is None else round(ready_s - mark.t_s, 1)},
    )


def gpu_seconds(pools: Sequence[PoolSample], start_s: float, end_s: float) -> float:
    """Integral of desired GPUs (prefill + decode) over [start, end] (a step function)."""
    total = 0.0
    inside = [p for p in pools if start_s <= p.t_s <= end_s]
    for a, b in itertools.pairwise(inside):
        total += sum(a.desired.values()) * (b.t_s - a.t_s)
    if inside:
        total += sum(inside[-1].desired.values()) * (end_s - inside[-1].t_s)
        total += sum(inside[0].desired.values()) * (inside[0].t_s - start_s)
    return round(total, 1)


def stress_effect(
    samples: Sequence[Sample],
    spans: Sequence[PhaseSpan],
    pools: Sequence[PoolSample],
    marks: Sequence[ScaleMark],
    *,
    phase_id: str,
    baseline_id: str,
    workload: str,
    metric: str,
    pool: str,
    source: str = "script",
) -> dict[str, object]:
    """Peak vs baseline p95, the end of the phase vs baseline, and the scale-out's recovery."""
    phase, base = span(spans, phase_id), span(spans, baseline_id)
    if phase is None or base is None:
        return {"missing": f"phase {phase_id} or {baseline_id} did not run"}
    baseline_p95 = percentile(
        values(select(samples, workload, base.start_s, base.end_s), metric), 95
    )
    series = windows(samples, workload, metric, phase.start_s, phase.end_s)
    peaks = [p.p95 for p in series if p.p95 is not None]
    peak = max(peaks) if peaks else None
    tail = values(select(samples, workload, phase.end_s - 60.0, phase.end_s), metric)
    end_p95 = percentile(tail, 95)
    outs = [
        m
        for m in marks
        if m.pool == pool and m.to_replicas > m.from_replicas and m.t_s < phase.end_s
        and m.source == source
    ]  # fmt: skip
    recovery = scale_out_recovery(outs[-1], pools, series, baseline_p95) if outs else None
    return {
        "workload": workload,
        "metric": f"{metric} p95 (s)",
        "baseline_p95_s": _r(baseline_p95),
        "peak_window_p95_s": _r(peak),
        "last_60s_p95_s": _r(end_p95),
        "peak_vs_baseline": ratio(peak, baseline_p95),
        "end_vs_baseline": ratio(end_p95, baseline_p95),
        "target_peak_vs_baseline_min": PEAK_MIN,
        "target_end_vs_baseline_max": RECOVERY_FACTOR,
        "scale_out": None if recovery is None else recovery.__dict__,
        "target_recovery_after_ready_s_max": RECOVERY_MAX_S,
    }


def kv_effect(
    samples: Sequence[Sample],
    spans: Sequence[PhaseSpan],
    phase_id: str,
    router_cached_tokens: float | None,
    router_input_tokens: float | None,
) -> dict[str, object]:
    """Turn 2+ vs turn 1 chat TTFT p50, and the prefill-side KV hit rate (router counters).

    Turn 1 starts with a unique conversation id, so (almost) every prefix-cached token the
    router counts belongs to turns 2+: their hit rate = cached / their prompt tokens.
    """
    phase = span(spans, phase_id)
    if phase is None:
        return {"missing": f"phase {phase_id} did not run"}
    first = values(select(samples, "chat", phase.start_s, phase.end_s, (1, 1)), "ttft")
    later = select(samples, "chat", phase.start_s, phase.end_s, (2, 10_000))
    later_ttft = values(later, "ttft")
    later_tokens = sum(s.input_tokens or 0 for s in later if s.ok)
    p50_1, p50_2 = percentile(first, 50), percentile(later_ttft, 50)
    return {
        "turn1_ttft_p50_s": _r(p50_1),
        "turn2plus_ttft_p50_s": _r(p50_2),
        "turn1_requests": len(first),
        "turn2plus_requests": len(later_ttft),
        "ttft_ratio_turn2plus_vs_turn1": ratio(p50_2, p50_1),
        "target_ttft_ratio_max": 0.35,
        "router_prefill_cached_tokens": router_cached_tokens,
        "router_prefill_input_tokens": router_input_tokens,
        "router_prefill_hit_rate_all_turns": ratio(router_cached_tokens, router_input_tokens),
        "turn2plus_prompt_tokens": later_tokens,
        "prefill_hit_rate_turn2plus": ratio(router_cached_tokens, float(later_tokens) or None),
        "target_hit_rate_min": 0.85,
    }


def _r(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else round(value, 4)
