"""The soak's verdict and report: RSS growth after warm-up, flat fds/tasks, bounded stores,
accounting, unhandled exceptions; SVG line plots (no plotting library needed)."""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

from demo_common.percentile import percentile

WARMUP_SHARE = 0.2  # the first fifth of the run: imports, caches, histograms filling
RSS_GROWTH_LIMIT = 0.05
PLOTS = (("rss_mb", "RSS (MiB)"), ("fds", "open file descriptors"),
         ("tasks", "asyncio tasks"), ("loop_lag_ms", "event-loop lag (ms)"))  # fmt: skip


def _series(samples: list[dict[str, Any]], key: str) -> list[tuple[float, float]]:
    return [(s["demo_h"], float(s[key])) for s in samples if s.get(key) is not None]


def svg(points: list[tuple[float, float]], title: str, width: int = 640, height: int = 200) -> str:
    """One polyline over booth hours, axes labelled with min/max."""
    if not points:
        return f'<svg xmlns="http://www.w3.org/2000/svg"><text y="20">{title}: no data</text></svg>'
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    x0, x1 = min(xs), max(xs) or 1.0
    y0, y1 = min(0.0, min(ys)), max(ys) * 1.05 or 1.0
    pad = 40

    def px(x: float) -> float:
        return pad + (x - x0) / ((x1 - x0) or 1) * (width - 2 * pad)

    def py(y: float) -> float:
        return height - pad + -(y - y0) / ((y1 - y0) or 1) * (height - 2 * pad)

    line = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in points)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'font-family="sans-serif" font-size="11">'
        f'<text x="{pad}" y="15">{title}</text>'
        f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" '
        f'stroke="#888"/>'
        f'<line x1="{pad}" y1="{pad}" x2="{pad}" y2="{height - pad}" stroke="#888"/>'
        f'<text x="2" y="{py(y1) + 4:.0f}">{y1:.4g}</text>'
        f'<text x="2" y="{height - pad + 4}">{y0:.4g}</text>'
        f'<text x="{pad}" y="{height - pad + 15}">{x0:.2f} h</text>'
        f'<text x="{width - pad - 40}" y="{height - pad + 15}">{x1:.2f} h (booth)</text>'
        f'<polyline fill="none" stroke="#1f77b4" stroke-width="1.2" points="{line}"/></svg>'
    )


