"""capacity.md and capacity.json from the sweep's searches and AIC's verdicts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import Any

from demo_bench.capacity.aic import Verdict
from demo_bench.capacity.attainment import TARGET_ATTAINMENT
from demo_bench.capacity.sweep import Search, best_of

STALL_NOTE = (
    "The replay's per-request record carries TTFT, TTST and the request's *mean* ITL, not its "
    "token gaps: no stall bound is checked here (a stream frozen behind a long prompt passes if "
    "its mean ITL does). Stalls come from live runs."
)


def search_record(s: Search) -> dict[str, Any]:
    return {
        "preset": s.preset, "layout": s.layout.name, "gpus": s.layout.gpus,
        "capacity_rps": s.bracket.meets, "fails_rps": s.bracket.fails,
        "per_gpu_rps": s.per_gpu, "evaluations": s.bracket.evaluations,
        "points": [asdict(p) for p in s.points],
    }  # fmt: skip


def _cell(s: Search | None) -> str:
    if s is None:
        return "–"
    if s.bracket.meets is None:
        return f"< {s.bracket.fails:.2f} (no rate met)" if s.bracket.fails else "–"
    return f"**{s.per_gpu:.3f}** ({s.capacity_rps:.2f} req/s)"


def capacity_table(
    by_preset: Mapping[str, Sequence[Search]], gpu_counts: Sequence[int]
) -> list[str]:
    head = ["preset"]
    for n in gpu_counts:
        head += [f"{n} agg", f"named {n}-GPU split", f"best {n}-GPU split"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for preset, searches in by_preset.items():
        cells = [preset]
        for n in gpu_counts:
            agg = next((s for s in searches if s.layout.aggregated == n), None)
            named = [s for s in searches if s.layout.gpus == n and not s.layout.aggregated]
            best = best_of(searches, n)
            cells += [_cell(agg), f"{named[0].layout.name}: {_cell(named[0])}" if named else "–",
                      f"{best.layout.name}: {_cell(best)}" if best else "none met"]  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def front_lines(searches: Sequence[Search]) -> list[str]:
    """Every replayed point: tokens/s/GPU against tokens/s/user, and whether it met."""
    lines = ["| layout | rate req/s | attainment | tokens/s/GPU | tokens/s/user | per workload |",
             "|---|---|---|---|---|---|"]  # fmt: skip
    for s in searches:
        for p in sorted(s.points, key=lambda p: p.rate_rps):
            per = ", ".join(f"{w} {100 * a:.0f} %" for w, a in p.workload_attainment.items())
            lines.append(
                f"| {s.layout.name} | {p.rate_rps:.3f} | {100 * p.attainment:.1f} %"
                f"{' ✓' if p.meets else ''} | {p.tokens_per_s_per_gpu:.0f} "
                f"| {p.tokens_per_s_per_user:.1f} | {per} |"
            )
    return lines


def aic_lines(verdicts: Sequence[Verdict]) -> list[str]:
    lines = [
        "| shape ISL/OSL | SLO TTFT/TPOT | GPUs | AIC best agg | AIC best disagg | verdict "
        "| TP1 agg | TP1 disagg | TP1 verdict |",
        "|---|---|---|---|---|---|---|---|---|",
    ]

    def best(b: Any) -> str:
        return "–" if b is None else f"{b.tokens_per_s_per_gpu:.0f} tok/s/GPU ({b.config})"

    for v in verdicts:
        sh = v.shape
        lines.append(
            f"| {sh.workload} {sh.isl}/{sh.osl} | {sh.ttft_ms / 1e3:g} s / {sh.tpot_ms:g} ms "
            f"| {v.gpus} | {best(v.agg)} | {best(v.disagg)} | {v.ratio(v.agg, v.disagg)} "
            f"| {best(v.agg_tp1)} | {best(v.disagg_tp1)} "
            f"| {v.ratio(v.agg_tp1, v.disagg_tp1)} |"
        )
    return lines


def render(
    header: Sequence[str], by_preset: Mapping[str, Sequence[Search]], gpu_counts: Sequence[int],
    verdicts: Sequence[Verdict],
) -> list[str]:  # fmt: skip
    lines = [
        "# Capacity at SLO per GPU: aggregated vs disaggregated, dynamo.replay with AIS timing",
        "", *header, "",
        f"Capacity = the highest arrival rate (the preset's mix) at which >= "
        f"{TARGET_ATTAINMENT:.0%} of the requests offered meet all their workload's SLOs "
        "(DistServe's goodput definition), divided by the GPUs. Cells: req/s/GPU (req/s).",
        "", STALL_NOTE, "", *capacity_table(by_preset, gpu_counts), "",
        "## AIConfigurator's verdicts (steady state, one shape at a time)", "",
        *aic_lines(verdicts), "",
        "## Every replayed point (the tokens/s/GPU vs tokens/s/user front)", "",
    ]  # fmt: skip
    for preset, searches in by_preset.items():
        lines += [f"### {preset}", "", *front_lines(searches), ""]
    return lines
