"""The secrets scan: detect-secrets over every tracked file against the committed, audited
baseline (.secrets.baseline). Offline: network verification of findings is off (--no-verify).

A finding not in the baseline fails; so does a baseline entry not audited as a false positive.
To accept a new false positive: `make secrets-baseline`, check each new entry, mark it
"is_secret": false.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
BASELINE = REPO / ".secrets.baseline"
# The same arguments as `make secrets-baseline` (mk/reliability.mk).
EXCLUDED = r"(^|/)(uv\.lock|package-lock\.json|\.secrets\.baseline)$"
SCAN_ARGS = ["scan", "--no-verify", "--exclude-files", EXCLUDED]


def scan(folder: Path, *extra: str) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-m", "detect_secrets", *SCAN_ARGS, *extra],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    found: dict[str, Any] = json.loads(result.stdout)
    return found


def keys(results: dict[str, list[dict[str, Any]]]) -> set[tuple[str, str, str]]:
    return {(f, s["type"], s["hashed_secret"]) for f, items in results.items() for s in items}


def test_no_secret_outside_the_audited_baseline() -> None:
    baseline = json.loads(BASELINE.read_text(encoding="utf-8"))
    unaudited = [
        (f, s["line_number"])
        for f, items in baseline["results"].items()
        for s in items
        if s.get("is_secret") is not False
    ]
    assert unaudited == [], "baseline entries must be audited as false positives"
    found = scan(REPO)
    new = keys(found["results"]) - keys(baseline["results"])
    assert sorted(new) == [], "secrets (or new false positives) outside .secrets.baseline"


def test_the_scan_finds_a_planted_key(tmp_path: Path) -> None:
    planted = "AKIA" + "Q3EXAMPLE7PLANTED"[:16].upper().ljust(16, "Z")
    (tmp_path / "settings.py").write_text(f'aws_access_key_id = "{planted}"\n')
    (tmp_path / "clean.py").write_text('region = "atl1"\n')
    found = scan(tmp_path, "--all-files")
    assert {f for f, _, _ in keys(found["results"])} == {"settings.py"}
