"""CLI of the rehearsal: one auto cycle on the local stack -> JSON + Markdown + PNG report."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import pickle
import sys
from collections.abc import Sequence
from pathlib import Path

from demo_bench.app_profile import Profiler, cost_by_part, markdown, parse_collapsed
from demo_bench.rehearsal.plots import write_plots
from demo_bench.rehearsal.report import build_report, write_report
from demo_bench.rehearsal.run import RawRun, rehearse
from loadgen.demo_script import default_script_path
from loadgen.errors import LoadgenError


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m demo_bench.rehearsal", description=__doc__)
    parser.add_argument("--out", type=Path, required=True, help="report folder")
    parser.add_argument(
        "--speed", type=float, default=1.0, help="demo clock (default 1: real time)"
    )
    parser.add_argument("--env", choices=["prod", "dev"], default="prod")
    parser.add_argument("--script", type=Path, help="demo script (default: the packaged one)")
    parser.add_argument("--corpus", default="build/corpus")
    parser.add_argument(
        "--work", type=Path, help="stack logs, request log, raw run (default build/rehearsal-work)"
    )
    parser.add_argument("--cycles", type=int, default=1)
    parser.add_argument(
        "--manual", action="store_true", help="KEDA-driven variant: manual mode, stress phases"
    )
    parser.add_argument("--from-raw", type=Path, help="rebuild the report from a saved raw run")
    parser.add_argument(
        "--profile-app",
        action="store_true",
        help="also sample this process with py-spy: the app's CPU per part, beside the report",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: a 340 s cycle with light load on the dev layout (pair with --speed 10)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    args.out.mkdir(parents=True, exist_ok=True)
    work: Path = args.work or Path("build") / "rehearsal-work" / args.out.name
    raw_path = work / "raw.pickle"
    if args.quick:
        args.script, args.env = quick_script(work / "quick-cycle.yaml"), "dev"
    try:
        if args.from_raw is not None:
            raw: RawRun = pickle.loads(args.from_raw.read_bytes())  # our own file
            if args.profile_app:  # the samples py-spy left beside the raw run
                write_app_profile(args.from_raw.parent / "app-profile.txt", raw, args.out)
        else:
            run = rehearse(
                work=work, speed=args.speed, env=args.env, script_path=args.script,
                corpus=args.corpus, cycles=args.cycles,
                mode="manual" if args.manual else "auto", hand_back=args.manual,
            )  # fmt: skip
            if args.profile_app:
                samples = work / "app-profile.txt"
                with Profiler(os.getpid(), samples, PROFILE_RATE_HZ):
                    raw = asyncio.run(run)
                write_app_profile(samples, raw, args.out)
            else:
                raw = asyncio.run(run)
            raw_path.parent.mkdir(parents=True, exist_ok=True)
            raw_path.write_bytes(pickle.dumps(raw))
    except (LoadgenError, OSError) as exc:
        print(f"rehearsal: {exc}", file=sys.stderr)
        return 1
    report = build_report(raw)
    json_path, md_path = write_report(report, args.out)
    write_plots(raw, args.out)
    print(f"rehearsal report: {md_path} ({json_path}); valid: {report['valid']}")
    return 0


PROFILE_RATE_HZ = 50


def write_app_profile(samples: Path, raw: RawRun, out: Path) -> Path:
    """The app's CPU per part over the run, from py-spy's samples of this process."""
    costs = cost_by_part(parse_collapsed(samples.read_text()), PROFILE_RATE_HZ, raw.wall_s)
    meta = {
        "run": f"{raw.mode} rehearsal started {raw.started_at}, speed {raw.speed:g}, "
        f"env {raw.env}, {raw.wall_s:.0f} s of wall time",
        "sampler": f"py-spy record --nonblocking at {PROFILE_RATE_HZ} Hz (busy samples only)",
    }
    path = out / "app-profile.md"
    path.write_text(markdown(costs, meta))
    (out / "app-profile.json").write_text(
        json.dumps({**meta, "parts": [c.__dict__ for c in costs]}, indent=1) + "\n"
    )
    return path


# The packaged phase ids (the report's effects look for them) on the dev layout, light load.
QUICK_CYCLE = """
layout: {budget_gpus: 3, initial: {prefill: 1, decode: 1}}
phases:
  - {id: baseline, name: Baseline, caption: quick, duration: 60s,
     load: {rps: 0.2, mix: {chat: 0.5, summarization: 0.2, reasoning: 0.3}, max_in_flight: 16}}
  - {id: kv-cache, name: KV Cache, caption: quick, duration: 60s,
     load: {rps: 0.3, mix: {chat: 1}, max_in_flight: 16},
     scale: [{at: 20s, pool: prefill, replicas: 2}]}
  - {id: prefill-stress, name: Prefill Stress, caption: quick, duration: 90s,
     load: {rps: 0.3, mix: {chat: 0.3, summarization: 0.7}, max_in_flight: 16},
     scale: [{at: 60s, pool: prefill, replicas: 1}, {at: 61s, pool: decode, replicas: 2}]}
  - {id: decode-stress, name: Decode Stress, caption: quick, duration: 90s,
     load: {rps: 0.4, mix: {chat: 0.2, reasoning: 0.8}, max_in_flight: 32}}
  - {id: full-load, name: Full Load, caption: quick, duration: 40s,
     load: {rps: 0.3, mix: {chat: 0.4, summarization: 0.25, reasoning: 0.35}, max_in_flight: 32}}
"""


def quick_script(path: Path) -> Path:
    """The packaged script's SLOs, workloads and presets with QUICK_CYCLE as its cycle."""
    text = default_script_path().read_text(encoding="utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text[: text.index("\nlayout:")] + "\n" + QUICK_CYCLE, encoding="utf-8")
    return path
