"""Child processes of the local stack: own process group, parent-death signal, always reaped."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
from collections.abc import Mapping, Sequence
from pathlib import Path

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    # Runs in the child between fork and exec: if the supervisor is SIGKILLed, the kernel sends
    # SIGTERM to this child, so an unattended booth machine never collects orphan workers.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class ChildProcess:
    """One supervised program; its output goes to a log file."""

    def __init__(
        self, name: str, argv: Sequence[str], env: Mapping[str, str], log_path: Path
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.env = dict(env)
        self.log_path = log_path
        self._proc: asyncio.subprocess.Process | None = None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def returncode(self) -> int | None:
        return self._proc.returncode if self._proc else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.returncode is None

    async def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self._proc = await asyncio.create_subprocess_exec(
                *self.argv,
                env=self.env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )

    async def wait(self) -> int:
        assert self._proc is not None, "wait() before start()"
        return await self._proc.wait()

    def signal(self, signum: int) -> None:
        """Signal the whole process group (the program and anything it spawned)."""
        if self._proc is not None and self._proc.returncode is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self._proc.pid, signum)

    async def stop(self, grace_s: float) -> int | None:
        """SIGTERM, wait up to `grace_s`, then SIGKILL; always reaps."""
        if self._proc is None:
            return None
        if self._proc.returncode is None:
            self.signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self._proc.wait(), timeout=grace_s)
            except TimeoutError:
                self.signal(signal.SIGKILL)
                await self._proc.wait()
        # The group may hold helpers that outlived the leader.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._proc.pid, signal.SIGKILL)
        return self._proc.returncode

    def tail(self, lines: int = 20) -> str:
        """Last lines of the log, for error messages."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])
