"""Fault: the load generator app SIGKILLed while the scenario controller plays auto mode (KEDA
paused through the ScaledObjects' annotation, which outlives the app).

Cluster backend against the Kubernetes contract server (no API server can run here), the real
`loadgen serve` process, SIGKILL, then a new start: with its saved state it resumes auto mode
(KEDA paused again on purpose, the cycle continued); without it (state lost or unreadable) it
falls back to manual mode and resumes KEDA, saying "KEDA was left paused by a previous run". In
no case is KEDA left paused outside auto mode; each surviving session's counts add up.
The local backend keeps its pause in the app's memory (no object to hold it), so nothing
outlives the app there: a new start always finds the local KEDA running.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from demo_common.net import free_port
from demo_testing.accounting import totals, unaccounted
from demo_testing.app_server import record_numbers, short_cycle_script, wait_healthy
from demo_testing.bad_openai import bad_openai_server
from demo_testing.doubles import write_tiny_corpus
from demo_testing.kube_api import KubeContractServer

pytestmark = pytest.mark.integration
TOKEN = "restart-fault-presenter-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
RESULTS = Path(__file__).resolve().parents[2] / "build" / "faults"
PAUSED = "autoscaling.keda.sh/paused"
SCALED_OBJECTS = ("gtc-demo-prefill", "gtc-demo-decode")


def kubeconfig(server: KubeContractServer, path: Path) -> Path:
    path.write_text(
        f"""apiVersion: v1
kind: Config
clusters: [{{name: contract, cluster: {{server: "{server.url}"}}}}]
users: [{{name: loadgen, user: {{token: "{server.token}"}}}}]
contexts: [{{name: contract, context: {{cluster: contract, user: loadgen}}}}]
current-context: contract
"""
    )
    return path


@asynccontextmanager
async def app_process(argv: list[str], env: dict[str, str], log: Path) -> AsyncIterator[Any]:
    """`loadgen serve` in its own process group; yields (url, process). SIGKILL ends it here."""
    port = free_port()
    command = [sys.executable, "-m", "loadgen", "serve", "--port", str(port), *argv]
    with log.open("ab") as out:
        process = await asyncio.create_subprocess_exec(
            *command, env=env, stdout=out, stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as http:
            await wait_healthy(http, url, process)
        yield url, process
    finally:
        if process.returncode is None:
            os.killpg(process.pid, signal.SIGTERM)
            await asyncio.wait_for(process.wait(), 60)


async def scenario(url: str) -> dict[str, Any]:
    async with aiohttp.ClientSession() as http, http.get(f"{url}/api/scenario") as response:
        body: dict[str, Any] = await response.json()
        return body


async def post(url: str, path: str) -> dict[str, Any]:
    async with aiohttp.ClientSession() as http, http.post(url + path, headers=AUTH) as response:
        assert response.status == 200, await response.text()
        body: dict[str, Any] = await response.json()
        return body


def keda_paused(server: KubeContractServer) -> list[bool]:
    return [server.annotations(so).get(PAUSED) == "true" for so in SCALED_OBJECTS]


async def kill_in_auto(url: str, process: Any, server: KubeContractServer) -> str:
    """Auto mode until the script has scaled once, then SIGKILL; returns the phase it was in."""
    await post(url, "/api/scenario/auto")

    def script_scaled(state: dict[str, Any]) -> bool:
        return any(e["kind"] == "scale" and e["source"] == "script" for e in state["timeline"])

    # The short cycle's first scale comes seconds in at speed 10: 60 s leaves room for a loaded
    # machine, and a script that never scales fails here instead of being killed unnoticed.
    deadline = time.monotonic() + 60
    while not script_scaled(state := await scenario(url)):
        assert time.monotonic() < deadline, "auto mode: the script did not scale within 60 s"
        await asyncio.sleep(0.1)
    assert keda_paused(server) == [True, True]
    os.killpg(process.pid, signal.SIGKILL)
    await process.wait()
    assert keda_paused(server) == [True, True]  # left behind: nothing ran to resume it
    return str(state["phase"]["id"])


async def end_session(url: str) -> dict[str, Any]:
    """Manual mode (the script stops), then stop the load: the summary's counts add up."""
    await post(url, "/api/scenario/manual")
    summary: dict[str, Any] = (await post(url, "/api/workload/stop"))["summary"]
    assert unaccounted(summary) == [], "counts do not add up after the restart"
    return summary


async def test_sigkill_in_auto_mode_resumes_auto_or_falls_back_to_manual(tmp_path: Path) -> None:
    server = KubeContractServer()
    script_path, _ = short_cycle_script(tmp_path)
    state_file = tmp_path / "scenario-state.json"
    log = tmp_path / "app.log"
    numbers: dict[str, Any] = {}
    with server.running():
        async with bad_openai_server(("ok",)) as endpoint:
            env = {**os.environ, "PRESENTER_TOKEN": TOKEN,
                   "KUBECONFIG": str(kubeconfig(server, tmp_path / "kubeconfig"))}  # fmt: skip
            env.pop("KUBERNETES_SERVICE_HOST", None)
            argv = [
                "--endpoint", f"{endpoint.url}/ok", "--corpus",
                str(write_tiny_corpus(tmp_path / "corpus")), "--script", str(script_path),
                "--backend", "cluster", "--speed", "10", "--ui-dir", str(tmp_path / "no-ui"),
                "--summary-dir", str(tmp_path / "sessions"),
                "--scenario-state-file", str(state_file),
            ]  # fmt: skip
            async with app_process(argv, env, log) as (url, process):
                phase = await kill_in_auto(url, process, server)
            # 1. The saved state says auto: the new start resumes auto mode, same phase.
            started = time.monotonic()
            async with app_process(argv, env, log) as (url, process):
                numbers["resume_start_s"] = round(time.monotonic() - started, 2)
                state = await scenario(url)
                assert state["mode"] == "auto"
                assert state["phase"]["id"] == phase
                assert state["keda"]["paused"] is True
                assert keda_paused(server) == [True, True]
                assert any("restart: continuing the cycle" in e["message"]
                           for e in state["timeline"])  # fmt: skip
                await asyncio.sleep(1)  # the resumed cycle sends load
                resumed = await end_session(url)
                assert keda_paused(server) == [False, False]
                await kill_in_auto(url, process, server)
            # 2. The saved state is lost (unreadable): manual mode, KEDA resumed, and said so.
            state_file.write_text("{truncated")
            async with app_process(argv, env, log) as (url, _):
                state = await scenario(url)
                assert state["mode"] == "manual"
                assert state["keda"]["paused"] is False
                assert keda_paused(server) == [False, False]
                messages = [e["message"] for e in state["timeline"]]
                assert "KEDA was left paused by a previous run; resumed" in messages
                await post(url, "/api/workload/start")
                await asyncio.sleep(1)
                fallback = await end_session(url)
    assert server.violations == []
    numbers |= {
        "resumed_session": totals(resumed), "fallback_session": totals(fallback),
        "killed_in_phase": phase,
    }  # fmt: skip
    assert totals(resumed)["ok"] > 0
    assert totals(fallback)["ok"] > 0
    record_numbers(RESULTS, "app_restart_in_auto", numbers)
