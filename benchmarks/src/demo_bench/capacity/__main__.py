"""`make capacity`: capacity at SLO per GPU, aggregated vs disaggregated, with AIC beside it.

python -m demo_bench.capacity [--preset ID ...] [--gpus 5 8] [--duration-s 120] [--seed 0]
    [--jobs 1] [--corpus build/corpus] [--out DIR] [--no-best-split] [--no-aic]
Per preset, bisects the arrival rate of its mix on N aggregated workers and on the demo's P+D
split of the same N GPUs (2P+3D for 5, 4P+4D for 8), then finds the best split of N; replays
run on dynamo.replay with the live stack's AIS timing. Then runs AIConfigurator on the demo's
workload shapes (measured from the traces) with the demo's SLOs. Writes capacity.md + .json.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path

from demo_bench.capacity.aic import Shape, Verdict, run
from demo_bench.capacity.replay import Layout, Setup
from demo_bench.capacity.report import render, search_record
from demo_bench.capacity.sweep import REL_TOL, Search, sweep_preset
from demo_bench.sizing.trace import build_trace, workload_of
from demo_common.corpus import load_corpus
from loadgen.demo_script.load import LoadConfig, Mix
from loadgen.demo_script.loader import load_demo_script
from loadgen.demo_script.models import DemoScript
from localcluster.modeldir import write_model_dir
from localcluster.perfmodel import hardware_profile
from localcluster.settings import LAYOUTS

NAMED_SPLITS = {5: Layout(prefill=2, decode=3), 8: Layout(prefill=4, decode=4)}


def shapes(setup: Setup) -> list[Shape]:
    """Mean ISL/OSL per workload of a trace of every workload (what AIC is asked about)."""
    load = LoadConfig(rps=3.0, mix=Mix(chat=1, summarization=1, reasoning=1), max_in_flight=256)
    rows = build_trace(setup.script, setup.corpus, load, seed=setup.seed, duration_s=120,
                       block=setup.profile.block_size)  # fmt: skip
    out = []
    for workload, slo in setup.script.slos.items():
        mine = [r for r in rows if workload_of(r.session_id) == workload]
        isl = round(statistics.mean(r.input_length for r in mine), -2)
        osl = round(statistics.mean(r.output_length for r in mine), -1)
        out.append(Shape(workload, int(isl), int(osl), slo.ttft_p95_s * 1e3, slo.itl_p95_s * 1e3))
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m demo_bench.capacity")
    parser.add_argument("--preset", action="append", default=None, help="preset id (repeatable)")
    parser.add_argument("--gpus", type=int, nargs="+", default=[5, 8], choices=sorted(NAMED_SPLITS))
    parser.add_argument("--duration-s", type=float, default=120.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=1, help="parallel replays (the box is shared)")
    parser.add_argument("--corpus", type=Path, default=Path("build/corpus"))
    parser.add_argument("--out", type=Path, default=Path("build/capacity"))
    parser.add_argument("--no-best-split", action="store_true", help="named splits only")
    parser.add_argument("--no-aic", action="store_true", help="skip AIConfigurator")
    args = parser.parse_args(argv)
    if args.duration_s <= 0 or args.jobs < 1:
        print("capacity: --duration-s and --jobs must be positive", file=sys.stderr)
        return 2
    if not (args.corpus / "manifest.json").is_file():
        print(f"capacity: no corpus at {args.corpus} (run `make corpus`)", file=sys.stderr)
        return 2
    script = load_demo_script()
    presets = [p for p in script.presets if args.preset is None or p.id in args.preset]
    if not presets:
        print(f"capacity: no preset among {args.preset}", file=sys.stderr)
        return 2
    os.environ.setdefault("DYN_LOG", "error")  # inherited by the replay processes
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="capacity-") as tmp:
        setup = _setup(script, args.corpus, Path(tmp), args.seed, args.duration_s)
        by_preset: dict[str, list[Search]] = {}
        spawn = multiprocessing.get_context("spawn")
        with (
            ThreadPoolExecutor(max_workers=1) as aic,  # AIC's own processes run beside the sweep
            ProcessPoolExecutor(max_workers=args.jobs, mp_context=spawn) as pool,
        ):
            pending = None if args.no_aic else aic.submit(_aic, setup, args.gpus, Path(tmp) / "aic")
            for preset in presets:
                by_preset[preset.id] = sweep_preset(
                    setup, preset.id, preset.load.rps, args.gpus, NAMED_SPLITS, pool,
                    best_split=not args.no_best_split,
                )  # fmt: skip
                _write(args, setup, by_preset, [], started)  # a partial record survives a stop
                elapsed_s = time.monotonic() - started
                print(f"capacity: {preset.id} done ({elapsed_s:.0f} s)", flush=True)
            verdicts = [] if pending is None else pending.result()
        _write(args, setup, by_preset, verdicts, started)
    print((args.out / "capacity.md").read_text())
    return 0


def _aic(setup: Setup, gpu_counts: Sequence[int], out: Path) -> list[Verdict]:
    shown = shapes(setup)
    return [run(shape, n, out / f"{shape.workload}-{n}") for n in gpu_counts for shape in shown]


def _setup(script: DemoScript, corpus: Path, work: Path, seed: int, duration_s: float) -> Setup:
    layout = LAYOUTS["prod"]
    model_dir = write_model_dir(work / f"model-{layout.model_size}", layout.model_size)
    return Setup(script, load_corpus(corpus), hardware_profile(layout.profile), model_dir, work,
                 seed, duration_s)  # fmt: skip


def _write(
    args: argparse.Namespace, setup: Setup, by_preset: dict[str, list[Search]],
    verdicts: list[Verdict], started: float,
) -> None:  # fmt: skip
    profile = setup.profile
    header = [
        f"Prod profile {profile.name} timed by AISimulate ({profile.ais.system}, "
        f"{profile.ais.backend}); seed {args.seed}, {args.duration_s:g} s of arrivals per point, "
        f"bisection to {REL_TOL:.0%}; SLOs from the demo script: "
        + ", ".join(f"{w} TTFT {s.ttft_p95_s:g} s / ITL {1e3 * s.itl_p95_s:g} ms"
                    for w, s in setup.slos.items())
        + f". Sweep wall time {time.monotonic() - started:.0f} s.",
    ]  # fmt: skip
    (args.out / "capacity.md").write_text(
        "\n".join(render(header, by_preset, args.gpus, verdicts)) + "\n"
    )
    record = {
        "seed": args.seed, "duration_s": args.duration_s, "rel_tol": REL_TOL,
        "slos": {w: s.model_dump() for w, s in setup.slos.items()},
        "searches": [search_record(s) for ss in by_preset.values() for s in ss],
        "aic": [v.as_dict() for v in verdicts],
    }  # fmt: skip
    (args.out / "capacity.json").write_text(json.dumps(record, indent=1, default=asdict) + "\n")


if __name__ == "__main__":
    sys.exit(main())
