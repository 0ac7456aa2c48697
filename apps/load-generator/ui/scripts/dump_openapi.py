"""Write the load generator app's OpenAPI schema (JSON) to a file, for the UI's type generator.

The app is built but never started (no lifespan, no sockets); a tiny corpus stands in for the
real one because only the routes matter here.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from demo_common.corpus import load_corpus
from demo_testing.doubles import write_tiny_corpus
from loadgen.api.app import create_app
from loadgen.settings import Settings


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: dump_openapi.py OUT.json", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        corpus = load_corpus(write_tiny_corpus(Path(tmp) / "corpus"))
        app = create_app(
            Settings(ui_dir=Path(tmp) / "no-ui"), corpus=corpus, presenter_token="unused"
        )
        schema = app.openapi()
    Path(argv[0]).write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
