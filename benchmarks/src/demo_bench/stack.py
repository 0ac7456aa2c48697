"""Benchmark: cold start of `make demo` to the first streamed token, and the local stack's CPU
and memory idle and under a moderate chat load (prod layout, all 8 GPU slots in use).

The stack runs as its own process tree (the real CLI), so its cost is measured apart from the
load driver, which runs in this process and is reported on its own line.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import psutil

from demo_bench.procs import process_tree, tree_cpu_s
from demo_common.net import free_port

REPO_ROOT = Path(__file__).resolve().parents[3]  # benchmarks/src/demo_bench/stack.py
TARGETS = {"cold_start_s": 60.0, "cpu_cores_at_load": 1.5, "rss_mb": 2048.0}


def _ports_env(workdir: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DEMO_FRONTEND_PORT=str(free_port()),
        DEMO_PROMETHEUS_PORT=str(free_port()),
        DEMO_CONTROL_PORT=str(free_port()),
        LOADGEN_PORT=str(free_port()),
        DEMO_WORKDIR=str(workdir),
        **extra,
    )
    return env


def _first_token_s(frontend_url: str, model: str, started: float, timeout_s: float) -> float:
    """Seconds from `started` until a streamed completion delivers its first content token."""
    body = {
        "model": model,
        "messages": [{"role": "user", "content": "Say hello to the booth."}],
        "max_tokens": 4,
        "stream": True,
    }
    while time.monotonic() - started < timeout_s:
        try:
            with httpx.stream(
                "POST", f"{frontend_url}/v1/chat/completions", json=body, timeout=10
            ) as resp:
                if resp.status_code == 200:
                    for line in resp.iter_lines():
                        if '"content":"' in line:
                            return time.monotonic() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"no streamed token within {timeout_s:.0f} s")


def cold_start(workdir: Path, env_name: str = "prod") -> dict[str, Any]:
    """`make demo` (already installed) until the first streamed token through the frontend."""
    env = _ports_env(workdir / "cold", ENV=env_name, SPEED="1")
    started = time.monotonic()
    with process_tree(["make", "-s", "demo"], env, workdir / "cold-start.log", cwd=REPO_ROOT):
        seconds = _first_token_s(
            f"http://127.0.0.1:{env['DEMO_FRONTEND_PORT']}",
            "meta-llama/Llama-3.1-70B-Instruct" if env_name == "prod"
            else "meta-llama/Llama-3.1-8B-Instruct",
            started,
            timeout_s=180,
        )  # fmt: skip
    return {"env": env_name, "seconds": round(seconds, 2), "target_s": TARGETS["cold_start_s"]}


def _tree_rss_mb(root: psutil.Process) -> tuple[float, int]:
    """(RSS MB summed over the tree, process count)."""
    rss = 0.0
    procs = [root, *root.children(recursive=True)]
    for p in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            rss += p.memory_info().rss / 2**20
    return rss, len(procs)


async def _window(root: psutil.Process, driver: psutil.Process | None, seconds: float
                  ) -> dict[str, float]:  # fmt: skip
    """CPU of the stack's tree and of the load generator's, and the stack's peak RSS."""
    stack0 = tree_cpu_s(root)
    driver0 = tree_cpu_s(driver) if driver else 0.0
    t0 = time.monotonic()
    peak_rss = 0.0
    count = 0
    while time.monotonic() - t0 < seconds:
        await asyncio.sleep(1.0)
        rss, count = _tree_rss_mb(root)
        peak_rss = max(peak_rss, rss)
    wall = time.monotonic() - t0
    return {
        "stack_cpu_cores": round((tree_cpu_s(root) - stack0) / wall, 3),
        "stack_rss_mb_peak": round(peak_rss, 1),
        "stack_processes": count,
        "load_generator_cpu_cores": round(
            ((tree_cpu_s(driver) - driver0) / wall) if driver else 0.0, 3
        ),
        "seconds": round(wall, 1),
    }


async def _scale_to_all_slots(control: str) -> None:
    """All 8 GPU slots: 3 prefill + 5 decode (the prod layout after every scale-out)."""
    async with httpx.AsyncClient(timeout=10) as http:
        await http.put(f"{control}/pools/prefill", json={"replicas": 3})
        await http.put(f"{control}/pools/decode", json={"replicas": 5})
        for _ in range(120):
            pools = (await http.get(f"{control}/pools")).json()["pools"]
            if pools["prefill"]["ready"] == 3 and pools["decode"]["ready"] == 5:
                return
            await asyncio.sleep(0.5)
    raise TimeoutError("pools did not reach 3 + 5 ready workers")


async def _under_preset(
    root: psutil.Process,
    driver: psutil.Process,
    app: str,
    token: str,
    preset: str,
    warm_s: float,
    load_s: float,
) -> dict[str, Any]:
    """Apply a preset in the real load generator app, start it, measure, stop."""
    auth = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(timeout=30) as http:
        for _ in range(600):
            with contextlib.suppress(httpx.HTTPError):
                if (await http.get(f"{app}/healthz")).status_code == 200:
                    break
            await asyncio.sleep(0.1)
        (await http.post(f"{app}/api/presets/{preset}", headers=auth)).raise_for_status()
        (await http.post(f"{app}/api/workload/start", headers=auth)).raise_for_status()
        await asyncio.sleep(warm_s)  # let concurrency build up first
        loaded = await _window(root, driver, load_s)
        status = (await http.get(f"{app}/api/status")).json()
        (await http.post(f"{app}/api/workload/stop", headers=auth)).raise_for_status()
    per_workload = {
        name: {
            "target_rps": w["target_rps"],
            "achieved_rps": w["achieved_rps"],
            "ok": w["ok"],
            "errors": w["errors"],
            "output_tokens_per_s": w["output_tokens_per_s"],
            "ttft_p50_ms": w["ttft_ms"]["p50"],
            "itl_p50_ms": w["itl_ms"]["p50"],
        }
        for name, w in status["live"]["workloads"].items()
    }
    return {**loaded, "preset": preset, "workloads": per_workload}


