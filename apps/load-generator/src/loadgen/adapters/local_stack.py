"""The embedded local stack as a child process (`localcluster up`), for `loadgen demo`.

The load generator never imports the local stack: it starts it like any other program and
reaches it over the wire (frontend, pool API, Prometheus), exactly as it reaches the cluster.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import tempfile
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from loadgen.errors import LoadgenError

STOP_GRACE_S = 30.0  # the stack drains its workers on SIGTERM; then SIGKILL


@dataclass(frozen=True)
class StackAddresses:
    frontend_url: str
    prometheus_url: str
    control_url: str
    model_name: str


class LocalStackError(LoadgenError):
    """The local stack could not be started (its own message is on the console above)."""

    def __init__(self, message: str, exit_code: int | None = None) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@contextlib.asynccontextmanager
async def local_stack_process(
    argv: Sequence[str], *, startup_timeout_s: float = 300.0
) -> AsyncIterator[StackAddresses]:
    """Run `python -m localcluster up ARGV` until the block ends; yields its addresses."""
    with tempfile.TemporaryDirectory(prefix="loadgen-demo-") as tmp:
        ready = Path(tmp) / "stack.json"
        command = [sys.executable, "-m", "localcluster", "up", *argv, "--ready-file", str(ready)]
        # Its own process group: Ctrl-C reaches us, and we stop the stack in order.
        process = await asyncio.create_subprocess_exec(*command, start_new_session=True)
        try:
            yield await _wait_ready(process, ready, startup_timeout_s)
        finally:
            await _stop(process)


async def _wait_ready(
    process: asyncio.subprocess.Process, ready: Path, timeout_s: float
) -> StackAddresses:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not await asyncio.to_thread(ready.is_file):
        if process.returncode is not None:
            code = process.returncode
            raise LocalStackError(f"the local stack exited with code {code} before it was up", code)
        if loop.time() > deadline:
            raise LocalStackError(f"the local stack was not up after {timeout_s:g} s")
        await asyncio.sleep(0.1)
    info = json.loads(await asyncio.to_thread(ready.read_text))
    return StackAddresses(**{k: str(info[k]) for k in StackAddresses.__dataclass_fields__})


async def _stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
    try:
        await asyncio.wait_for(process.wait(), STOP_GRACE_S)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        await process.wait()
