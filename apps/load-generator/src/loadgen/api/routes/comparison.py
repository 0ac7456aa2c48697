"""GET /api/comparison: the latest recorded layout comparison, for the audience's booth segment.

`make compare` writes `comparison.json` + `goodput.png` under benchmarks/records/<date>/compare/;
the app shows the newest one it finds (or LOADGEN_COMPARISON_DIR), labelled with where and when
it was measured. Read-only; 404 when none was recorded.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException, status
from fastapi.responses import FileResponse
from pydantic import BaseModel

from loadgen.api.deps import RuntimeDep

router = APIRouter(prefix="/api/comparison", tags=["comparison"])


class LayoutResult(BaseModel):
    title: str
    valid: bool
    goodput_per_gpu: float | None
    gpu_seconds: float
    requests: int
    ratio_vs_aggregated: float | None


class Comparison(BaseModel):
    measured_at: str
    machine: str
    speed: float
    env: str
    source: str
    layouts: dict[str, LayoutResult]


def newest(folder: Path | None) -> Path | None:
    """The comparison folder to show: `folder` itself, else the newest record."""
    if folder is not None:
        return folder if (folder / "comparison.json").is_file() else None
    found = sorted(Path("benchmarks/records").glob("*/compare/comparison.json"))
    return found[-1].parent if found else None


def _summary(raw: dict[str, Any], where: Path) -> Comparison:
    ratio = raw.get("ratio_vs_aggregated", {})
    return Comparison(
        measured_at=raw["measured_at"],
        machine=raw["machine"],
        speed=raw["speed"],
        env=raw["env"],
        source=str(where),
        layouts={
            name: LayoutResult(
                title=raw["titles"][name],
                valid=n["valid"],
                goodput_per_gpu=n["goodput_per_gpu"],
                gpu_seconds=n["gpu_seconds"],
                requests=n["requests"],
                ratio_vs_aggregated=ratio.get(name),
            )
            for name, n in raw["layouts"].items()
        },
    )


@router.get("", responses={404: {"description": "no comparison recorded"}})
async def get_comparison(runtime: RuntimeDep) -> Comparison:
    folder = newest(runtime.settings.comparison_dir)
    if folder is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no comparison recorded (make compare)")
    try:
        return _summary(json.loads((folder / "comparison.json").read_text()), folder)
    except (OSError, ValueError, KeyError) as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"comparison unreadable: {exc}") from None


@router.get("/plot.png", response_class=FileResponse)
async def get_comparison_plot(runtime: RuntimeDep) -> FileResponse:
    folder = newest(runtime.settings.comparison_dir)
    if folder is None or not (folder / "goodput.png").is_file():
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no comparison plot recorded")
    return FileResponse(folder / "goodput.png", media_type="image/png")
