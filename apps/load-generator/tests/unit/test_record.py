"""`make record`'s re-timing: frames and captions on the demo clock, one still per phase."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "ui/scripts/record.py"


@pytest.fixture(scope="module")
def record() -> ModuleType:
    spec = importlib.util.spec_from_file_location("ui_record", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["ui_record"] = module  # dataclasses resolve their module by name
    spec.loader.exec_module(module)
    return module


def poll(wall_s: float, index: int, elapsed_s: float, cycle: int = 0) -> dict[str, object]:
    phase = {
        "id": f"p{index}", "name": f"Phase {index}", "caption": f"caption {index}",
        "index": index, "count": 2, "duration_s": 100.0, "elapsed_s": elapsed_s,
        "time_left_s": 100.0 - elapsed_s, "preset": None,
    }  # fmt: skip
    return {"wall_s": wall_s, "state": {"cycle": cycle, "phase": phase}}


def test_phases_start_where_their_elapsed_time_says(record: ModuleType) -> None:
    # speed 10: 50 demo seconds into phase 0 at wall 1005 means it began at wall 1000.
    polls = [poll(1005, 0, 50), poll(1006, 0, 60), poll(1011.5, 1, 5), poll(1015, 0, 0, cycle=1)]
    phases = record.phases_from_polls(polls, speed=10.0, end_wall_s=1016)
    assert [(p.id, p.start_wall_s, p.end_wall_s) for p in phases] == [
        ("p0", 1000.0, 1011.0),
        ("p1", 1011.0, 1015.0),
        ("p0", 1015.0, 1016),
    ]


def test_frames_are_held_for_demo_time(record: ModuleType, tmp_path: Path) -> None:
    frames = [record.Frame(100.0, tmp_path / "a.jpg"), record.Frame(100.5, tmp_path / "b.jpg")]
    text = record.concat_list(frames, speed=10.0, end_wall_s=102.0)
    assert text.splitlines() == [
        "ffconcat version 1.0",
        "file 'a.jpg'",
        "duration 5.000",
        "file 'b.jpg'",
        "duration 15.000",
        "file 'b.jpg'",
    ]


def test_captions_are_on_the_demo_clock(record: ModuleType) -> None:
    phases = record.phases_from_polls([poll(1000, 0, 0), poll(1012, 1, 0)], 10.0, 1013)
    srt = record.captions(phases, t0_wall_s=1000.0, speed=10.0)
    assert "00:00:00,000 --> 00:02:00,000\nPhase 1/2 · Phase 0\ncaption 0" in srt
    assert "00:02:00,000 --> 00:02:10,000\nPhase 2/2 · Phase 1\ncaption 1" in srt


def test_a_still_per_phase_late_in_the_phase(record: ModuleType, tmp_path: Path) -> None:
    phases = record.phases_from_polls([poll(0, 0, 0), poll(10, 1, 0)], 1.0, 20)
    frames = [record.Frame(t, tmp_path / f"{t}.jpg") for t in (1.0, 8.5, 9.5, 12.0, 19.5)]
    picks = record.still_frames(phases, frames)
    assert [(p.id, f.wall_s) for p, f in picks] == [("p0", 8.5), ("p1", 12.0)]
