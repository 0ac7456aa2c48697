"""The comparison report: JSON (every number), Markdown (the table) and a PNG, per layout."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt


def markdown(report: dict[str, Any]) -> str:
    layouts: dict[str, Any] = report["layouts"]
    titles: dict[str, str] = report["titles"]
    lines = [
        "# Why disaggregation: the demo script on four layouts of the same GPUs",
        "",
        f"{report['what']} Measured {report['measured_at']} on {report['machine']}; speed "
        f"{report['speed']:g}, env {report['env']} (profile {report.get('profile')}), script "
        f"{report['script']}. **All times are "
        "demo seconds**; goodput = requests that met every SLO of their workload (TTFT, mean "
        "ITL and longest pause each within its p95 threshold) per second; per GPU = per "
        "GPU-second; a stream froze when it paused longer than 250 ms at least once. "
        "Requests still in flight when a run stopped are left out of every figure (counted "
        "as `cut`).",
        "",
        "| layout | valid | requests (failed, cut) | GPU-s | goodput / GPU-s | vs aggregated "
        "| streams that froze |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, n in layouts.items():
        ratio = report["ratio_vs_aggregated"].get(name)
        lines.append(
            f"| {titles[name]} | {'yes' if n['valid'] else 'NO'} | {n['requests']} "
            f"({n['failed']}, {n['cut_at_stop']}) | {n['gpu_seconds']:g} | "
            f"{n['goodput_per_gpu']} | "
            f"{'—' if name == 'aggregated' else ratio} | {_frozen(n)} |"
        )
    for name, n in layouts.items():
        if not n["valid"]:
            lines.append(f"\n{name}: invalid because {'; '.join(n['cpu']['invalid_because'])}.")
    lines += ["", "## Per phase", ""]
    phase_ids = [p["id"] for p in next(iter(layouts.values()))["phases"]] if layouts else []
    header = "| phase | " + " | ".join(titles[n] for n in layouts) + " |"
    lines += [header, "|---" * (len(layouts) + 1) + "|"]
    for pid in phase_ids:
        cells = []
        for n in layouts.values():
            p = next((x for x in n["phases"] if x["id"] == pid), None)
            if p is None:
                cells.append("n/a")
                continue
            att = ", ".join(
                f"{w[0].upper()} {v['attainment']}" for w, v in p["slo_attainment"].items()
            )
            cells.append(
                f"goodput/GPU {p['goodput_per_gpu']}; {p['mean_gpus']} GPUs; {att}; "
                f"froze {p.get('frozen_streams', 'n/a')}"
            )
        lines.append(f"| {pid} | " + " | ".join(cells) + " |")
    lines += ["", "SLO attainment per workload: C chat, S summarization, R reasoning.", ""]
    lines += ["## Latency per phase (ms): p50 / p95 / p99", ""]
    for name, n in layouts.items():
        lines.append(f"### {titles[name]}\n")
        lines.append("| phase | workload | TTFT | ITL | longest pause per stream |")
        lines.append("|---|---|---|---|---|")
        for p in n["phases"]:
            for w, lat in p["latency"].items():
                cells = [_pcts(lat.get(key)) for key in ("ttft_ms", "itl_ms", "max_gap_ms")]
                lines.append(f"| {p['id']} | {w} | " + " | ".join(cells) + " |")
        lines.append("")
    lines.append("Plot: `goodput.png` (goodput per GPU-second per phase, layouts side by side).")
    return "\n".join(lines) + "\n"


def _pcts(p: dict[str, Any] | None) -> str:
    return "n/a" if p is None else f"{p['p50']} / {p['p95']} / {p['p99']}"


def _frozen(n: dict[str, Any]) -> str:
    """ "12 of 840 (9.6 s)"; "n/a" in records from before stalls were measured."""
    if "frozen_streams" not in n:
        return "n/a"
    return f"{n['frozen_streams']} of {n['requests']} ({n['frozen_s']:g} s)"


def write_report(report: dict[str, Any], out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out / "comparison.json", out / "comparison.md"
    json_path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    md_path.write_text(markdown(report), encoding="utf-8")
    return [json_path, md_path, write_plot(report, out / "goodput.png")]


def write_plot(report: dict[str, Any], path: Path) -> Path:
    layouts: dict[str, Any] = report["layouts"]
    titles: dict[str, str] = report["titles"]
    phase_ids = [p["id"] for p in next(iter(layouts.values()))["phases"]] if layouts else []
    fig, ax = plt.subplots(figsize=(10, 4.5))
    width = 0.8 / max(len(layouts), 1)
    for k, (name, n) in enumerate(layouts.items()):
        by_id = {p["id"]: p["goodput_per_gpu"] or 0.0 for p in n["phases"]}
        xs = [i + k * width for i in range(len(phase_ids))]
        ax.bar(xs, [by_id.get(pid, 0.0) for pid in phase_ids], width, label=titles[name])
    ax.set_xticks([i + width * (len(layouts) - 1) / 2 for i in range(len(phase_ids))], phase_ids)
    ax.set_ylabel("goodput per GPU-second (requests)")
    ax.set_title("Requests within every SLO per GPU-second, by phase and layout")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
