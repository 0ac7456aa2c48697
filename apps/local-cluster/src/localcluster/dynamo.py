"""Command lines and environment of the local stack's Dynamo processes: frontend and mockers.

The frontend's flags mirror the cluster's Frontend args (k8s/dynamo/base/dgd.yaml);
tests/crosscheck/test_frontend_flags.py checks that they agree.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

from localcluster.perfmodel import HardwareProfile, Role
from localcluster.settings import LocalClusterSettings, PoolName

FRONTEND_ROUTER_MODE = "kv"
# Dynamo component that serves each pool (the frontend discovers decode workers as `backend`).
COMPONENT: dict[PoolName, str] = {"prefill": "prefill", "decode": "backend"}


def planes() -> list[str]:
    """Discovery in files, requests over TCP, events over ZMQ: no etcd or NATS needed."""
    return ["--discovery-backend", "file", "--request-plane", "tcp", "--event-plane", "zmq"]


def dynamo_env(
    namespace: str, discovery_dir: Path, base: Mapping[str, str] | None = None
) -> dict[str, str]:
    env = dict(os.environ if base is None else base)
    env.update(
        DYN_FILE_KV=str(discovery_dir),
        DYN_EVENT_PLANE="zmq",
        DYN_NAMESPACE=namespace,
        DYN_LOG=env.get("DYN_LOG", "warn"),
    )
    return env


def frontend_argv(
    settings: LocalClusterSettings, profile: HardwareProfile, namespace: str
) -> list[str]:
    return [
        sys.executable, "-m", "dynamo.frontend",
        "--http-host", settings.host, "--http-port", str(settings.frontend_port),
        "--router-mode", FRONTEND_ROUTER_MODE,
        "--kv-cache-block-size", str(profile.block_size),
        "--namespace", namespace, "--migration-limit", str(settings.migration_limit),
        *planes(),
    ]  # fmt: skip


def worker_argv(
    settings: LocalClusterSettings,
    profile: HardwareProfile,
    *,
    pool: PoolName,
    namespace: str,
    model_dir: Path,
    npz: Path,
) -> list[str]:
    role: Role = "aggregated" if settings.serving == "aggregated" else pool
    return [
        sys.executable, "-m", "dynamo.mocker",
        "--model-path", str(model_dir), "--model-name", str(profile.model_name),
        "--endpoint", f"dyn://{namespace}.{COMPONENT[pool]}.generate",
        "--disaggregation-mode", "agg" if role == "aggregated" else pool,
        "--speedup-ratio", str(settings.speed),
        *profile.mocker_args(npz, settings.speed, role, settings.timing),
        *planes(),
    ]  # fmt: skip


def worker_env(base: Mapping[str, str], system_port: int) -> dict[str, str]:
    """A worker's health and metrics endpoint on its own port, healthy once `generate` serves."""
    env = dict(base)
    env.update(
        DYN_SYSTEM_PORT=str(system_port),
        DYN_SYSTEM_ENABLED="true",
        DYN_SYSTEM_USE_ENDPOINT_HEALTH_STATUS='["generate"]',
    )
    return env
