"""Fixtures every test folder shares: one moto S3 server and one local stack per session."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from demo_common.net import free_port
from demo_testing.stack import restore_initial_layout, stack_settings
from localcluster.background import BackgroundCluster
from localcluster.cluster import LocalCluster


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """A moto S3 server in its own process on a free loopback port; yields its URL."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                break
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"moto server did not start on port {port}")
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    """A running local stack shared by the session's integration tests (dev layout)."""
    runner = BackgroundCluster(stack_settings(tmp_path_factory.mktemp("local-stack")))
    with runner as cluster:
        yield cluster


@pytest.fixture(autouse=True)
def _local_stack_in_its_initial_layout(request: pytest.FixtureRequest) -> None:
    """Every test that uses the shared stack (directly or through a fixture) gets it in its
    initial layout: no test sees another's scaling or killed workers."""
    if "local_stack" in request.fixturenames:
        restore_initial_layout(request.getfixturevalue("local_stack"))