def analyse(result: dict[str, Any]) -> dict[str, Any]:
    samples = result["samples"]
    n = len(samples)
    # After warm-up, the first half against the second: each half spans whole preset cycles
    # of varying load, so a leak shows as growth, a busy phase does not.
    warm = samples[int(n * WARMUP_SHARE) :] if n >= 10 else samples
    head, tail = warm[: max(1, len(warm) // 2)], warm[len(warm) // 2 :]

    def med(rows: list[dict[str, Any]], key: str) -> float:
        values = [float(r[key]) for r in rows if r.get(key) is not None]
        return statistics.median(values) if values else float("nan")

    rss_growth = (med(tail, "rss_mb") - med(head, "rss_mb")) / med(head, "rss_mb")
    return {
        "samples": n,
        "rss_after_warmup_mb": round(med(head, "rss_mb"), 1),
        "rss_end_mb": round(med(tail, "rss_mb"), 1),
        "rss_growth": round(rss_growth, 4),
        "rss_max_mb": max((s["rss_mb"] for s in samples), default=None),
        "fds_after_warmup": med(head, "fds"), "fds_end": med(tail, "fds"),
        "fds_max": max((s["fds"] for s in samples), default=None),
        "tasks_after_warmup": med(head, "tasks"), "tasks_end": med(tail, "tasks"),
        "tasks_max": max((s["tasks"] or 0 for s in samples), default=None),
        "threads_max": max((s["threads"] for s in samples), default=None),
        "rss_max_first_half_mb": max((s["rss_mb"] for s in head), default=None),
        "rss_max_second_half_mb": max((s["rss_mb"] for s in tail), default=None),
        # Idle keep-alive connections (aiohttp's pool, ~15 s) lift fds after busy phases; a
        # leak lifts the floor, so flatness is judged on each half's minimum.
        "fds_min_first_half": min((s["fds"] for s in head), default=None),
        "fds_min_second_half": min((s["fds"] for s in tail), default=None),
        "tasks_min_first_half": min((s["tasks"] or 0 for s in head), default=None),
        "tasks_min_second_half": min((s["tasks"] or 0 for s in tail), default=None),
        "fds_max_first_half": max((s["fds"] for s in head), default=None),
        "fds_max_second_half": max((s["fds"] for s in tail), default=None),
        "tasks_max_first_half": max((s["tasks"] or 0 for s in head), default=None),
        "tasks_max_second_half": max((s["tasks"] or 0 for s in tail), default=None),
        # The app's lag gauge is in demo time; divided by the speed factor: wall ms.
        "loop_lag_wall_ms_p99": percentile(
            [s["loop_lag_ms"] / result["speed"] for s in samples if s["loop_lag_ms"]], 99
        ),
        "conversations_max": max((s["conversations"] for s in samples), default=None),
    }  # fmt: skip


def checks(result: dict[str, Any], numbers: dict[str, Any]) -> dict[str, bool]:
    return {
        "no unhandled exception in the app log": not result["log_problems"],
        "every arrival accounted": not result["unaccounted"],
        "no stuck phase": not result["phase_overruns"],
        f"RSS growth after warm-up < {RSS_GROWTH_LIMIT:.0%}":
            numbers["rss_growth"] < RSS_GROWTH_LIMIT,
        "fds flat (second-half floor <= first-half floor + 3)":
            numbers["fds_min_second_half"] <= numbers["fds_min_first_half"] + 3,
        "tasks flat (second-half floor <= first-half floor + 3)":
            numbers["tasks_min_second_half"] <= numbers["tasks_min_first_half"] + 3,
        "tasks bounded (second-half max <= 1.5 x first-half max + 10)":
            numbers["tasks_max_second_half"] <= 1.5 * numbers["tasks_max_first_half"] + 10,
        "conversation store bounded (<= 200)": (numbers["conversations_max"] or 0) <= 200,
        "app healthy at the end": bool(result["healthy_at_end"]),
        "KEDA not left paused after stop": result["keda_paused_after_stop"] is not True,
    }  # fmt: skip


def write_report(result: dict[str, Any], out: Path) -> bool:
    numbers = analyse(result)
    verdicts = checks(result, numbers)
    for key, title in PLOTS:
        (out / f"{key}.svg").write_text(svg(_series(result["samples"], key), title))
    (out / "soak.json").write_text(json.dumps({**result, "numbers": numbers,
                                               "checks": verdicts}, indent=1))  # fmt: skip
    lines = [
        "# Soak", "",
        f"- mode: {result['mode']}",
        f"- booth time played: {result['booth_hours']} h at SPEED {result['speed']:g} "
        f"= {result['wall_s'] / 60:.1f} min of wall time",
        f"- load: every preset's rps x {result['load_scale']} (so the wall-clock request rate "
        f"is preset rps x SPEED x scale); stack: {result.get('layout', 'dev')} layout, "
        "migration on",
        f"- presets played: {result['presets_played']}; totals: {result['totals']}",
        "", "| check | result |", "|---|---|",
        *[f"| {name} | {'pass' if ok else 'FAIL'} |" for name, ok in verdicts.items()],
        "", "| number | value |", "|---|---|",
        *[f"| {k} | {v} |" for k, v in numbers.items()],
        "", *[f"![{title}]({key}.svg)" for key, title in PLOTS], "",
    ]  # fmt: skip
    if result["log_problems"]:
        shown = [f"    {line}" for p in result["log_problems"] for line in p.splitlines()]
        lines += ["## App log problems", "", *shown, ""]
    if result["unaccounted"]:
        lines += ["## Unaccounted", "", *[f"- {p}" for p in result["unaccounted"]], ""]
    (out / "soak.md").write_text("\n".join(lines))
    return all(verdicts.values())
