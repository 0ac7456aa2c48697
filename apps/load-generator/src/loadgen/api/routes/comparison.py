"""GET /api/comparison: the latest recorded layout comparison, for the audience's booth segment.

`make compare` writes `comparison.json` + `goodput.png` under benchmarks/records/<date>/compare/;
the app shows the newest one it finds (or LOADGEN_COMPARISON_DIR), labelled with where and when
it was measured. Read-only. "None recorded" is an answer (200, `recorded: false`), not a 404:
the screens ask every few seconds, and a browser logs every 404 as a console error.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException, status
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from loadgen.api.deps import RuntimeDep
from loadgen.settings import REPO_DIR

router = APIRouter(prefix="/api/comparison", tags=["comparison"])


class LayoutResult(BaseModel):
    title: str
    valid: bool = Field(description="false: the saturation guard found the run CPU-bound")
    invalid_because: list[str]
    goodput_per_gpu: float | None = Field(
        description="requests meeting every SLO of their workload per GPU-second"
    )
    gpu_seconds: float
    requests: int
    slo_attainment: dict[str, float | None] = Field(
        description="per workload: share of requests meeting every SLO, over the whole cycle"
    )
    ratio_vs_aggregated: float | None = Field(description="goodput per GPU over aggregated's")
    frozen_streams: int | None = Field(
        default=None,
        description="streams that paused longer than 250 ms at least once over the cycle; "
        "null in records from before stalls were measured",
    )


class Comparison(BaseModel):
    measured_at: str
    machine: str
    speed: float
    env: str
    profile: str | None = Field(description="the mocker's hardware profile; null in old records")
    script: str
    what: str
    valid: bool = Field(description="every layout's run passed the saturation guard")
    source: str
    plot: str | None = Field(description="URL of the plot; null when none was written")
    layouts: dict[str, LayoutResult]


class LatestComparison(BaseModel):
    recorded: bool
    note: str = Field(description="why there is none (or none readable); empty when recorded")
    comparison: Comparison | None


def newest(folder: Path | None) -> Path | None:
    """The comparison folder to show: `folder` itself, else the newest record."""
    if folder is not None:
        return folder if (folder / "comparison.json").is_file() else None
    found = sorted((REPO_DIR / "benchmarks" / "records").glob("*/compare/comparison.json"))
    return found[-1].parent if found else None


def _attainment(numbers: dict[str, Any]) -> dict[str, float | None]:
    """The whole cycle's attainment; records from before it was written: from the phases."""
    if "slo_attainment" in numbers:
        return {w: v["attainment"] for w, v in numbers["slo_attainment"].items()}
    met: dict[str, float] = {}
    asked: dict[str, int] = {}
    for phase in numbers.get("phases", []):
        for w, v in phase["slo_attainment"].items():
            asked[w] = asked.get(w, 0) + v["requests"]
            met[w] = met.get(w, 0.0) + (v["attainment"] or 0.0) * v["requests"]
    return {w: round(met[w] / n, 4) if n else None for w, n in asked.items()}


def _summary(raw: dict[str, Any], where: Path) -> Comparison:
    ratio = raw.get("ratio_vs_aggregated", {})
    layouts = {
        name: LayoutResult(
            title=raw["titles"][name],
            valid=n["valid"],
            invalid_because=n.get("cpu", {}).get("invalid_because", []),
            goodput_per_gpu=n["goodput_per_gpu"],
            gpu_seconds=n["gpu_seconds"],
            requests=n["requests"],
            slo_attainment=_attainment(n),
            ratio_vs_aggregated=ratio.get(name),
            frozen_streams=n.get("frozen_streams"),
        )
        for name, n in raw["layouts"].items()
    }
    return Comparison(
        measured_at=raw["measured_at"],
        machine=raw["machine"],
        speed=raw["speed"],
        env=raw["env"],
        profile=raw.get("profile"),
        script=raw.get("script", ""),
        what=raw.get("what", ""),
        valid=all(n.valid for n in layouts.values()),
        source=str(where),
        plot="/api/comparison/plot.png" if (where / "goodput.png").is_file() else None,
        layouts=layouts,
    )


@router.get("")
async def get_comparison(runtime: RuntimeDep) -> LatestComparison:
    folder = newest(runtime.settings.comparison_dir)
    if folder is None:
        return LatestComparison(recorded=False, note="no comparison recorded yet", comparison=None)
    try:
        comparison = _summary(json.loads((folder / "comparison.json").read_text()), folder)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:  # any bad shape
        note = f"comparison in {folder} unreadable: {exc!r}"
        return LatestComparison(recorded=False, note=note, comparison=None)
    return LatestComparison(recorded=True, note="", comparison=comparison)


@router.get("/plot.png", response_class=FileResponse)
async def get_comparison_plot(runtime: RuntimeDep) -> FileResponse:
    folder = newest(runtime.settings.comparison_dir)
    if folder is None or not (folder / "goodput.png").is_file():
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no comparison plot recorded")
    return FileResponse(folder / "goodput.png", media_type="image/png")
