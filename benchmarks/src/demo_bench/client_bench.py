"""Benchmark section `client`: the load generator's measurements against AIPerf (the baseline)
on the real local stack at the mocker's speedup 0 and 1, the TTFT the client adds, and its
capacity on one core.

Every party is its own process tree so each one's CPU is measured apart: the stack
(`localcluster up`, dev layout) pinned to the other CPUs, the load generator
(`client_drive`) or AIPerf pinned to CPU 0, one at a time. The real stack saturates first on
a small box, so the client's own ceiling is also measured against a minimal SSE source
(`client_sse_source`) on the stack's CPUs. Results: a dict (stored by run.py in
results.json), `client-bench.md` and the raw files under the section's folder.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from demo_bench.aiperf_runner import (
    AiperfRun,
    aiperf_argv,
    ensure_venv,
    offline_env,
    parse_aiperf,
)
from demo_bench.client_drive import DriveSpec, DriveStep
from demo_bench.client_report import MARKDOWN_NAME, TARGETS, render_markdown, verdicts
from demo_bench.client_stats import Window, cores_used, parse_histogram, server_view
from demo_bench.procs import (
    BenchError,
    CpuSampler,
    Pinning,
    http_get,
    pinned,
    process_tree,
    wait_for_model,
    wait_for_port,
)
from demo_common.net import free_port

REPO_ROOT = Path(__file__).resolve().parents[5]
DEV_MODEL = "meta-llama/Llama-3.1-8B-Instruct"
TTFT_HIST = "dynamo_frontend_time_to_first_token_seconds"
ITL_HIST = "dynamo_frontend_inter_token_latency_seconds"
Log = Callable[[str], None]


@dataclass(frozen=True)
class Comparison:
    """One AIPerf-vs-loadgen run: the same synthetic chat shape at one rate and speed."""

    name: str
    speed: float
    rate_rps: float
    isl: int
    osl: int
    duration_s: float


@dataclass(frozen=True)
class Plan:
    comparisons: tuple[Comparison, ...]
    stack_rates: tuple[float, ...]  # capacity steps against the real stack (speed 0)
    stack_osl: int
    stack_step_s: float
    source_streams: tuple[int, ...]  # capacity steps against the SSE source (target streams)
    source_interval_ms: float
    source_osl: int
    source_step_s: float
    added_rate_rps: float  # client-added TTFT against the SSE source
    added_s: float


FULL = Plan(
    comparisons=(
        Comparison("speed0-100rps", 0.0, 100.0, 200, 16, 30.0),
        Comparison("speed1-10rps", 1.0, 10.0, 500, 128, 40.0),
    ),
    stack_rates=(5.0, 10.0, 20.0, 40.0),
    stack_osl=256,
    stack_step_s=12.0,
    source_streams=(100, 200, 300, 400, 600),
    source_interval_ms=30.0,  # 300 streams x 33 events/s = the 10k events/s target
    source_osl=100,
    source_step_s=10.0,
    added_rate_rps=100.0,
    added_s=20.0,
)
QUICK = Plan(
    comparisons=(
        Comparison("speed0-100rps", 0.0, 100.0, 200, 16, 8.0),
        Comparison("speed1-10rps", 1.0, 10.0, 500, 128, 10.0),
    ),
    stack_rates=(10.0, 40.0),
    stack_osl=256,
    stack_step_s=8.0,
    source_streams=(150, 300),
    source_interval_ms=30.0,
    source_osl=100,
    source_step_s=8.0,
    added_rate_rps=100.0,
    added_s=8.0,
)


@dataclass(frozen=True)
class Stack:
    url: str
    model_dir: Path
    root_pid: int


class _Bench:
    def __init__(self, workdir: Path, plan: Plan, log: Log) -> None:
        self.workdir = workdir
        self.plan = plan
        self.log = log
        self.pins = Pinning.plan()
        self.sampler = CpuSampler()
        self.env = dict(os.environ)  # read once here, at the edge; children get copies

    # ----- the stack -------------------------------------------------------------------------
    @contextmanager
    def stack(self, speed: float) -> Iterator[Stack]:
        folder = self.workdir / f"stack-speed{speed:g}"
        shutil.rmtree(folder, ignore_errors=True)
        port = free_port()
        env = self.env | {
            "ENV": "dev", "SPEED": f"{speed:g}", "DEMO_FRONTEND_PORT": str(port),
            "DEMO_PROMETHEUS_PORT": str(free_port()), "DEMO_CONTROL_PORT": str(free_port()),
            "DEMO_WORKDIR": str(folder), "DEMO_READINESS_DELAY_S": "0",
        }  # fmt: skip
        argv = pinned([sys.executable, "-m", "localcluster", "up"], self.pins.stack)
        self.log(f"client: starting the stack (dev layout, speed {speed:g}) ...")
        with process_tree(argv, env, folder / "stack.log", cwd=REPO_ROOT) as (proc, root):
            url = f"http://127.0.0.1:{port}"
            wait_for_model(url, DEV_MODEL, timeout_s=180, proc=proc)
            self.sampler.watch("stack", root)
            try:
                yield Stack(url, folder / "artifacts" / "model", proc.pid)
            finally:
                self.sampler.forget("stack")

    def _frontend(self, stack: Stack) -> str:
        return http_get(f"{stack.url}/metrics")

    def _server(self, before: str, after: str) -> dict[str, Any]:
        labels = {"model": DEV_MODEL}
        ttft = server_view(
            parse_histogram(after, TTFT_HIST, labels), parse_histogram(before, TTFT_HIST, labels)
        )
        itl = server_view(
            parse_histogram(after, ITL_HIST, labels), parse_histogram(before, ITL_HIST, labels)
        )
        return {"ttft": ttft, "itl_mean_ms": itl["mean_ms"], "itl_p50_ms": itl["p50_ms"]}

    def _cores(self, name: str, window: Window) -> float | None:
        return cores_used(self.sampler.samples.get(name, []), window)

    # ----- the two clients -------------------------------------------------------------------
    def aiperf(self, exe: Path, stack: Stack, c: Comparison) -> dict[str, Any]:
        out = self.workdir / f"aiperf-{c.name}"
        shutil.rmtree(out, ignore_errors=True)
        run = AiperfRun(
            url=stack.url, model=DEV_MODEL, tokenizer_dir=stack.model_dir, isl_tokens=c.isl,
            osl_tokens=c.osl, rate_rps=c.rate_rps, request_count=round(c.rate_rps * c.duration_s),
            artifact_dir=out,
        )  # fmt: skip
        self.log(f"client: AIPerf {c.name} ({run.request_count} requests) ...")
        before = self._frontend(stack)
        argv = pinned(aiperf_argv(exe, run), self.pins.client)
        env = offline_env(self.env)
        started = time.perf_counter_ns()
        with process_tree(argv, env, out.with_suffix(".log")) as (proc, root):
            self.sampler.watch("aiperf", root)
            code = proc.wait(timeout=c.duration_s * 4 + 180)
            self.sampler.forget("aiperf")
        window = Window(started, time.perf_counter_ns())
        if code != 0:
            raise BenchError(f"AIPerf exited with {code}; see {out.with_suffix('.log')}")
        result = parse_aiperf(out)
        result["server"] = self._server(before, self._frontend(stack))
        result["client_cpu_cores_process_lifetime"] = self._cores("aiperf", window)
        if result["load_window_wall_ns"] is not None:  # its profiling phase only
            offset = time.time_ns() - time.perf_counter_ns()
            first, last = result["load_window_wall_ns"]
            window = Window(first - offset, last - offset)
        result["client_cpu_cores"] = self._cores("aiperf", window)
        result["stack_cpu_cores"] = self._cores("stack", window)
        result["client_cpus_busy"] = self._cores("cpus-client", window)
        result["stack_cpus_busy"] = self._cores("cpus-stack", window)
        return result

    def drive(self, name: str, spec: DriveSpec, watch_stack: str = "stack") -> dict[str, Any]:
        spec_path = self.workdir / f"drive-{name}.json"
        out = self.workdir / f"drive-{name}.out.json"
        spec_path.write_text(spec.model_dump_json(indent=1))
        argv = pinned(
            [sys.executable, "-m", "demo_bench.client_drive", str(spec_path), str(out)],
            self.pins.client,
        )
        with process_tree(argv, self.env, self.workdir / f"drive-{name}.log") as (proc, root):
            self.sampler.watch("loadgen", root)
            code = proc.wait(timeout=sum(s.duration_s for s in spec.steps) + spec.drain_s + 180)
            self.sampler.forget("loadgen")
        if code != 0:
            raise BenchError(f"client_drive exited with {code}; see drive-{name}.log")
        result: dict[str, Any] = json.loads(out.read_text())
        for step in result["steps"]:
            window = Window(*step["window_ns"])
            step["stack_cpu_cores"] = self._cores(watch_stack, window)
            step["client_cpus_busy"] = self._cores("cpus-client", window)
            step["stack_cpus_busy"] = self._cores("cpus-stack", window)
        return result

    def loadgen(self, stack: Stack, c: Comparison, prompts: Path | None) -> dict[str, Any]:
        self.log(f"client: loadgen {c.name} ...")
        before = self._frontend(stack)
        spec = DriveSpec(
            base_url=stack.url, model=DEV_MODEL, prompts_file=prompts, isl_tokens=c.isl,
            max_tokens=c.osl, steps=[DriveStep(rate_rps=c.rate_rps, duration_s=c.duration_s)],
        )  # fmt: skip
        result = self.drive(c.name, spec)
        step: dict[str, Any] = result["steps"][0]
        step["server"] = self._server(before, self._frontend(stack))
        return step

    # ----- capacity ---------------------------------------------------------------------------
    def capacity_stack(self, stack: Stack) -> list[dict[str, Any]]:
        p = self.plan
        self.log(f"client: capacity against the real stack, rates {p.stack_rates} ...")
        spec = DriveSpec(
            base_url=stack.url, model=DEV_MODEL, isl_tokens=200, max_tokens=p.stack_osl,
            steps=[DriveStep(rate_rps=r, duration_s=p.stack_step_s, settle_s=p.stack_step_s / 3)
                   for r in p.stack_rates],
            drain_s=5.0,
        )  # fmt: skip
        steps: list[dict[str, Any]] = self.drive("capacity-stack", spec)["steps"]
        return steps

    @contextmanager
    def source(self) -> Iterator[str]:
        port = free_port()
        argv = pinned(
            [sys.executable, "-m", "demo_bench.client_sse_source", "--port", str(port),
             "--interval-ms", f"{self.plan.source_interval_ms:g}"],
            self.pins.stack,
        )  # fmt: skip
        with process_tree(argv, self.env, self.workdir / "sse-source.log") as (proc, root):
            wait_for_port("127.0.0.1", port, 30, proc)
            self.sampler.watch("source", root)
            try:
                yield f"http://127.0.0.1:{port}"
            finally:
                self.sampler.forget("source")

    def capacity_source(self, url: str) -> list[dict[str, Any]]:
        p = self.plan
        life_s = p.source_osl * p.source_interval_ms / 1000  # one stream's length
        self.log(f"client: capacity against the SSE source, streams {p.source_streams} ...")
        spec = DriveSpec(
            base_url=url, model=DEV_MODEL, isl_tokens=200, max_tokens=p.source_osl,
            steps=[DriveStep(rate_rps=n / life_s, duration_s=p.source_step_s,
                             settle_s=min(life_s + 1, p.source_step_s / 2))
                   for n in p.source_streams],
            drain_s=life_s + 2,
        )  # fmt: skip
        steps: list[dict[str, Any]] = self.drive("capacity-source", spec, "source")["steps"]
        for step, n in zip(steps, p.source_streams, strict=True):
            step["target_streams"] = n
        return steps

    def added_ttft_source(self, url: str) -> dict[str, Any]:
        p = self.plan
        self.log(f"client: client-added TTFT at {p.added_rate_rps:g} RPS (SSE source) ...")
        spec = DriveSpec(
            base_url=url, model=DEV_MODEL, isl_tokens=200, max_tokens=16, server_timing=True,
            steps=[DriveStep(rate_rps=p.added_rate_rps, duration_s=p.added_s, settle_s=1.0)],
            drain_s=5.0,
        )  # fmt: skip
        step: dict[str, Any] = self.drive("added-ttft-source", spec, "source")["steps"][0]
        return step


def run(workdir: Path, quick: bool, log: Callable[[str], None]) -> dict[str, Any]:
    workdir.mkdir(parents=True, exist_ok=True)
    bench = _Bench(workdir, QUICK if quick else FULL, log)
    results: dict[str, Any] = {
        "mode": "quick" if quick else "full",
        "pinning": bench.pins.describe(),
        "targets": TARGETS,
        "comparisons": {},
        "notes": [],
    }
    exe: Path | None = None
    try:
        uv = bench.env.get("UV") or shutil.which("uv") or "uv"
        exe = ensure_venv(REPO_ROOT / "build" / "aiperf-venv", uv, log)
    except (BenchError, OSError) as exc:
        results["notes"].append(f"AIPerf not run: {exc}")
    with bench.sampler:
        if bench.pins.client is not None:
            bench.sampler.watch_cpus("cpus-client", Pinning.indices(bench.pins.client))
            bench.sampler.watch_cpus("cpus-stack", Pinning.indices(bench.pins.stack))
        for speed in sorted({c.speed for c in bench.plan.comparisons}):
            with bench.stack(speed) as stack:
                for c in (c for c in bench.plan.comparisons if c.speed == speed):
                    entry: dict[str, Any] = {"scenario": c.__dict__}
                    if exe is not None:
                        try:
                            entry["aiperf"] = bench.aiperf(exe, stack, c)
                        except BenchError as exc:  # the baseline failing must not hide ours
                            results["notes"].append(f"AIPerf {c.name} failed: {exc}")
                    inputs = workdir / f"aiperf-{c.name}" / "inputs.json"
                    entry["loadgen"] = bench.loadgen(stack, c, inputs if inputs.exists() else None)
                    results["comparisons"][c.name] = entry
                if speed == 0:
                    results["capacity_stack"] = bench.capacity_stack(stack)
        with bench.source() as url:
            results["added_ttft_source"] = bench.added_ttft_source(url)
            results["capacity_source"] = bench.capacity_source(url)
    results["verdicts"] = verdicts(results)
    (workdir / MARKDOWN_NAME).write_text(render_markdown(results))
    log(f"client: wrote {workdir / MARKDOWN_NAME}")
    return results
