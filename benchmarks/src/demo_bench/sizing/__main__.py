"""`make sizing`: every preset replayed at every pool split of the prod and dev layouts.

python -m demo_bench.sizing [--env prod|dev|both] [--duration-s 600] [--seed 0]
    [--corpus build/corpus] [--out build/sizing] [--preset ID ...] [--cycle-only]
Prints, per layout and preset, the demand on each pool and one row per (prefill, decode) split:
TTFT and ITL p50/p95 per workload, SLO attainment, goodput; then the smallest split meeting
every SLO and the scale-out lead times; then the whole auto-mode cycle replayed in sequence on
the prod layout (cycle.py: backlog carried across phases, the script's scale steps applied).
Writes sizing.md and sizing.json (+ cycle.json) under --out.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import tempfile
from collections.abc import Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import asdict
from pathlib import Path
from typing import Any

from demo_bench.sizing.cycle import cycle_trace, phase_spans, pool_changes, replay_cycle
from demo_bench.sizing.cycle_report import render_cycle
from demo_bench.sizing.demand import Demand, demand, drain_s
from demo_bench.sizing.replay import SplitResult, WorkloadStats, run_split
from demo_bench.sizing.trace import build_trace, write_trace
from demo_common.corpus import load_corpus
from loadgen.demo_script.loader import load_demo_script
from loadgen.demo_script.models import DemoScript, Preset
from loadgen.records import WORKLOADS
from localcluster.modeldir import write_model_dir
from localcluster.perfmodel import hardware_profile
from localcluster.settings import LAYOUTS, EnvName


def splits(gpu_slots: int) -> list[tuple[int, int]]:
    """Every (prefill, decode) with at least one worker each that fits the node."""
    return [(p, d) for p in range(1, gpu_slots) for d in range(1, gpu_slots - p + 1)]


def smallest_meeting(results: Sequence[SplitResult], script: DemoScript) -> SplitResult | None:
    """Fewest GPUs first, then the most goodput."""
    slos = script.slos
    ok = [r for r in results if r.meets(slos)]
    return min(ok, key=lambda r: (r.prefill + r.decode, -r.goodput_rps), default=None)


def _row(r: SplitResult, script: DemoScript) -> str:
    cells = []
    for w in WORKLOADS:
        s = r.workloads.get(w)
        cells.append(
            "–" if s is None else
            f"{s.ttft_p50_ms / 1e3:.2f}/{s.ttft_p95_ms / 1e3:.2f} s · {s.itl_p50_ms:.0f}/"
            f"{s.itl_p95_ms:.0f} ms · {100 * s.attainment:.0f} %"
        )  # fmt: skip
    verdict = "yes" if r.meets(script.slos) else "no"
    return (
        f"| {r.prefill}P+{r.decode}D | {' | '.join(cells)} | {r.goodput_rps:.2f} "
        f"| {r.completed}/{r.offered} | {verdict} |"
    )


def size_preset(
    env: EnvName, preset: Preset, script: DemoScript, corpus_dir: Path, work: Path, seed: int,
    duration_s: float, pool: Executor,
) -> tuple[list[str], dict[str, Any]]:  # fmt: skip
    layout = LAYOUTS[env]
    profile = hardware_profile(layout.profile)
    model_dir = write_model_dir(work / f"model-{layout.model_size}", layout.model_size)
    corpus = load_corpus(corpus_dir)
    rows = build_trace(script, corpus, preset.load, seed=seed, duration_s=duration_s,
                       block=profile.block_size)  # fmt: skip
    trace = write_trace(rows, work / f"{env}-{preset.id}.jsonl")
    need = demand(rows, profile, duration_s)
    slos = script.slos
    candidates = splits(layout.gpu_slots)
    results = list(
        pool.map(
            run_split, [preset.id] * len(candidates), [rows] * len(candidates),
            [trace] * len(candidates), [profile] * len(candidates), [model_dir] * len(candidates),
            candidates, [slos] * len(candidates), [duration_s] * len(candidates),
        )
    )  # fmt: skip
    record = {
        "env": env, "preset": preset.id, "demand": asdict(need),
        "results": [
            {"prefill": r.prefill, "decode": r.decode, "completed": r.completed,
             "offered": r.offered, "workloads": {w: asdict(x) for w, x in r.workloads.items()}}
            for r in results
        ],
    }  # fmt: skip
    return render(env, preset, script, need, results), record


def from_record(record: dict[str, Any]) -> tuple[Demand, list[SplitResult]]:
    """A stored sizing record back as objects (to re-render without replaying)."""
    results = [
        SplitResult(
            preset=str(record["preset"]), prefill=int(r["prefill"]), decode=int(r["decode"]),
            workloads={w: WorkloadStats(**x) for w, x in r["workloads"].items()},
            completed=int(r["completed"]), offered=int(r["offered"]),
        )
        for r in record["results"]
    ]  # fmt: skip
    return Demand(**record["demand"]), results


def render(
    env: EnvName, preset: Preset, script: DemoScript, need: Demand, results: list[SplitResult]
) -> list[str]:
    """The markdown section of one preset on one layout."""
    layout = LAYOUTS[env]
    profile = hardware_profile(layout.profile)
    best = smallest_meeting(results, script)
    lines = [
        f"### {env}: {preset.name} ({preset.load.rps:g} arrivals/s, "
        f"mix {preset.load.mix.model_dump()})",
        "",
        f"Demand (physics model, the cross-check: its prefill runs 15-25 % above the AIS "
        f"timing the replays use): prefill {need.prefill_gpu_s_per_s:.2f} GPU-s/s; decode "
        f"{need.decode_tokens_per_s:.0f} tokens/s at mean context {need.mean_context:.0f} = "
        f"{need.decode_workers_at_full_batch:.2f} workers at full batch "
        f"({profile.decode_max_batch}).",
        "",
        "| split | chat TTFT p50/p95 · ITL p50/p95 · SLO | summarization | reasoning "
        "| goodput req/s | completed | all SLOs |",
        "|---|---|---|---|---|---|---|",
        *(_row(r, script) for r in results),
        "",
        "Smallest split meeting every SLO: "
        + (f"{best.prefill}P+{best.decode}D" if best else "none on this node"),
    ]
    if best is not None:
        start = profile.worker_start_s
        for pool_name, load, now in (
            ("prefill", need.prefill_gpu_s_per_s, layout.prefill),
            ("decode", need.decode_workers_at_full_batch, layout.decode),
        ):
            target = best.prefill if pool_name == "prefill" else best.decode
            line = (
                f"- {pool_name}: needs {target} (layout default {now}); load "
                f"{load:.2f} = {load / now:.0%} of {now}, {load / target:.0%} of {target}"
            )
            if target > now:
                drain = drain_s(load, now, target, start)
                line += (
                    f". A new worker serves {start:.0f} s after the scale-out is issued: issue "
                    f"it {start:.0f} s before this load arrives"
                )
                if drain is None:
                    line += f"; {target} workers cannot clear a backlog"
                elif drain > 0:
                    line += (
                        f", or give the phase {start:.0f} s + {drain:.0f} s (backlog drain) "
                        "after the scale-out for the recovery to show"
                    )
                else:
                    line += (
                        f", or give the phase {start:.0f} s after the scale-out plus the time "
                        f"the queue built near saturation takes to clear"
                    )
            lines.append(line + ".")
    lines.append("")
    return lines


def size_cycle(
    script: DemoScript, corpus_dir: Path, work: Path, seed: int
) -> tuple[list[str], dict[str, Any]]:
    """The auto-mode cycle replayed in sequence on the prod layout (the cycle's own)."""
    profile = hardware_profile(LAYOUTS["prod"].profile)
    model_dir = write_model_dir(work / "model-cycle", LAYOUTS["prod"].model_size)
    rows = cycle_trace(script, load_corpus(corpus_dir), seed=seed, block=profile.block_size)
    done = replay_cycle(script, rows, work, profile, model_dir)
    changes = pool_changes(script, profile.worker_start_s)
    return render_cycle(done, phase_spans(script), changes, script.slos, len(rows))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m demo_bench.sizing")
    parser.add_argument("--env", choices=("prod", "dev", "both"), default="both")
    parser.add_argument("--duration-s", type=float, default=600.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--corpus", type=Path, default=Path("build/corpus"))
    parser.add_argument("--out", type=Path, default=Path("build/sizing"))
    parser.add_argument("--preset", action="append", default=None, help="preset id (repeatable)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="parallel replays")
    parser.add_argument("--render", type=Path, default=None, help="re-render a sizing.json")
    parser.add_argument("--cycle-only", action="store_true", help="only the whole-cycle replay")
    args = parser.parse_args(argv)
    if args.render is not None:
        return _render_stored(args.render, args.out)
    if not (args.corpus / "manifest.json").is_file():
        print(f"sizing: no corpus at {args.corpus} (run `make corpus`)", file=sys.stderr)
        return 2
    script = load_demo_script()
    presets = [p for p in script.presets if args.preset is None or p.id in args.preset]
    presets = [] if args.cycle_only else presets
    if not presets and not args.cycle_only:
        print(f"sizing: no preset among {args.preset}", file=sys.stderr)
        return 2
    envs: list[EnvName] = ["prod", "dev"] if args.env == "both" else [args.env]
    lines = ["# Sizing: presets replayed with dynamo.replay at every pool split", ""]
    records = []
    os.environ.setdefault("DYN_LOG", "error")  # inherited by the replay processes
    spawn = multiprocessing.get_context("spawn")  # no fork of a process that may hold threads
    with (
        tempfile.TemporaryDirectory(prefix="sizing-") as tmp,
        ProcessPoolExecutor(max_workers=max(1, args.jobs), mp_context=spawn) as pool,
    ):
        for env in envs:
            for preset in presets:
                text, record = size_preset(env, preset, script, args.corpus, Path(tmp),
                                           args.seed, args.duration_s, pool)  # fmt: skip
                print("\n".join(text), flush=True)
                lines += text
                records.append(record)
        cycle_lines, cycle_record = size_cycle(script, args.corpus, Path(tmp), args.seed)
        print("\n".join(cycle_lines), flush=True)
        lines += cycle_lines
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "cycle.json").write_text(json.dumps(cycle_record, indent=1) + "\n")
    (args.out / "sizing.md").write_text("\n".join(lines) + "\n")
    (args.out / "sizing.json").write_text(json.dumps(records, indent=1) + "\n")
    return 0


def _render_stored(stored: Path, out: Path) -> int:
    """Markdown from a stored sizing.json (presets looked up by id in the current script)."""
    script = load_demo_script()
    lines = ["# Sizing: presets replayed with dynamo.replay at every pool split", ""]
    for record in json.loads(stored.read_text()):
        preset = script.preset(str(record["preset"]))
        if preset is None:
            print(f"sizing: preset {record['preset']!r} is not in the demo script", file=sys.stderr)
            return 2
        need, results = from_record(record)
        lines += render(record["env"], preset, script, need, results)
    out.mkdir(parents=True, exist_ok=True)
    (out / "sizing.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
