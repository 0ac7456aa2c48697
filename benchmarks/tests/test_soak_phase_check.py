"""The soak's stuck-phase check measures phases on its own clock (the app clamps elapsed_s)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from demo_bench.soak import Soak


def soak() -> Soak:
    return Soak(argparse.Namespace(speed=30.0, sample_s=1.0), Path("unused"))


def auto(phase_id: str, duration_s: float = 90.0) -> dict[str, Any]:
    # What /api/scenario says of a frozen phase: elapsed_s pinned at the phase's length.
    phase = {"id": phase_id, "duration_s": duration_s, "elapsed_s": duration_s, "time_left_s": 0}
    return {"mode": "auto", "phase": phase}


def test_phases_that_end_on_time_are_not_flagged() -> None:
    s = soak()
    for t, phase in [(0, "a"), (2, "a"), (4, "b"), (7, "b"), (8, "c")]:
        s.check_phase(auto(phase), float(t))
    assert s.phase_overruns == []


def test_a_phase_seen_past_its_length_is_flagged_once() -> None:
    s = soak()
    for t in range(0, 60):  # 90 demo s at speed 30 = 3 wall s; bound 3.2 + 2 s
        s.check_phase(auto("kv-cache"), float(t))
    assert len(s.phase_overruns) == 1
    assert s.phase_overruns[0].startswith("kv-cache seen for 6 s")


def test_auto_mode_ending_by_itself_is_flagged() -> None:
    s = soak()
    s.check_phase(auto("a"), 0.0)
    s.check_phase({"mode": "manual", "phase": None}, 1.0)
    s.check_phase({"mode": "manual", "phase": None}, 2.0)
    assert len(s.phase_overruns) == 1
    assert "auto mode ended by itself" in s.phase_overruns[0]


def test_a_phase_with_time_left_is_not_flagged_however_late_the_samples() -> None:
    # Seen for 8 s of wall time, yet the app says 36 s of its 120 remain (samples ran late).
    s = soak()
    running = {"id": "kv-cache", "duration_s": 120.0, "elapsed_s": 84.0, "time_left_s": 36.0}
    for t in range(0, 9):
        s.check_phase({"mode": "auto", "phase": running}, float(t))
    assert s.phase_overruns == []
