"""Start-up errors and clean shutdown of the local stack, through its real CLI."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest

from demo_common.net import free_port
from demo_testing.streams import LongStream
from localcluster.background import BackgroundCluster
from localcluster.settings import LocalClusterSettings

pytestmark = pytest.mark.integration


def cli_env(workdir: Path, **overrides: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        ENV="dev",
        SPEED="10",
        DEMO_FRONTEND_PORT=str(free_port()),
        DEMO_PROMETHEUS_PORT=str(free_port()),
        DEMO_CONTROL_PORT=str(free_port()),
        DEMO_WORKDIR=str(workdir),
    )
    env.update(overrides)
    return env


def processes_under(folder: Path) -> list[str]:
    """Command lines of live processes that mention `folder` (the stack's model dir is there)."""
    found = subprocess.run(["pgrep", "-af", str(folder)], capture_output=True, text=True)
    return [line for line in found.stdout.splitlines() if "pgrep" not in line]


def test_sigterm_drains_streams_and_stops_every_child(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "localcluster", "up"],
        env=cli_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + 90
    lines: list[str] = []
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        lines.append(line)
        if "Ctrl-C stops everything" in line or proc.poll() is not None:
            break
    assert any("pool control API" in line for line in lines), "".join(lines)
    assert len(processes_under(tmp_path)) >= 3  # frontend, prefill and decode workers
    assert any((tmp_path / "discovery").iterdir())
    frontend = next(line.split()[-1] for line in lines if "OpenAI API" in line)
    model = next(line.split()[-1] for line in lines if line.strip().startswith("model"))
    streams = [
        LongStream(frontend.removesuffix("/v1/chat/completions"), model, 3000).start()
        for _ in range(3)
    ]
    for stream in streams:
        assert stream.first_event.wait(60)
    assert not any(s.done.is_set() for s in streams), "streams ended before the SIGTERM"

    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 0
    # The workers drained before the frontend stopped: every stream got all its tokens.
    assert [s.error for s in streams] == [None] * 3
    assert all(s.complete for s in streams), [s.usage for s in streams]
    assert processes_under(tmp_path) == []
    assert list((tmp_path / "discovery").iterdir()) == []


def test_port_in_use_is_a_one_line_error(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "localcluster", "up"],
            env=cli_env(tmp_path, DEMO_FRONTEND_PORT=str(port)),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1
    message = result.stderr.strip()
    assert len(message.splitlines()) == 1, message
    assert f"port {port} (frontend) is already in use" in message
    assert "DEMO_FRONTEND_PORT" in message
    assert processes_under(tmp_path) == []


def test_missing_prometheus_and_bad_settings_are_one_line_errors(tmp_path: Path) -> None:
    empty_path = tmp_path / "bin"
    empty_path.mkdir()
    env = cli_env(tmp_path, PATH=str(empty_path))
    result = subprocess.run(
        [sys.executable, "-m", "localcluster", "up"],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0
    assert "'prometheus' not found" in result.stderr
    assert "apt-get install prometheus" in result.stderr

    result = subprocess.run(
        [sys.executable, "-m", "localcluster", "up"],
        env=cli_env(tmp_path, SPEED="-3"), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "localcluster: invalid speed: Input should be greater than or equal to 0"
    )


def test_aggregated_baseline_serves_without_a_prefill_pool(tmp_path: Path) -> None:
    settings = LocalClusterSettings(
        env="dev",
        serving="aggregated",
        speed=10,
        frontend_port=free_port(),
        prometheus_port=free_port(),
        control_port=free_port(),
        workdir=tmp_path,
    )
    with BackgroundCluster(settings) as cluster:
        status = httpx.get(f"{cluster.control_url}/pools", timeout=5).json()
        # The dev layout's two GPUs, both serving prefill and decode.
        assert status["pools"]["prefill"]["desired"] == 0
        assert status["pools"]["decode"]["ready"] == 2
        workers = httpx.get(f"{cluster.control_url}/workers", timeout=5).json()
        for worker in workers:
            log = (tmp_path / "logs" / f"{worker['name']}.log").read_text()
            assert "Traceback" not in log
        modes = [
            argv[argv.index("--disaggregation-mode") + 1]
            for argv in (p.cmdline() for p in psutil.Process().children(recursive=True))
            if "dynamo.mocker" in argv and str(tmp_path) in " ".join(argv)  # this stack's
        ]
        assert modes == ["agg", "agg"]
        body = {
            "model": cluster.model_name,
            "messages": [{"role": "user", "content": "Aggregated baseline?"}],
            "max_tokens": 5,
        }
        answer = httpx.post(f"{cluster.frontend_url}/v1/chat/completions", json=body, timeout=30)
        assert answer.status_code == 200
        assert answer.json()["usage"]["completion_tokens"] == 5

        refused = httpx.put(f"{cluster.control_url}/pools/prefill", json={"replicas": 1}, timeout=5)
        assert refused.status_code == 422
        assert "aggregated layout has no prefill pool" in refused.json()["detail"]
