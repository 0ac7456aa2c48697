"""A minimal real Dynamo stack for the profiling test: frontend + 1 prefill + 1 decode mocker
with prefix caching OFF (the layout `make profile` switches the cluster to), timed by the local
cluster's H200 profile at a speedup. Not the LocalCluster supervisor: that one cannot turn
prefix caching off, and profiling must."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from demo_common.net import free_port
from localcluster.modeldir import write_model_dir
from localcluster.perfmodel import PROD_PROFILE, hardware_profile

NAMESPACE = "profiletest"
COMPONENT = {"prefill": "prefill", "decode": "backend"}


@dataclass(frozen=True)
class ProfileStack:
    url: str
    model_name: str
    model_dir: Path
    kv_capacity_tokens: int
    speedup: float
    npz: Path


def _planes() -> list[str]:
    return ["--discovery-backend", "file", "--request-plane", "tcp", "--event-plane", "zmq"]


def worker_argv(
    mode: str, model_dir: Path, model_name: str, npz: Path, speedup: float
) -> list[str]:
    profile = hardware_profile(PROD_PROFILE)
    role = "prefill" if mode == "prefill" else "decode"
    return [
        sys.executable, "-m", "dynamo.mocker",
        "--model-path", str(model_dir), "--model-name", model_name,
        "--endpoint", f"dyn://{NAMESPACE}.{COMPONENT[mode]}.generate",
        "--disaggregation-mode", mode, "--speedup-ratio", str(speedup),
        "--no-enable-prefix-caching",
        *profile.mocker_args(npz, speedup_ratio=speedup, role=role, timing="npz"),
        *_planes(),
    ]  # fmt: skip


@contextlib.contextmanager
def profile_stack(
    workdir: Path, speedup: float, npz: Path | None = None, timeout_s: float = 120.0
) -> Iterator[ProfileStack]:
    """Start the stack (with `npz` as the workers' profile, default the H200 one); stop it after."""
    profile = hardware_profile(PROD_PROFILE)
    model_dir = write_model_dir(workdir / "model", "70b")
    npz = npz or profile.write_npz(workdir / "h200.npz")
    port = free_port()
    env = dict(os.environ)
    env.update(
        DYN_FILE_KV=str(workdir / "discovery"),
        DYN_EVENT_PLANE="zmq",
        DYN_NAMESPACE=NAMESPACE,
        DYN_LOG="warn",
    )
    frontend = [
        sys.executable, "-m", "dynamo.frontend", "--http-host", "127.0.0.1",
        "--http-port", str(port), "--router-mode", "kv",
        "--kv-cache-block-size", str(profile.block_size), "--namespace", NAMESPACE, *_planes(),
    ]  # fmt: skip
    argvs = [
        frontend,
        *(worker_argv(m, model_dir, profile.model_name, npz, speedup) for m in COMPONENT),
    ]
    logs = workdir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    children: list[subprocess.Popen[bytes]] = []
    try:
        for i, argv in enumerate(argvs):
            log = (logs / f"proc-{i}.log").open("wb")
            children.append(
                subprocess.Popen(
                    argv, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
                )
            )
        url = f"http://127.0.0.1:{port}"
        _wait_for_model(url, profile.model_name, timeout_s)
        yield ProfileStack(
            url, profile.model_name, model_dir, profile.kv_capacity_tokens, speedup, npz
        )
    finally:
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGTERM)
        for child in children:
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()


def _wait_for_model(url: str, model: str, timeout_s: float) -> None:
    """The model is listed and one short chat completes (both pools registered)."""
    deadline = time.monotonic() + timeout_s
    last = ""
    while time.monotonic() < deadline:
        try:
            body = {
                "model": model,
                "messages": [{"role": "user", "content": "hi"}],
                "max_tokens": 2,
            }
            reply = httpx.post(f"{url}/v1/chat/completions", json=body, timeout=10)
            if reply.status_code == 200:
                return
            last = f"HTTP {reply.status_code}: {reply.text[:200]}"
        except httpx.HTTPError as exc:
            last = str(exc)
        time.sleep(0.5)
    raise TimeoutError(f"stack not ready after {timeout_s} s: {last}")
