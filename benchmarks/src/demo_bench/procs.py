"""Process plumbing of the benchmarks: pinned process trees, their CPU over time,
and plain HTTP reads of the frontend (metrics scrape, readiness)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil


class BenchError(Exception):
    """Root of the benchmarks' errors: a step could not run (process failed, tool missing)."""


@dataclass(frozen=True)
class Pinning:
    """Which CPUs the load generator (or AIPerf) and the stack get; None = not pinned."""

    client: str | None
    stack: str | None

    @staticmethod
    def indices(cpus: str | None) -> tuple[int, ...]:
        return () if cpus is None else tuple(int(c) for c in cpus.split(","))

    @classmethod
    def plan(cls) -> Pinning:
        """Client on CPU 0, everything else on the remaining CPUs, when there are 2+ of them
        and `taskset` exists; otherwise nothing is pinned (and the report says so)."""
        cpus = sorted(os.sched_getaffinity(0))
        if len(cpus) < 2 or shutil.which("taskset") is None:
            return cls(None, None)
        rest = ",".join(str(c) for c in cpus[1:])
        return cls(str(cpus[0]), rest)

    def describe(self) -> str:
        if self.client is None:
            return "not pinned (fewer than 2 CPUs or no taskset): client and stack share CPUs"
        return f"client (loadgen or AIPerf) on CPU {self.client}, stack on CPU {self.stack}"


def pinned(argv: Sequence[str], cpus: str | None) -> list[str]:
    """`argv` run under `taskset -c cpus` (children inherit the affinity)."""
    return list(argv) if cpus is None else ["taskset", "-c", cpus, *argv]


@contextmanager
def process_tree(
    argv: Sequence[str], env: Mapping[str, str], log_path: Path, cwd: Path | None = None
) -> Iterator[tuple[subprocess.Popen[bytes], psutil.Process]]:
    """Start `argv` in its own session; on exit SIGTERM the group, then SIGKILL after 60 s."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as out:
        proc = subprocess.Popen(
            list(argv), env=dict(env), cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    try:
        yield proc, psutil.Process(proc.pid)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def tree_cpu_s(root: psutil.Process) -> float:
    """CPU seconds used by a process and its descendants (reaped children included)."""
    total = 0.0
    try:
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    for p in procs:
        try:
            t = p.cpu_times()
            total += t.user + t.system + t.children_user + t.children_system
        except psutil.NoSuchProcess:
            continue
    return total


def cpus_busy_s(indices: Sequence[int]) -> float:
    """Seconds the given CPUs spent busy (any process, kernel included) since boot."""
    per_cpu = psutil.cpu_times(percpu=True)
    total = 0.0
    for i in indices:
        t = per_cpu[i]
        total += t.user + t.nice + t.system + getattr(t, "irq", 0.0)
        total += getattr(t, "softirq", 0.0) + getattr(t, "steal", 0.0)
    return total


class CpuSampler:
    """A thread sampling (perf_counter_ns, cumulative CPU s) of each named process tree,
    and of named CPU sets (busy time of everything running there: shows contention)."""

    def __init__(self, interval_s: float = 0.25) -> None:
        self._interval_s = interval_s
        self._roots: dict[str, psutil.Process] = {}
        self._cpu_sets: dict[str, tuple[int, ...]] = {}
        self.samples: dict[str, list[tuple[int, float]]] = {}
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="cpu-sampler", daemon=True)

    def watch(self, name: str, root: psutil.Process) -> None:
        with self._lock:
            self._roots[name] = root
            self.samples[name] = []
        self._take(name, root)

    def watch_cpus(self, name: str, indices: Sequence[int]) -> None:
        with self._lock:
            self._cpu_sets[name] = tuple(indices)
            self.samples[name] = [(time.perf_counter_ns(), cpus_busy_s(indices))]

    def forget(self, name: str) -> list[tuple[int, float]]:
        """Stop watching `name` (after one last sample); its samples."""
        with self._lock:
            root = self._roots.pop(name, None)
        if root is not None:
            self._take(name, root)
        return self.samples.get(name, [])

    def _take(self, name: str, root: psutil.Process) -> None:
        value = tree_cpu_s(root)
        with self._lock:
            series = self.samples.setdefault(name, [])
            if series and value < series[-1][1]:  # a child exited before being reaped
                value = series[-1][1]
            series.append((time.perf_counter_ns(), value))

    def _run(self) -> None:
        while not self._stop.wait(self._interval_s):
            with self._lock:
                roots = list(self._roots.items())
                cpu_sets = list(self._cpu_sets.items())
            for name, root in roots:
                self._take(name, root)
            for name, indices in cpu_sets:
                value = cpus_busy_s(indices)
                with self._lock:
                    self.samples[name].append((time.perf_counter_ns(), value))

    def __enter__(self) -> CpuSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def http_get(url: str, timeout_s: float = 5.0) -> str:
    with urllib.request.urlopen(url, timeout=timeout_s) as resp:
        return str(resp.read().decode())


def wait_for_model(
    base_url: str, model: str, timeout_s: float, proc: subprocess.Popen[bytes]
) -> None:
    """Until the frontend lists `model` and streams a token, or raise BenchError."""
    deadline = time.monotonic() + timeout_s
    body = json.dumps(
        {"model": model, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 2}
    ).encode()
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchError(f"the stack exited with {proc.returncode} while starting")
        try:
            models = json.loads(http_get(f"{base_url}/v1/models")).get("data", [])
            if any(m.get("id") == model for m in models):
                request = urllib.request.Request(
                    f"{base_url}/v1/chat/completions", data=body,
                    headers={"Content-Type": "application/json"},
                )  # fmt: skip
                with urllib.request.urlopen(request, timeout=10) as resp:
                    if resp.status == 200:
                        return
        except (urllib.error.URLError, OSError, ValueError):
            pass
        time.sleep(0.5)
    raise BenchError(f"{base_url} did not serve {model} within {timeout_s:.0f} s")


def wait_for_port(host: str, port: int, timeout_s: float, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchError(f"process exited with {proc.returncode} while starting")
        with socket.socket() as sock:
            if sock.connect_ex((host, port)) == 0:
                return
        time.sleep(0.1)
    raise BenchError(f"nothing listening on {host}:{port} after {timeout_s:.0f} s")
