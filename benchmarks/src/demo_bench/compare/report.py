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
        "demo seconds**; goodput = requests that met every SLO of their workload (TTFT p95 "
        "threshold and their own ITL p95 threshold) per second; per GPU = per GPU-second. "
        "Requests still in flight when a run stopped are left out of every figure (counted "
        "as `cut`).",
        "",
        "| layout | valid | requests (failed, cut) | GPU-s | goodput / GPU-s | vs aggregated |",
        "|---|---|---|---|---|---|",
    ]
    for name, n in layouts.items():
        ratio = report["ratio_vs_aggregated"].get(name)
        lines.append(
            f"| {titles[name]} | {'yes' if n['valid'] else 'NO'} | {n['requests']} "
            f"({n['failed']}, {n['cut_at_stop']}) | {n['gpu_seconds']:g} | "
            f"{n['goodput_per_gpu']} | "
            f"{'—' if name == 'aggregated' else ratio} |"
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
            cells.append(f"goodput/GPU {p['goodput_per_gpu']}; {p['mean_gpus']} GPUs; {att}")
        lines.append(f"| {pid} | " + " | ".join(cells) + " |")
    lines += ["", "SLO attainment per workload: C chat, S summarization, R reasoning.", ""]
    lines += ["## Latency per phase (ms): TTFT p50/p95/p99, ITL p50/p95/p99", ""]
    for name, n in layouts.items():
        lines.append(f"### {titles[name]}\n")
        lines.append("| phase | workload | TTFT p50 / p95 / p99 | ITL p50 / p95 / p99 |")
        lines.append("|---|---|---|---|")
        for p in n["phases"]:
            for w, lat in p["latency"].items():
                t, i = lat["ttft_ms"], lat["itl_ms"]
                lines.append(
                    f"| {p['id']} | {w} | {t['p50']} / {t['p95']} / {t['p99']} | "
                    f"{i['p50']} / {i['p95']} / {i['p99']} |"
                )
        lines.append("")
    lines.append("Plot: `goodput.png` (goodput per GPU-second per phase, layouts side by side).")
    return "\n".join(lines) + "\n"


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
