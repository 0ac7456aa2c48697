"""`python -m demo_observability.generate [--check]`: write (or check) the generated files."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from demo_observability import audience, operator
from demo_observability.paths import DASHBOARDS_DIR, OBSERVABILITY_DIR, RULES_FILE
from demo_observability.rules import recording_rules, rules_yaml


def rendered() -> dict[Path, str]:
    """Every generated file and its exact content."""
    out = {
        DASHBOARDS_DIR / f"{name}.json": json.dumps(build(), indent=2) + "\n"
        for name, build in (("audience", audience.build), ("operator", operator.build))
    }
    out[RULES_FILE] = rules_yaml(recording_rules())
    return out


def stale_files() -> list[Path]:
    return [
        path for path, text in rendered().items() if not path.is_file() or path.read_text() != text
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="demo_observability.generate", description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if a file is out of date")
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_files()
        for path in stale:
            print(f"stale: {path.relative_to(OBSERVABILITY_DIR.parent)}", file=sys.stderr)
        if stale:
            print("run `make dashboards` and commit the result", file=sys.stderr)
        return 1 if stale else 0
    for path, text in rendered().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        print(f"wrote {path.relative_to(OBSERVABILITY_DIR.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
