"""Draw a dashboard's layout as a PNG from live Prometheus data (Grafana cannot run here).

Each panel sits at its gridPos on a 1920x1080 canvas; its targets are queried through the
Prometheus HTTP API exactly as Grafana would send them. `python -m demo_observability.render`.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from demo_observability.catalogue import load_dashboards
from demo_observability.errors import ObservabilityError
from demo_observability.promapi import PrometheusAPI, Series
from demo_observability.scope import cluster_only

WIDTH_PX, HEIGHT_PX, DPI = 1920, 1080, 100
BACKGROUND, PANEL, TEXT, MUTED = "#111217", "#181b1f", "#d8d9da", "#8e8e8e"
PALETTE = ["#73bf69", "#f2cc0c", "#5794f2", "#ff9830", "#f2495c", "#b877d9", "#8ab8ff", "#fade2a"]
_LEGEND = re.compile(r"\{\{\s*(\w+)\s*\}\}")


def legend(fmt: str, labels: dict[str, str]) -> str:
    if fmt in ("", "__auto"):
        return ", ".join(f"{k}={v}" for k, v in labels.items() if k != "__name__") or "value"
    return _LEGEND.sub(lambda m: labels.get(m.group(1), ""), fmt)


def _scale(unit: str) -> tuple[float, str]:
    return {"percentunit": (100.0, "%"), "percent": (1.0, "%"), "s": (1000.0, " ms")}.get(
        unit, (1.0, "")
    )


def _dashed(panel: dict[str, Any]) -> re.Pattern[str] | None:
    for override in panel.get("fieldConfig", {}).get("overrides", []):
        if override.get("matcher", {}).get("id") == "byRegexp":
            return re.compile(override["matcher"]["options"])
    return None


def _note(ax: Any, text: str) -> None:
    ax.set_xticks([])
    ax.set_yticks([])
    ax.text(0.5, 0.5, text, ha="center", va="center", color=MUTED, fontsize=11,
            transform=ax.transAxes, wrap=True)  # fmt: skip


def render_dashboard(
    board: dict[str, Any], api: PrometheusAPI, start_s: float, end_s: float, out: Path
) -> dict[str, int]:
    """Draw `board` for [start_s, end_s]; returns the number of series drawn per panel."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = board["panels"]
    rows = max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in panels)
    fig = plt.figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI, facecolor=BACKGROUND)
    top = 0.955
    fig.text(0.01, 0.975, board["title"], color=TEXT, fontsize=18, va="center", weight="bold")
    step_s = max(1.0, (end_s - start_s) / 300)
    drawn: dict[str, int] = {}
    for panel in panels:
        g = panel["gridPos"]
        pad = 0.003
        left, width = g["x"] / 24 + pad, g["w"] / 24 - 2 * pad
        height = g["h"] / rows * top - 2 * pad
        bottom = top - (g["y"] + g["h"]) / rows * top + pad
        frame = fig.add_axes((left, bottom, width, height), facecolor=PANEL)
        frame.set_xticks([])
        frame.set_yticks([])
        for spine in frame.spines.values():
            spine.set_color("#2c3235")
        title_h = 0.032
        frame.text(0.01, 1 - title_h / height / 2, panel["title"], color=TEXT, fontsize=12,
                   va="center", transform=frame.transAxes)  # fmt: skip
        if panel["type"] == "stat":
            inner = (left, bottom, width, height - title_h)
        else:  # room for tick labels on the left and below
            inner = (left + 0.028, bottom + 0.03, width - 0.034, height - title_h - 0.035)
        ax = fig.add_axes(inner, facecolor=PANEL)
        for spine in ax.spines.values():
            spine.set_color("#2c3235" if panel["type"] != "stat" else PANEL)
        ax.tick_params(colors=MUTED, labelsize=9)
        drawn[panel["title"]] = _draw(ax, panel, api, start_s, end_s, step_s)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, facecolor=BACKGROUND)
    plt.close(fig)
    return drawn


def _draw(ax: Any, panel: dict[str, Any], api: PrometheusAPI, start_s: float, end_s: float,
          step_s: float) -> int:  # fmt: skip
    unit = panel.get("fieldConfig", {}).get("defaults", {}).get("unit", "")
    factor, suffix = _scale(unit)
    exprs = [t["expr"] for t in panel["targets"]]
    if panel["type"] == "stat":
        ax.set_xticks([])
        ax.set_yticks([])
        lines: list[tuple[str, str]] = []
        for target in panel["targets"]:
            for s in api.instant(target["expr"], at_s=end_s):
                name = legend(target.get("legendFormat", ""), s.labels)
                value = s.points[-1][1] * factor
                text = "" if math.isnan(value) else f"{value:.0f}{suffix}"
                lines.append((name, text))
        if not lines:
            no_value = panel.get("fieldConfig", {}).get("defaults", {}).get("noValue")
            _note(ax, no_value or _why_empty(exprs))
            return 0
        only_names = panel.get("options", {}).get("textMode") == "name"
        body = "\n".join(n if only_names else (v if len(lines) == 1 else f"{n}: {v}")
                         for n, v in lines)  # fmt: skip
        size = 30 if len(lines) == 1 else 17
        ax.text(0.5, 0.45, body, ha="center", va="center", color=PALETTE[0], fontsize=size,
                weight="bold", transform=ax.transAxes)  # fmt: skip
        return len(lines)
    dashed = _dashed(panel)
    count = 0
    for target in panel["targets"]:
        series: list[Series] = api.range(target["expr"], start_s, end_s, step_s)
        for s in series:
            name = legend(target.get("legendFormat", ""), s.labels)
            xs = [(t - end_s) / 60 for t, _ in s.points]
            ys = [v * factor for _, v in s.points]
            style = "--" if dashed and dashed.fullmatch(name) else "-"
            ax.plot(xs, ys, style, lw=1.8, label=name, color=PALETTE[count % len(PALETTE)])
            count += 1
    if count == 0:
        _note(ax, _why_empty(exprs))
        return 0
    ax.set_xlim((start_s - end_s) / 60, 0)
    ax.set_xlabel("minutes", color=MUTED, fontsize=8, labelpad=1)
    if suffix:
        ax.set_ylabel(suffix.strip(), color=MUTED, fontsize=9)
    ax.grid(color="#2c3235", lw=0.6)
    ax.legend(loc="upper left", fontsize=8, ncol=3, facecolor=PANEL, labelcolor=TEXT,
              edgecolor=PANEL, framealpha=0.7)  # fmt: skip
    return count


def _why_empty(exprs: list[str]) -> str:
    if any(cluster_only(e) for e in exprs):
        return "cluster only\n(dcgm-exporter on the GPU nodes)"
    return "no data"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="demo_observability.render", description=__doc__)
    parser.add_argument("--prometheus", default="http://127.0.0.1:9090")
    parser.add_argument("--dashboard", default="audience")
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--out", type=Path, default=Path("build/observability/audience.png"))
    args = parser.parse_args(argv)
    try:
        board = load_dashboards()[args.dashboard]
        end_s = time.time()
        drawn = render_dashboard(
            board, PrometheusAPI(args.prometheus), end_s - args.minutes * 60, end_s, args.out
        )
    except (ObservabilityError, KeyError) as exc:
        print(f"render: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {args.out} ({sum(drawn.values())} series in {len(drawn)} panels)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
