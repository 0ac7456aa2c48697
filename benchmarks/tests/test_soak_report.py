"""The soak's verdicts: a leak, a growing fd or task count, lost arrivals or a traceback fail."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from demo_bench.soak_report import write_report


def result(rss: list[float], fds: int = 20, tasks_growth: int = 0) -> dict[str, Any]:
    samples = [
        {"t_s": i, "demo_h": i / 100, "rss_mb": r, "fds": fds + i * tasks_growth,
         "threads": 6, "tasks": 10 + i * tasks_growth, "loop_lag_ms": 30.0,
         "conversations": 50, "in_flight": 3, "phase": "p"}
        for i, r in enumerate(rss)
    ]  # fmt: skip
    return {
        "mode": "preset cycle", "wall_s": 100, "speed": 30, "booth_hours": 8, "load_scale": 0.1,
        "summary": {}, "unaccounted": [], "totals": {}, "healthy_at_end": True,
        "keda_paused_after_stop": None, "phase_overruns": [], "presets_played": 5,
        "samples": samples, "log_problems": [],
    }  # fmt: skip


def test_flat_run_passes_and_writes_plots(tmp_path: Path) -> None:
    assert write_report(result([100.0] * 20 + [101.0] * 80), tmp_path)
    assert (tmp_path / "rss_mb.svg").read_text().startswith("<svg")
    assert "| every arrival accounted | pass |" in (tmp_path / "soak.md").read_text()


def test_leaks_and_losses_fail(tmp_path: Path) -> None:
    leak = [100.0 + i * 0.2 for i in range(100)]  # +~16 % over the measured part
    assert not write_report(result(leak), tmp_path)
    assert "| RSS growth after warm-up < 5% | FAIL |" in (tmp_path / "soak.md").read_text()
    assert not write_report(result([100.0] * 100, tasks_growth=2), tmp_path)
    lost = result([100.0] * 100) | {"unaccounted": ["chat: arrivals 5 != ..."]}
    assert not write_report(lost, tmp_path)
    crashed = result([100.0] * 100) | {"log_problems": ["Traceback (most recent call last):"]}
    assert not write_report(crashed, tmp_path)
