"""The rehearsal's PNG plots: latency p50/p95 over time and pool sizes, with phase bands."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt
from matplotlib.axes import Axes

from demo_bench.rehearsal.analysis import first_cycle, phase_spans, windows
from demo_bench.rehearsal.run import RawRun

PANELS = (
    ("chat", "ttft", "chat TTFT (s)"),
    ("summarization", "ttft", "summarization TTFT (s)"),
    ("reasoning", "itl", "reasoning ITL per token (s)"),
)


def _bands(ax: Axes, spans: list[Any], label: bool) -> None:
    for i, s in enumerate(spans):
        ax.axvspan(s.start_s, s.end_s, color="0.9" if i % 2 else "0.97", zorder=0)
        if label:
            ax.text((s.start_s + s.end_s) / 2, 1.01, s.name, transform=ax.get_xaxis_transform(),
                    ha="center", va="bottom", fontsize=8)  # fmt: skip


def _scales(ax: Axes, timeline: list[dict[str, Any]]) -> None:
    for e in timeline:
        if e["kind"] == "scale" and e["pool"]:
            color = "tab:orange" if e["pool"] == "prefill" else "tab:purple"
            ax.axvline(e["t_s"], color=color, linestyle=":", linewidth=1)


def write_plots(raw: RawRun, out: Path) -> list[Path]:
    end_s = max([s.t_s for s in raw.samples] + [p.t_s for p in raw.pools] + [1.0])
    spans = first_cycle(phase_spans(raw.timeline, end_s))
    start = spans[0].start_s if spans else 0.0
    fig, axes = plt.subplots(len(PANELS), 1, figsize=(12, 9), sharex=True)
    for i, (ax, (workload, metric, title)) in enumerate(zip(axes, PANELS, strict=True)):
        _bands(ax, spans, label=i == 0)
        series = windows(raw.samples, workload, metric, start, end_s)
        t = [p.t_s for p in series]
        ax.plot(t, [p.p50 for p in series], label="p50 (30 s window)", color="tab:blue")
        ax.plot(t, [p.p95 for p in series], label="p95 (30 s window)", color="tab:red")
        slo = raw.slos.get(workload)
        if slo is not None:
            ax.axhline(slo[0] if metric == "ttft" else slo[1], color="k", linestyle="--",
                       linewidth=0.8, label="SLO (p95)")  # fmt: skip
        _scales(ax, raw.timeline)
        ax.set_ylabel(title)
        ax.set_yscale("log")
        ax.legend(loc="upper left", fontsize=7)
    axes[-1].set_xlabel("demo time (s); dotted lines: scaling (orange prefill, purple decode)")
    fig.tight_layout()
    latency = out / "latency.png"
    fig.savefig(latency, dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(12, 4))
    _bands(ax, spans, label=True)
    t = [p.t_s for p in raw.pools]
    for pool, color in (("prefill", "tab:orange"), ("decode", "tab:purple")):
        ax.step(t, [p.desired[pool] for p in raw.pools], where="post", color=color,
                linestyle="--", label=f"{pool} desired")  # fmt: skip
        ax.step(t, [p.ready[pool] for p in raw.pools], where="post", color=color,
                label=f"{pool} ready")  # fmt: skip
    ax.step(t, [sum(p.desired.values()) for p in raw.pools], where="post", color="0.4",
            linewidth=0.8, label="GPUs allocated")  # fmt: skip
    ax.set_ylabel("workers (1 GPU each)")
    ax.set_xlabel("demo time (s)")
    ax.legend(loc="upper left", fontsize=7, ncol=3)
    fig.tight_layout()
    pools = out / "pools.png"
    fig.savefig(pools, dpi=110)
    plt.close(fig)
    return [latency, pools]
