"""Where the app's CPU goes, per part, from py-spy's samples of its process.

py-spy reads the interpreter's stacks from outside the process (`--nonblocking`: without
pausing it), `rate` times a second. A sample is recorded only while a thread runs (a loop
waiting in epoll is idle and not recorded), so a part's samples / (rate x seconds) is the CPU it
used, in cores. Each sample is charged to the innermost frame that belongs to a known part: a
`json.loads` called by the SSE reader counts as streams, a pydantic check called by the
controller as controller; what only the event loop runs (callbacks, timers) counts as the loop.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

# (part, path fragments of its frames); the first part matching the innermost frame wins.
PARTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("streams: HTTP transport and SSE parsing", ("loadgen/client/",)),
    (
        "accounting: records, live window, stats",
        (
            "loadgen/records.py",
            "loadgen/metrics/live.py",
            "loadgen/metrics/stats.py",
            "loadgen/metrics/tally.py",
            "loadgen/metrics/recorder.py",
            "loadgen/metrics/snapshot.py",
        ),
    ),
    (
        "Prometheus exporter",
        ("prometheus_client/", "loadgen/metrics/prometheus.py", "loadgen/metrics/registry.py"),
    ),
    ("API and UI", ("loadgen/api/", "fastapi/", "starlette/", "uvicorn/", "h11/", "httptools/")),
    ("controller and scalers", ("loadgen/controller/", "loadgen/adapters/")),
    ("engine: arrivals, workloads, dispatch", ("loadgen/engine/", "loadgen/workloads/")),
    ("aiohttp (Prometheus queries, follow-up model)", ("aiohttp/", "yarl/", "multidict/")),
    ("rehearsal harness (not part of the app)", ("demo_bench/", "psutil/")),
    # py-spy may catch the loop inside its epoll call before the kernel parks the thread (short
    # timeouts with many timers): busy to py-spy, mostly idle to the kernel. An upper bound.
    (EPOLL := "event loop: epoll call (upper bound, partly idle)", ("selectors.py",)),
    ("event loop: socket reads and callback dispatch", ("asyncio/",)),
)
OTHER = "other (interpreter, GC, logging, stdlib called from the loop)"


@dataclass(frozen=True)
class PartCost:
    part: str
    samples: int
    share: float  # of the busy samples
    cores: float  # samples / (rate x seconds)


def parse_collapsed(text: str) -> list[tuple[list[str], int]]:
    """py-spy's `--format raw` output: one `frame;frame;...;frame count` line per stack,
    outermost frame first, each frame `function (file:line)`."""
    out = []
    for line in text.splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            out.append((stack.split(";"), int(count)))
    return out


def part_of(stack: list[str]) -> str:
    for frame in reversed(stack):
        path = frame.rpartition("(")[2]
        for part, fragments in PARTS:
            if any(f in path for f in fragments):
                return part
    return OTHER


def cost_by_part(
    stacks: Iterable[tuple[list[str], int]], rate_hz: float, seconds: float
) -> list[PartCost]:
    totals: dict[str, int] = {}
    for stack, count in stacks:
        part = part_of(stack)
        totals[part] = totals.get(part, 0) + count
    busy = sum(totals.values())
    order = [p for p, _ in PARTS] + [OTHER]
    return [
        PartCost(p, totals[p], totals[p] / busy, totals[p] / (rate_hz * seconds))
        for p in sorted(totals, key=lambda p: (-totals[p], order.index(p)))
    ]


def markdown(costs: list[PartCost], meta: Mapping[str, object]) -> str:
    lines = [
        "# The app's CPU per part (py-spy)",
        "",
        ", ".join(f"{k}: {v}" for k, v in meta.items()),
        "",
        "| part | samples | share of busy time | cores (mean over the run) |",
        "|---|---|---|---|",
    ]
    lines += [f"| {c.part} | {c.samples} | {100 * c.share:.1f} % | {c.cores:.3f} |" for c in costs]
    total = sum(c.cores for c in costs)
    working = sum(c.cores for c in costs if c.part != EPOLL)
    lines += [
        "",
        f"All parts: {total:.3f} cores on average; without the epoll row {working:.3f}.",
    ]
    return "\n".join(lines) + "\n"


class Profiler:
    """`py-spy record` on a process for as long as the context lasts (stopped with SIGINT,
    on which py-spy writes its file)."""

    def __init__(self, pid: int, out: Path, rate_hz: int = 50) -> None:
        self.pid, self.out, self.rate_hz = pid, out, rate_hz
        self._proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Profiler:
        exe = shutil.which("py-spy")
        if exe is None:
            raise OSError("py-spy is not installed (it comes with `make install`)")
        self.out.parent.mkdir(parents=True, exist_ok=True)
        self._proc = subprocess.Popen(
            [exe, "record", "--pid", str(self.pid), "--rate", str(self.rate_hz),
             "--nonblocking", "--full-filenames", "--format", "raw", "--output", str(self.out)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        return self

    def __exit__(self, *_exc: object) -> None:
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=60)
        if not self.out.exists():
            message = err.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
            raise OSError(f"py-spy wrote no profile: {message[0]}")
