"""`loadgen demo` as a user runs it: local stack + app, API from HTTP, clean exit on SIGTERM."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from demo_common.net import free_port
from demo_testing.doubles import write_tiny_corpus

pytestmark = pytest.mark.integration


def http(method: str, url: str, token: str | None = None) -> Any:
    request = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=30) as response:
        body = response.read()
    return json.loads(body) if body.startswith((b"{", b"[")) else body.decode()


def eventually(condition: Callable[[], bool], timeout_s: float) -> bool:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.5)
    return False


def app_target_health(prometheus: str, instance: str) -> str | None:
    targets = http("GET", f"{prometheus}/api/v1/targets")["data"]["activeTargets"]
    found = [t["health"] for t in targets if t["labels"].get("instance") == instance]
    return found[0] if found else None


def instant(prometheus: str, promql: str) -> float:
    """The value of a one-sample PromQL result, -1 when there is none."""
    url = f"{prometheus}/api/v1/query?{urllib.parse.urlencode({'query': promql})}"
    result = http("GET", url)["data"]["result"]
    return float(result[0]["value"][1]) if result else -1.0


def read_banner(process: subprocess.Popen[str], deadline_s: float) -> str:
    assert process.stdout is not None
    lines: list[str] = []
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        # The stack prints its banner first, then the app its own (with the token).
        if line.startswith("Ctrl-C") and any("presenter token" in seen for seen in lines):
            return "".join(lines)
    raise AssertionError(f"no banner; exit {process.poll()}; output: {''.join(lines)}")


def test_demo_serves_the_app_on_the_local_stack(tmp_path: Path) -> None:
    ports = {name: free_port() for name in ("frontend", "prometheus", "control", "app")}
    argv = [
        sys.executable, "-m", "loadgen", "demo", "--env", "dev", "--speed", "10",
        "--frontend-port", str(ports["frontend"]), "--prometheus-port", str(ports["prometheus"]),
        "--control-port", str(ports["control"]), "--port", str(ports["app"]),
        "--workdir", str(tmp_path / "stack"), "--readiness-delay-s", "1",
        "--corpus", str(write_tiny_corpus(tmp_path / "corpus")),
        "--summary-dir", str(tmp_path / "sessions"), "--preset", "baseline",
    ]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k != "PRESENTER_TOKEN"}
    process = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
        start_new_session=True,
    )  # fmt: skip
    try:
        banner = read_banner(process, deadline_s=180)
        token_match = re.search(r"presenter token \(generated[^)]*\): (\S+)", banner)
        assert token_match, banner
        token = token_match.group(1)
        app = f"http://127.0.0.1:{ports['app']}"
        status = http("GET", f"{app}/api/status")
        assert status["endpoint"] == f"http://127.0.0.1:{ports['frontend']}"
        assert status["model"] == "meta-llama/Llama-3.1-8B-Instruct"
        assert http("POST", f"{app}/api/workload/start", token)["state"] == "running"
        time.sleep(4)
        stopped = http("POST", f"{app}/api/workload/stop", token)
        assert Path(stopped["summary"]["file"]).is_file()
        prometheus = f"http://127.0.0.1:{ports['prometheus']}"
        instance = f"127.0.0.1:{ports['app']}"
        # A real scrape: the app's target is up and its own series hold the run's requests.
        health = eventually(lambda: app_target_health(prometheus, instance) == "up", 30)
        assert health, app_target_health(prometheus, instance)
        query = f'sum(loadgen_requests_total{{instance="{instance}"}})'
        assert eventually(lambda: instant(prometheus, query) > 0, 30), instant(prometheus, query)
        assert instant(prometheus, f'count(loadgen_target_rps{{instance="{instance}"}})') == 3
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    # Every child (frontend, workers, Prometheus; each in its own process group) went too.
    for pattern in (str(tmp_path), f"--http-port {ports['frontend']}"):
        leftovers = subprocess.run(
            ["pgrep", "-f", "--", pattern], capture_output=True, text=True, check=False
        )
        assert leftovers.stdout.strip() == "", pattern
