"""Import path for the live-stack helpers of the observability tests (pytest's importlib mode)."""

import sys
from pathlib import Path

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)
