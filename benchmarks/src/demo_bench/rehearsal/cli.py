"""CLI of the rehearsal: one auto cycle on the local stack -> JSON + Markdown + PNG report."""

from __future__ import annotations

import argparse
import asyncio
import logging
import pickle
import sys
from collections.abc import Sequence
from pathlib import Path

from demo_bench.rehearsal.plots import write_plots
from demo_bench.rehearsal.report import build_report, write_report
from demo_bench.rehearsal.run import RawRun, rehearse
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
    parser.add_argument("--cycles", type=int, default=1)
    parser.add_argument("--from-raw", type=Path, help="rebuild the report from a saved raw run")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    args.out.mkdir(parents=True, exist_ok=True)
    raw_path = args.out / "stack" / "raw.pickle"
    try:
        if args.from_raw is not None:
            raw: RawRun = pickle.loads(args.from_raw.read_bytes())  # our own file
        else:
            raw = asyncio.run(
                rehearse(
                    out=args.out, speed=args.speed, env=args.env, script_path=args.script,
                    corpus=args.corpus, cycles=args.cycles,
                )
            )  # fmt: skip
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
