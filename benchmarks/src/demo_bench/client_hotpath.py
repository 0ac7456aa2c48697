"""Benchmark section `client-hotpath`: what a streamed SSE event costs the load generator on one
core, the client's path before 2026-12-07 (the baseline) beside today's in the same run, and
its TTFT beside AIPerf's on the same endpoint.

Every party is its own process: the SSE source (`client_sse_source`: Dynamo-shaped compact
chunks with cumulative usage, at a fixed pace) on the other CPUs; the client under test
(`client_drive`: the real Engine, StreamingClient and Prometheus metrics) or AIPerf on CPU 0,
one at a time. Variants of the client:
- `baseline`: AiohttpTransport + SSEParser + a full JSON parse of every event (before);
- `aiohttp-fast`: the byte checks on aiohttp (what the parse alone saves);
- `streaming`: StreamingHttpTransport + the byte checks (the app's client now).
On a shared machine the parties under test get a larger share of their CPU: each runs in its
own session, and with the kernel's autogroups a session's share is set by its autogroup's
nice value (`/proc/PID/autogroup`), not the process's own; the report says whether it took.
Results: a dict (run.py stores it in results.json), `client-hotpath.md` and the raw files.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import psutil

from demo_bench.aiperf_runner import AiperfRun, aiperf_argv, offline_env, parse_aiperf
from demo_bench.client_drive import DriveSpec, DriveStep
from demo_bench.client_hotpath_report import MARKDOWN_NAME, render_markdown, verdicts
from demo_bench.client_stats import Window, cores_used
from demo_bench.procs import BenchError, CpuSampler, Pinning, pinned, process_tree, wait_for_port
from demo_common.net import free_port
from localcluster.modeldir import write_model_dir

MODEL = "meta-llama/Llama-3.1-8B-Instruct"
VARIANTS: dict[str, tuple[str, str]] = {  # name: (transport, event parsing)
    "baseline": ("aiohttp", "full"),
    "aiohttp-fast": ("aiohttp", "fast"),
    "streaming": ("streaming", "fast"),
}
Log = Callable[[str], None]


@dataclass(frozen=True)
class HotPlan:
    streams: tuple[int, ...]  # concurrent streams offered, one step each
    step_s: float
    variants: tuple[str, ...]
    interval_ms: float = 30.0  # between one stream's events: 660 streams = 22k events/s
    osl: int = 100
    aiperf_rate_rps: float = 20.0
    aiperf_s: float = 20.0
    isl: int = 200
    autogroup_nice: int = -10  # the share of the CPU the measured sessions get (see above)


FULL = HotPlan(streams=(660, 990), step_s=15.0, variants=tuple(VARIANTS))
QUICK = HotPlan(streams=(660,), step_s=8.0, variants=("baseline", "streaming"), aiperf_s=8.0)


def favour(pid: int, nice: int) -> bool:
    """Set the autogroup nice of `pid`'s session; False where the kernel does not allow it."""
    try:
        Path(f"/proc/{pid}/autogroup").write_text(f"{nice}\n")
    except OSError:
        return False
    return True


