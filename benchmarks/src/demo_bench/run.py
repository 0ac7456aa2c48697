"""`make bench`: runs every benchmark section and writes build/bench/results.{json,md}."""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import psutil

from demo_bench import client_bench, client_hotpath, disagg, fidelity, stack, timing_cost

Section = Callable[[Path, bool, Callable[[str], None]], dict[str, Any]]


def _fidelity(out: Path, quick: bool, log: Callable[[str], None]) -> dict[str, Any]:
    report = fidelity.fidelity_report()
    fidelity.write_fidelity_table(out)
    return report


SECTIONS: dict[str, Section] = {
    "disagg": disagg.run,
    "fidelity": _fidelity,
    "stack": stack.run,
    "timing-cost": timing_cost.run,
    "client": client_bench.run,
    "client-hotpath": client_hotpath.run,
}


def machine() -> dict[str, Any]:
    return {
        "cpu_count": psutil.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench", description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("build/bench"))
    parser.add_argument("--only", choices=sorted(SECTIONS), action="append")
    parser.add_argument("--quick", action="store_true", help="shorter windows (smoke run)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    results_path = args.out / "results.json"
    results: dict[str, Any] = {}
    if results_path.exists():  # keep sections not re-run this time
        results = json.loads(results_path.read_text())
    results["machine"] = machine()

    def log(message: str) -> None:
        print(f"bench: {message}", file=sys.stderr, flush=True)

    for name in args.only or list(SECTIONS):
        started = time.monotonic()
        results[name] = SECTIONS[name](args.out / name if name != "fidelity" else args.out,
                                       args.quick, log)  # fmt: skip
        results[name]["_ran_at"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        log(f"{name} done in {time.monotonic() - started:.0f} s")
        results_path.write_text(json.dumps(results, indent=2, default=str))
    print(json.dumps({k: v for k, v in results.items() if k != "fidelity"}, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