def stack_resources(
    workdir: Path, load_s: float, idle_s: float, speed: float = 1.0, timing: str = "ais"
) -> dict[str, Any]:
    """The prod stack with every slot used, idle and under the Full Load preset driven by the
    real load generator app (a process of its own, measured apart); its workers timed by
    `timing` (ais or npz) at `speed`."""
    workdir.mkdir(parents=True, exist_ok=True)
    env = _ports_env(workdir / "resources", ENV="prod", SPEED=f"{speed:g}",
                     DEMO_READINESS_DELAY_S="0", DEMO_TIMING=timing)  # fmt: skip
    frontend = f"http://127.0.0.1:{env['DEMO_FRONTEND_PORT']}"
    model = "meta-llama/Llama-3.1-70B-Instruct"
    token = "bench-presenter-token"
    app_env = {**env, "PRESENTER_TOKEN": token, "LOADGEN_ENDPOINT_URL": frontend,
               "LOADGEN_MODEL": model}  # fmt: skip
    app = f"http://127.0.0.1:{env['LOADGEN_PORT']}"
    stack_argv = [sys.executable, "-m", "localcluster", "up"]
    app_argv = [sys.executable, "-m", "loadgen", "serve"]
    with process_tree(stack_argv, env, workdir / "stack.log", cwd=REPO_ROOT) as (_, root):
        _first_token_s(frontend, model, time.monotonic(), timeout_s=180)
        asyncio.run(_scale_to_all_slots(f"http://127.0.0.1:{env['DEMO_CONTROL_PORT']}"))
        idle = asyncio.run(_window(root, None, idle_s))
        log = workdir / "loadgen.log"
        with process_tree(app_argv, app_env, log, cwd=REPO_ROOT) as (_, driver):
            warm_s = min(20.0, load_s / 3)
            load = asyncio.run(_under_preset(root, driver, app, token, "full-load", warm_s, load_s))
    return {
        "layout": f"prod, 3 prefill + 5 decode mocker workers, speed {speed:g}, {timing} timing",
        "idle": idle,
        "load": load,
        "targets": {"cpu_cores": TARGETS["cpu_cores_at_load"], "rss_mb": TARGETS["rss_mb"]},
    }


def render_markdown(result: dict[str, Any]) -> str:
    """The stack section as tables: each figure next to its target."""
    cold, res = result["cold_start"], result["resources"]
    idle, load = res["idle"], res["load"]
    rows = [
        ("cold start of `make demo` to the first streamed token (s)",
         cold["seconds"], "-", f"<= {cold['target_s']:g}"),
        ("stack CPU (cores)", idle["stack_cpu_cores"], load["stack_cpu_cores"],
         f"<= {res['targets']['cpu_cores']:g} at load"),
        ("stack RSS, peak (MB)", idle["stack_rss_mb_peak"], load["stack_rss_mb_peak"],
         f"<= {res['targets']['rss_mb']:g}"),
        ("load generator app CPU (cores, apart from the stack)", "-",
         load["load_generator_cpu_cores"], "-"),
    ]  # fmt: skip
    lines = [
        "# Local stack: cold start, CPU and memory",
        "",
        f"Layout: {res['layout']}; {idle['stack_processes']} processes. Load: the "
        f"`{load['preset']}` preset driven by the load generator app over {load['seconds']} s.",
        "",
        "| figure | idle | at load | target |",
        "|---|---|---|---|",
        *(f"| {name} | {a} | {b} | {t} |" for name, a, b, t in rows),
        "",
        "| workload | target RPS | achieved RPS | ok | errors | output tok/s | TTFT p50 ms "
        "| ITL p50 ms |",
        "|---|---|---|---|---|---|---|---|",
        *(
            f"| {name} | {w['target_rps']} | {w['achieved_rps']} | {w['ok']} | {w['errors']} "
            f"| {w['output_tokens_per_s']} | {w['ttft_p50_ms']} | {w['itl_p50_ms']} |"
            for name, w in load["workloads"].items()
        ),
    ]
    return "\n".join(lines) + "\n"


def run(workdir: Path, quick: bool, log: Callable[[str], None]) -> dict[str, Any]:
    workdir.mkdir(parents=True, exist_ok=True)
    log("stack: cold start of `make demo` ...")
    result: dict[str, Any] = {"cold_start": cold_start(workdir)}
    log(f"stack: cold start {result['cold_start']['seconds']} s; resources ...")
    result["resources"] = stack_resources(
        workdir, load_s=30.0 if quick else 90.0, idle_s=10.0 if quick else 30.0
    )
    (workdir / "stack.md").write_text(render_markdown(result))
    return result
