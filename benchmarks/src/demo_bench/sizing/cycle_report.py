"""What a replayed cycle shows: the stress phases' effects and recoveries, Full Load's green tail.

Pure functions over `cycle.Done` records (unit-tested on synthetic ones). The targets are the
rehearsal's: a stress phase's p95 peaks at >= 1.8x Baseline's and is back within 1.2x
<= 60 s after the new workers are ready; Full Load is green for every workload for its last 60 s.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from demo_bench.rehearsal.analysis import (
    PEAK_MIN,
    RECOVERY_FACTOR,
    RECOVERY_MAX_S,
    STEP_S,
    WINDOW_S,
)
from demo_bench.sizing.cycle import GREEN_TAIL_S, Done, PoolChange
from loadgen.demo_script.models import Slo
from loadgen.records import Workload


def weighted_p95(values: Sequence[float], weights: Sequence[float]) -> float | None:
    """The 95th percentile of values each counted `weight` times (a request's ITL per token)."""
    pairs = sorted((v, w) for v, w in zip(values, weights, strict=True) if w > 0)
    total = sum(w for _, w in pairs)
    if not pairs:
        return None
    seen = 0.0
    for value, weight in pairs:
        seen += weight
        if seen >= 0.95 * total:
            return value
    return pairs[-1][0]


def p95(done: Sequence[Done], metric: str) -> float | None:
    """TTFT p95 over requests, or ITL p95 over their tokens."""
    if metric == "ttft":
        return weighted_p95([d.ttft_s for d in done], [1.0] * len(done))
    return weighted_p95([d.itl_s for d in done], [float(d.tokens) for d in done])


def window_series(
    done: Sequence[Done], workload: str, metric: str, start_s: float, end_s: float, by: str
) -> list[tuple[float, float | None]]:
    """(window end, p95) every STEP_S over [start, end]; requests by send or completion time."""
    points = []
    t = start_s + WINDOW_S
    while t <= end_s + 1e-9:
        chosen = [
            d
            for d in done
            if d.workload == workload
            and t - WINDOW_S <= (d.sent_s if by == "sent" else d.done_s) < t
        ]
        points.append((t, p95(chosen, metric)))
        t += STEP_S
    return points


@dataclass(frozen=True)
class StressEffect:
    workload: str
    metric: str
    baseline_p95_s: float | None
    peak_p95_s: float | None
    ready_s: float | None  # the pool's last scale-out before the phase ends, when it serves
    recovered_after_ready_s: float | None

    @property
    def peak_vs_baseline(self) -> float | None:
        if self.peak_p95_s is None or not self.baseline_p95_s:
            return None
        return self.peak_p95_s / self.baseline_p95_s

    @property
    def meets(self) -> bool:
        ratio, rec = self.peak_vs_baseline, self.recovered_after_ready_s
        peaked = ratio is not None and ratio >= PEAK_MIN
        return peaked and rec is not None and rec <= RECOVERY_MAX_S


def stress_effect(
    done: Sequence[Done], phases: Mapping[str, tuple[float, float]], changes: Sequence[PoolChange],
    *, phase_id: str, workload: str, metric: str, pool: str, baseline_id: str = "baseline",
) -> StressEffect:  # fmt: skip
    base_start, base_end = phases[baseline_id]
    start, end = phases[phase_id]
    in_baseline = [d for d in done if d.workload == workload and base_start <= d.sent_s < base_end]
    baseline = p95(in_baseline, metric)
    series = window_series(done, workload, metric, start, end, by="sent")
    peaks = [v for _, v in series if v is not None]
    outs = [c for c in changes if c.pool == pool and c.issued_s < end and c.t_s > base_end]
    ready = outs[-1].t_s if outs else None
    recovered = None
    if ready is not None and baseline is not None:
        for t, v in window_series(done, workload, metric, start, end + 120.0, by="sent"):
            if t >= ready and v is not None and v <= RECOVERY_FACTOR * baseline:
                recovered = t - ready
                break
    return StressEffect(workload, metric, baseline, max(peaks, default=None), ready, recovered)


def green_tail_s(
    done: Sequence[Done], slos: Mapping[Workload, Slo], start_s: float, end_s: float
) -> tuple[float, dict[str, tuple[float | None, float | None]]]:
    """How long the phase ends green (every workload's TTFT and ITL p95 within its SLO in every
    window by completion time, as the audience view computes it), and each workload's worst
    window p95s (TTFT, ITL) over the last GREEN_TAIL_S."""
    ends = [t for t, _ in window_series(done, "chat", "ttft", start_s, end_s, by="done")]
    red_until = start_s
    worst: dict[str, tuple[float | None, float | None]] = {}
    for workload, slo in slos.items():
        ttft = window_series(done, workload, "ttft", start_s, end_s, by="done")
        itl = window_series(done, workload, "itl", start_s, end_s, by="done")
        for (t, tt), (_, it) in zip(ttft, itl, strict=True):
            if (tt is not None and tt > slo.ttft_p95_s) or (it is not None and it > slo.itl_p95_s):
                red_until = max(red_until, t)
        last = zip(ttft, itl, strict=True)
        tail = [(tt, it) for (t, tt), (_, it) in last if t > end_s - GREEN_TAIL_S]
        worst[workload] = (
            max((tt for tt, _ in tail if tt is not None), default=None),
            max((it for _, it in tail if it is not None), default=None),
        )
    return (end_s - red_until if ends else 0.0), worst


def _s(value: float | None, unit: str = " s", scale: float = 1.0, digits: int = 2) -> str:
    return "–" if value is None else f"{value * scale:.{digits}f}{unit}"


def render_cycle(
    done: Sequence[Done], phases: Mapping[str, tuple[float, float]], changes: Sequence[PoolChange],
    slos: Mapping[Workload, Slo], offered: int,
) -> tuple[list[str], dict[str, object]]:  # fmt: skip
    """The markdown section and the JSON record of one replayed cycle."""
    lines = [
        "## The whole cycle in sequence (prod, AIS timing, backlog carried across phases)",
        "",
        f"{len(done)}/{offered} requests completed. Pools: "
        + "; ".join(
            f"{c.pool} {c.replicas} serving at {c.t_s:.0f} s (asked {c.issued_s:.0f} s)"
            for c in changes
        )
        + ".",
        "",
        "| phase | span | " + " | ".join(f"{w} TTFT p95 · ITL p95" for w in slos) + " |",
        "|---|---|" + "---|" * len(slos),
    ]
    for pid, (start, end) in phases.items():
        cells = []
        for w in slos:
            chosen = [d for d in done if d.workload == w and start <= d.sent_s < end]
            cells.append(f"{_s(p95(chosen, 'ttft'))} · {_s(p95(chosen, 'itl'), ' ms', 1e3, 1)}")
        lines.append(f"| {pid} | {start:.0f}-{end:.0f} s | {' | '.join(cells)} |")
    effects = {
        "prefill-stress": stress_effect(done, phases, changes, phase_id="prefill-stress",
                                        workload="summarization", metric="ttft", pool="prefill"),
        "decode-stress": stress_effect(done, phases, changes, phase_id="decode-stress",
                                       workload="reasoning", metric="itl", pool="decode"),
    }  # fmt: skip
    lines += ["", "| effect (30 s windows by send time) | baseline p95 | peak p95 | peak / "
              f"baseline (>= {PEAK_MIN}) | back within {RECOVERY_FACTOR}x after ready "
              f"(<= {RECOVERY_MAX_S:.0f} s) | meets |", "|---|---|---|---|---|---|"]  # fmt: skip
    for pid, e in effects.items():
        scale, unit = (1e3, " ms") if e.metric == "itl" else (1.0, " s")
        lines.append(
            f"| {pid}: {e.workload} {e.metric.upper()} | {_s(e.baseline_p95_s, unit, scale)} | "
            f"{_s(e.peak_p95_s, unit, scale)} | {_s(e.peak_vs_baseline, 'x')} | "
            f"{_s(e.recovered_after_ready_s, ' s', digits=0)} | {'yes' if e.meets else 'no'} |"
        )
    last = list(phases)[-1]
    green, worst = green_tail_s(done, slos, *phases[last])
    lines += [
        "",
        f"{last}: green (every workload's TTFT and ITL p95 within its SLO in every 30 s window "
        f"by completion time) for its last {green:.0f} s (target >= {GREEN_TAIL_S:.0f} s); "
        "worst windows of its last 60 s: "
        + "; ".join(f"{w} TTFT {_s(t)}, ITL {_s(i, ' ms', 1e3, 1)}" for w, (t, i) in worst.items())
        + ".",
        "",
    ]
    record = {
        "completed": len(done), "offered": offered,
        "changes": [c.__dict__ for c in changes],
        "effects": {k: {**e.__dict__, "peak_vs_baseline": e.peak_vs_baseline, "meets": e.meets}
                    for k, e in effects.items()},
        "full_load_green_tail_s": green, "full_load_worst_last_60s": worst,
    }  # fmt: skip
    return lines, record