class _HotBench:
    def __init__(self, workdir: Path, plan: HotPlan, log: Log) -> None:
        self.workdir = workdir
        self.plan = plan
        self.log = log
        self.pins = Pinning.plan()
        self.sampler = CpuSampler()
        self.env = dict(os.environ)  # read once here, at the edge; children get copies
        self.favoured: list[bool] = []

    def started(self, name: str, proc: subprocess.Popen[bytes], root: psutil.Process) -> None:
        self.favoured.append(favour(proc.pid, self.plan.autogroup_nice))
        self.sampler.watch(name, root)

    def drive(self, name: str, spec: DriveSpec) -> dict[str, Any]:
        spec_path = self.workdir / f"drive-{name}.json"
        out = self.workdir / f"drive-{name}.out.json"
        spec_path.write_text(spec.model_dump_json(indent=1))
        argv = [sys.executable, "-m", "demo_bench.client_drive", str(spec_path), str(out)]
        log_path = self.workdir / f"drive-{name}.log"
        with process_tree(pinned(argv, self.pins.client), self.env, log_path) as (proc, root):
            self.started("client", proc, root)
            code = proc.wait(timeout=sum(s.duration_s for s in spec.steps) + spec.drain_s + 180)
            samples = self.sampler.forget("client")
        if code != 0:
            raise BenchError(f"client_drive exited with {code}; see {log_path}")
        result: dict[str, Any] = json.loads(out.read_text())
        for step in result["steps"]:
            window = Window(*step["window_ns"])
            step["source_cpu_cores"] = cores_used(self.sampler.samples.get("source", []), window)
            step["client_tree_cpu_cores"] = cores_used(samples, window)  # measured as AIPerf's
            for cpus in ("cpus-client", "cpus-source"):
                step[f"{cpus}_busy"] = cores_used(self.sampler.samples.get(cpus, []), window)
        return result

    def capacity(self, url: str, variant: str) -> list[dict[str, Any]]:
        p = self.plan
        life_s = p.osl * p.interval_ms / 1000
        transport, parsing = VARIANTS[variant]
        self.log(f"client-hotpath: {variant}, streams {p.streams} ...")
        spec = DriveSpec(
            base_url=url, model=MODEL, isl_tokens=p.isl, max_tokens=p.osl,
            steps=[DriveStep(rate_rps=n / life_s, duration_s=p.step_s, settle_s=life_s + 1)
                   for n in p.streams],
            drain_s=life_s + 2, transport=transport, event_parsing=parsing,  # type: ignore[arg-type]
        )  # fmt: skip
        steps: list[dict[str, Any]] = self.drive(f"capacity-{variant}", spec)["steps"]
        for step, n in zip(steps, p.streams, strict=True):
            step["offered_streams"] = n
        return steps

    def aiperf(self, exe: str, url: str, model_dir: Path) -> dict[str, Any]:
        p = self.plan
        out = self.workdir / "aiperf"
        shutil.rmtree(out, ignore_errors=True)
        run = AiperfRun(
            url=url, model=MODEL, tokenizer_dir=model_dir, isl_tokens=p.isl, osl_tokens=p.osl,
            rate_rps=p.aiperf_rate_rps, request_count=round(p.aiperf_rate_rps * p.aiperf_s),
            artifact_dir=out,
        )  # fmt: skip
        self.log(f"client-hotpath: AIPerf, {run.request_count} requests ...")
        argv = pinned(aiperf_argv(Path(exe), run), self.pins.client)
        with process_tree(argv, offline_env(self.env), out.with_suffix(".log")) as (proc, root):
            self.started("aiperf", proc, root)
            code = proc.wait(timeout=p.aiperf_s * 4 + 180)
            samples = self.sampler.forget("aiperf")
        if code != 0:
            raise BenchError(f"AIPerf exited with {code}; see {out.with_suffix('.log')}")
        result = parse_aiperf(out)
        if result["load_window_wall_ns"] is not None:  # its profiling phase only
            offset = time.time_ns() - time.perf_counter_ns()
            first, last = result["load_window_wall_ns"]
            result["client_cpu_cores"] = cores_used(samples, Window(first - offset, last - offset))
        return result

    def loadgen_like_aiperf(self, url: str) -> dict[str, Any]:
        p = self.plan
        inputs = self.workdir / "aiperf" / "inputs.json"
        self.log("client-hotpath: loadgen (streaming) on AIPerf's prompts ...")
        spec = DriveSpec(
            base_url=url, model=MODEL, prompts_file=inputs if inputs.exists() else None,
            isl_tokens=p.isl, max_tokens=p.osl, drain_s=p.osl * p.interval_ms / 1000 + 2,
            steps=[DriveStep(rate_rps=p.aiperf_rate_rps, duration_s=p.aiperf_s, settle_s=1.0)],
        )  # fmt: skip
        step: dict[str, Any] = self.drive("aiperf-twin", spec)["steps"][0]
        return step


def run(workdir: Path, quick: bool, log: Log) -> dict[str, Any]:
    workdir.mkdir(parents=True, exist_ok=True)
    bench = _HotBench(workdir, QUICK if quick else FULL, log)
    plan = bench.plan
    results: dict[str, Any] = {
        "mode": "quick" if quick else "full",
        "plan": asdict(plan),
        "pinning": bench.pins.describe(),
        "variants": {
            v: dict(zip(("transport", "event_parsing"), VARIANTS[v], strict=True))
            for v in plan.variants
        },
        "capacity": {},
        "notes": [],
    }
    exe = shutil.which("aiperf")
    if exe is None:
        results["notes"].append("AIPerf not run: no `aiperf` on PATH (`make tools` installs it)")
    port = free_port()
    argv = [sys.executable, "-m", "demo_bench.client_sse_source", "--port", str(port),
            "--interval-ms", f"{plan.interval_ms:g}"]  # fmt: skip
    with (
        bench.sampler,
        process_tree(pinned(argv, bench.pins.stack), bench.env, workdir / "source.log") as (
            proc,
            root,
        ),
    ):
        wait_for_port("127.0.0.1", port, 30, proc)
        bench.started("source", proc, root)
        if bench.pins.client is not None:  # everything on each CPU, ours and others'
            bench.sampler.watch_cpus("cpus-client", Pinning.indices(bench.pins.client))
            bench.sampler.watch_cpus("cpus-source", Pinning.indices(bench.pins.stack))
        url = f"http://127.0.0.1:{port}"
        for variant in plan.variants:
            results["capacity"][variant] = bench.capacity(url, variant)
        if exe is not None:
            try:
                model_dir = write_model_dir(workdir / "model", "8b")
                results["aiperf"] = bench.aiperf(exe, url, model_dir)
            except BenchError as exc:  # the baseline failing must not hide ours
                results["notes"].append(f"AIPerf failed: {exc}")
        results["loadgen_like_aiperf"] = bench.loadgen_like_aiperf(url)
    results["autogroup_nice"] = plan.autogroup_nice if all(bench.favoured) else None
    results["verdicts"] = verdicts(results)
    (workdir / MARKDOWN_NAME).write_text(render_markdown(results))
    log(f"client-hotpath: wrote {workdir / MARKDOWN_NAME}")
    return results
