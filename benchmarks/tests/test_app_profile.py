"""The app's CPU split: py-spy's collapsed stacks charged to the part of their innermost frame."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from demo_bench.app_profile import OTHER, Profiler, cost_by_part, parse_collapsed, part_of

SITE = "/repo/.venv/lib/python3.11/site-packages"
RAW = f"""\
_run (asyncio/events.py:84);data_received (/repo/apps/load-generator/src/loadgen/client/transport.py:90);loads (json/decoder.py:337) 30
_run (asyncio/events.py:84);_on_done (/repo/apps/load-generator/src/loadgen/metrics/live.py:51) 10
_run (asyncio/events.py:84);collect ({SITE}/prometheus_client/registry.py:97) 5
_run_once (asyncio/base_events.py:1900);select (selectors.py:468) 4
_run (asyncio/events.py:84);_tick (/repo/apps/load-generator/src/loadgen/controller/core.py:300);model_validate ({SITE}/pydantic/main.py:596) 1
<module> (<string>:1) 2
"""  # noqa: E501


def test_each_stack_goes_to_its_innermost_known_frame() -> None:
    stacks = parse_collapsed(RAW + "garbage line\n")
    assert len(stacks) == 6
    parts = [part_of(s) for s, _ in stacks]
    assert parts == [
        "streams: HTTP transport and SSE parsing",  # json called by the transport
        "accounting: records, live window, stats",
        "Prometheus exporter",
        "event loop: epoll call (upper bound, partly idle)",
        "controller and scalers",  # pydantic called by the controller
        OTHER,
    ]


def test_costs_are_shares_of_busy_samples_and_cores_of_the_run() -> None:
    costs = cost_by_part(parse_collapsed(RAW), rate_hz=10, seconds=5)
    assert [c.samples for c in costs] == [30, 10, 5, 4, 2, 1]
    assert sum(c.share for c in costs) == pytest.approx(1.0)
    assert costs[0].cores == pytest.approx(30 / 50)


def test_py_spy_samples_a_running_process(tmp_path: Path) -> None:
    # A busy loop in a module whose path says loadgen/client/: py-spy must see it there.
    pkg = tmp_path / "loadgen" / "client"
    pkg.mkdir(parents=True)
    (pkg / "busy.py").write_text(
        "import time\n"
        "def spin(until):\n"
        "    while time.monotonic() < until:\n"
        "        sum(range(1000))\n"
        "spin(time.monotonic() + 30)\n"
    )
    child = subprocess.Popen([sys.executable, str(pkg / "busy.py")])
    out = tmp_path / "samples.txt"
    try:
        time.sleep(0.5)
        with Profiler(child.pid, out, rate_hz=50):
            time.sleep(3)
    finally:
        child.kill()
        child.wait()
    costs = cost_by_part(parse_collapsed(out.read_text()), rate_hz=50, seconds=3)
    top = costs[0]
    assert top.part == "streams: HTTP transport and SSE parsing"
    assert top.share > 0.9
    assert top.cores > 0.3  # a busy loop on a loaded 2-core machine still gets a good part
