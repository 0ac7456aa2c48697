"""Documents the code cites live in the repository (docs/), not in folders beside it."""

from __future__ import annotations

import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
OUTSIDE = ("../" + "shared/", "shared/" + "calibration")  # split so this file does not match
CITED = ("docs/calibration.md", "docs/contracts.md", "docs/measurement-conventions.md")


def test_cited_documents_exist() -> None:
    for doc in CITED:
        assert (REPO / doc).is_file(), doc


def test_no_tracked_file_cites_a_path_outside_the_repo() -> None:
    files = subprocess.run(
        ["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()
    offenders = []
    for name in files:
        if name.startswith(("benchmarks/records/", "docs/")) or name.endswith((".lock", ".json")):
            continue
        path = REPO / name
        if not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        if any(pattern in text for pattern in OUTSIDE) and path != Path(__file__):
            offenders.append(name)
    assert offenders == []
