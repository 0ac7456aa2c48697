"""Shared fixtures: one real local stack (Dynamo frontend, mocker pools, Prometheus) a session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from loadgen.localcluster.background import BackgroundCluster
from loadgen.localcluster.cluster import LocalCluster, free_port
from loadgen.localcluster.settings import LocalClusterSettings

# Tests run the dev layout (3 GPU slots, 1 prefill + 1 decode) ten times faster than real time.
TEST_SPEED = 10.0


def stack_settings(workdir: Path, **overrides: object) -> LocalClusterSettings:
    """Settings for a test stack on free ports, isolated in its own folder and namespace."""
    values: dict[str, object] = {
        "env": "dev",
        "speed": TEST_SPEED,
        "frontend_port": free_port(),
        "prometheus_port": free_port(),
        "control_port": free_port(),
        "workdir": workdir,
        "readiness_delay_s": 1.0,
        "scrape_interval_s": 1.0,
        "drain_timeout_s": 5.0,
    }
    values.update(overrides)
    return LocalClusterSettings.model_validate(values)


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    """A running local stack shared by the session's integration tests (dev layout)."""
    runner = BackgroundCluster(stack_settings(tmp_path_factory.mktemp("local-stack")))
    with runner as cluster:
        yield cluster
