"""Settings for a local stack under test: free ports, its own folder and namespace, fast clock."""

from __future__ import annotations

from pathlib import Path

from demo_common.net import free_port
from localcluster.settings import LocalClusterSettings

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
