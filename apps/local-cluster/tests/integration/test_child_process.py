"""ChildProcess on real processes: SIGTERM, then SIGKILL after the grace time, whole group."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

import psutil
import pytest

from localcluster.processes import ChildProcess

pytestmark = pytest.mark.integration

# Ignores SIGTERM (as a worker stuck in a drain would), and leaves a grandchild in its group.
STUBBORN = """
import signal, subprocess, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
print("ready", flush=True)
time.sleep(600)
"""
POLITE = """
import signal, sys, time
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
print("ready", flush=True)
time.sleep(600)
"""


async def started(tmp_path: Path, code: str) -> ChildProcess:
    child = ChildProcess("probe", [sys.executable, "-c", code], dict(os.environ), tmp_path / "l")
    await child.start()
    for _ in range(600):  # the child says when its handlers are set
        if "ready" in child.tail():
            break
        await asyncio.sleep(0.05)
    assert "ready" in child.tail()
    return child


async def test_sigterm_ignored_escalates_to_sigkill_of_the_group(tmp_path: Path) -> None:
    child = await started(tmp_path, STUBBORN)
    assert child.pid is not None
    group = [p.pid for p in psutil.Process(child.pid).children(recursive=True)]
    assert len(group) == 1
    began = time.monotonic()
    code = await child.stop(grace_s=1.0)
    took_s = time.monotonic() - began
    assert code == -signal.SIGKILL
    assert 1.0 <= took_s < 1.0 + 10  # waited out the grace time, then killed at once
    assert gone(group), "the grandchild outlived the group kill"


def gone(pids: list[int], timeout_s: float = 10.0) -> bool:
    """True once none of `pids` runs (a zombie waiting for init to reap it counts as gone)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        alive = []
        for pid in pids:
            try:
                if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                    alive.append(pid)
            except psutil.NoSuchProcess:
                pass
        if not alive:
            return True
        time.sleep(0.05)
    return False


async def test_a_process_that_honours_sigterm_is_not_killed(tmp_path: Path) -> None:
    child = await started(tmp_path, POLITE)
    began = time.monotonic()
    code = await child.stop(grace_s=30.0)
    assert code == 0
    assert time.monotonic() - began < 30
