"""Benchmark: the profile fidelity table (profile predictions vs calibration.md figures).

Deterministic (no processes, no timing): it evaluates the fitted profiles and writes
`profile-fidelity.md` (both profiles) and `profile-fidelity.json` (rows + fitted parameters).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from localcluster.perfmodel import PROFILE_NAMES, hardware_profile
from localcluster.perfmodel.fidelity import failures, fidelity_rows, render_markdown

MARKDOWN_NAME = "profile-fidelity.md"
JSON_NAME = "profile-fidelity.json"


def fidelity_report() -> dict[str, Any]:
    """Rows, model parameters and the number of failing points of every profile."""
    report: dict[str, Any] = {"profiles": {}}
    for name in PROFILE_NAMES:
        profile = hardware_profile(name)
        rows = fidelity_rows(profile)
        report["profiles"][name] = {
            "measured_hardware": profile.gpu.measured,
            "engine_params": profile.engine_params.model_dump(),
            "unfused": profile.unfused.model_dump(),
            "failures": len(failures(rows)),
            "rows": [asdict(r) for r in rows],
        }
    return report


def write_fidelity_table(out_dir: Path) -> Path:
    """Write the markdown table and its JSON twin into `out_dir`; returns the markdown path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    sections = ["# Profile fidelity: model prediction vs calibration.md", ""]
    sections += [render_markdown(hardware_profile(name)) for name in PROFILE_NAMES]
    markdown = out_dir / MARKDOWN_NAME
    markdown.write_text("\n".join(sections))
    (out_dir / JSON_NAME).write_text(json.dumps(fidelity_report(), indent=1) + "\n")
    return markdown
