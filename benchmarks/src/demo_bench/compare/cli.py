"""CLI of the layout comparison: the same script on four layouts -> JSON + Markdown + PNG."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import pickle
import platform
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from demo_bench.compare.analysis import layout_numbers, ratios
from demo_bench.compare.layouts import LAYOUT_INFO, LAYOUTS, LayoutName, ports_for, stack_args
from demo_bench.compare.report import write_report
from demo_bench.rehearsal.run import RawRun, rehearse
from loadgen.demo_script import default_script_path, load_demo_script
from loadgen.errors import LoadgenError
from localcluster.settings import LAYOUTS as ENV_LAYOUTS

PROFILES: dict[str, str] = {env: layout.profile for env, layout in ENV_LAYOUTS.items()}

# A short cycle for CI: the packaged script's SLOs and workloads, dev layout, light load.
QUICK_CYCLE = """
layout: {budget_gpus: 3, initial: {prefill: 1, decode: 2}}
phases:
  - {id: baseline, name: Baseline, caption: quick, duration: 30s,
     load: {rps: 0.3, mix: {chat: 0.4, summarization: 0.2, reasoning: 0.4}, max_in_flight: 16},
     scale: [{at: 5s, pool: decode, replicas: 1}]}
  - {id: decode-stress, name: Decode Stress, caption: quick, duration: 40s,
     load: {rps: 0.6, mix: {chat: 0.2, reasoning: 0.8}, max_in_flight: 32},
     scale: [{at: 5s, pool: decode, replicas: 2}]}
"""


def quick_script(path: Path) -> Path:
    text = default_script_path().read_text(encoding="utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text[: text.index("\nlayout:")] + "\n" + QUICK_CYCLE, encoding="utf-8")
    return path


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m demo_bench.compare", description=__doc__)
    parser.add_argument("--out", type=Path, required=True, help="report folder")
    parser.add_argument("--speed", type=float, default=1.0, help="demo clock (1: real time)")
    parser.add_argument("--env", choices=["prod", "dev"], default="prod")
    parser.add_argument("--script", type=Path, help="demo script (default: the packaged one)")
    parser.add_argument("--corpus", default="build/corpus")
    parser.add_argument("--work", type=Path, help="stacks' working folders (build/compare-work)")
    parser.add_argument(
        "--layouts", default=",".join(LAYOUTS), help=f"comma-separated subset of {LAYOUTS}"
    )
    parser.add_argument("--quick", action="store_true", help="short dev cycle (CI smoke run)")
    parser.add_argument("--from-raw", action="store_true", help="rebuild from saved raw runs")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    asked = [n.strip() for n in args.layouts.split(",") if n.strip()]
    unknown = [n for n in asked if n not in LAYOUT_INFO]
    if unknown:
        parser.error(f"unknown layout(s) {unknown}; choose from {LAYOUTS}")
    names: list[LayoutName] = [n for n in LAYOUTS if n in asked]
    work: Path = args.work or Path("build") / "compare-work" / args.out.name
    if args.quick:
        args.script, args.env = quick_script(work / "quick-cycle.yaml"), "dev"
    script = load_demo_script(args.script)
    assert script.layout is not None, "the script has no cycle layout"
    raws: dict[LayoutName, RawRun] = {}
    try:
        for name in names:
            raw_path = work / name / "raw.pickle"
            if args.from_raw:
                raws[name] = pickle.loads(raw_path.read_bytes())  # our own file
                continue
            layout = LAYOUT_INFO[name]
            raw = asyncio.run(
                rehearse(
                    work=work / name, speed=args.speed, env=args.env, script_path=args.script,
                    corpus=args.corpus, mode=layout.mode, manual_phases=None,
                    extra_stack_args=stack_args(layout, script.layout.budget_gpus),
                    ports=ports_for(layout),
                )
            )  # fmt: skip
            raw_path.parent.mkdir(parents=True, exist_ok=True)
            raw_path.write_bytes(pickle.dumps(raw))
            raws[name] = raw
    except (LoadgenError, OSError) as exc:
        print(f"compare: {exc}", file=sys.stderr)
        return 1
    report = build_report(raws, args)
    paths = write_report(report, args.out)
    ratio = report["ratio_vs_aggregated"]
    print(f"comparison report: {paths[1]}; goodput per GPU vs aggregated: {ratio}")
    return 0


def build_report(raws: dict[LayoutName, RawRun], args: argparse.Namespace) -> dict[str, Any]:
    layouts: dict[str, Any] = {name: layout_numbers(raw) for name, raw in raws.items()}
    first = next(iter(raws.values()))
    return {
        "what": "The same demo script (same phases, rates and seed) against the local stack "
        "(real Dynamo frontend + mocker workers on the H200 70B profile) in each layout, one "
        "after the other.",
        "measured_at": time.strftime("%Y-%m-%dT%H:%MZ", time.gmtime()),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores (shared)",
        "speed": first.speed,
        "env": first.env,
        "profile": PROFILES.get(first.env),  # the mocker's hardware profile
        "script": first.script,
        "layouts": layouts,
        "ratio_vs_aggregated": ratios(layouts),
        "titles": {n: LAYOUT_INFO[n].title for n in raws},
    }
