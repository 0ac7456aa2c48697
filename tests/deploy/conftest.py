"""Shared setup for the static deploy checks: import paths for deploykit and the helpers."""

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
for _path in (_HERE, _HERE.parents[1] / "scripts"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))
