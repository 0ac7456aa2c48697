"""Helpers of the live observability tests: run `loadgen demo` (local stack + load generator)
as a user does, talk to it over HTTP, build prompts of an exact token length."""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from demo_testing.prompts import prompt_of_exact_length as prompt_of_exact_length  # re-export

MODEL = "meta-llama/Llama-3.1-8B-Instruct"  # the dev layout's model name
SPEED = 10


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http(method: str, url: str, body: object | None = None, token: str | None = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, method=method, data=data)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=60) as response:
        raw = response.read()
    return json.loads(raw) if raw.startswith((b"{", b"[")) else raw.decode()


@dataclass
class LiveDemo:
    process: subprocess.Popen[str]
    ports: dict[str, int]
    token: str
    log: Path

    @property
    def app(self) -> str:
        return f"http://127.0.0.1:{self.ports['app']}"

    @property
    def prometheus(self) -> str:
        return f"http://127.0.0.1:{self.ports['prometheus']}"

    @property
    def control(self) -> str:
        return f"http://127.0.0.1:{self.ports['control']}"

    @property
    def frontend(self) -> str:
        return f"http://127.0.0.1:{self.ports['frontend']}"

    def chat(self, text: str, max_tokens: int = 2) -> dict[str, Any]:
        """One non-streaming request straight to the Dynamo frontend; returns `usage`."""
        body = {
            "model": MODEL,
            "messages": [{"role": "user", "content": text}],
            "max_tokens": max_tokens,
            "stream": False,
        }
        usage: dict[str, Any] = http("POST", f"{self.frontend}/v1/chat/completions", body)["usage"]
        return usage


def start_demo(workdir: Path, corpus: Path, preset: str) -> LiveDemo:
    """`python -m loadgen demo` on free ports (dev layout, speed 10); returns once it is up."""
    ports = {name: free_port() for name in ("frontend", "prometheus", "control", "app")}
    token = secrets.token_urlsafe(24)
    argv = [
        sys.executable, "-m", "loadgen", "demo", "--env", "dev", "--speed", str(SPEED),
        "--frontend-port", str(ports["frontend"]), "--prometheus-port", str(ports["prometheus"]),
        "--control-port", str(ports["control"]), "--port", str(ports["app"]),
        "--workdir", str(workdir / "stack"), "--readiness-delay-s", "1",
        "--corpus", str(corpus), "--preset", preset,
    ]  # fmt: skip
    log = workdir / "demo.log"
    out = log.open("w")
    process = subprocess.Popen(
        argv, stdout=out, stderr=subprocess.STDOUT, text=True, start_new_session=True,
        env={**os.environ, "PRESENTER_TOKEN": token},
    )  # fmt: skip
    demo = LiveDemo(process, ports, token, log)
    deadline = time.monotonic() + 180
    while "Ctrl-C" not in log.read_text().partition("presenter token")[2]:  # the app's banner
        if process.poll() is not None or time.monotonic() > deadline:
            stop_demo(demo)
            raise AssertionError(f"loadgen demo did not come up:\n{log.read_text()[-3000:]}")
        time.sleep(0.5)
    return demo


def stop_demo(demo: LiveDemo) -> None:
    if demo.process.poll() is None:
        demo.process.send_signal(signal.SIGTERM)
        try:
            demo.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(demo.process.pid, signal.SIGKILL)
            demo.process.wait()


def unique_prefix(i: int) -> str:
    """Differs from every other prompt within the first KV block (after the chat header)."""
    return f"{i:04d}-{secrets.token_hex(8)} {re.sub('[^a-z]', '', secrets.token_hex(8))}"
