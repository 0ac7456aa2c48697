"""BackgroundCluster hands errors to the caller's thread: at start and at teardown."""

from __future__ import annotations

from pathlib import Path

import pytest

from localcluster.background import BackgroundCluster
from localcluster.settings import LocalClusterSettings


class BrokenTeardown:
    """Starts fine, fails while stopping (as a stack whose child will not die would)."""

    async def __aenter__(self) -> BrokenTeardown:
        return self

    async def __aexit__(self, *exc: object) -> None:
        raise RuntimeError("prometheus did not stop")


class BrokenStart:
    async def __aenter__(self) -> BrokenStart:
        raise RuntimeError("frontend exited at start")

    async def __aexit__(self, *exc: object) -> None:
        return None


def runner(tmp_path: Path, cluster: object) -> BackgroundCluster:
    background = BackgroundCluster(LocalClusterSettings(workdir=tmp_path))
    background.cluster = cluster  # type: ignore[assignment]
    return background


def test_a_teardown_error_is_raised_not_swallowed(tmp_path: Path) -> None:
    background = runner(tmp_path, BrokenTeardown())
    background.start()
    with pytest.raises(RuntimeError, match="prometheus did not stop"):
        background.stop()


def test_a_start_error_is_raised_once(tmp_path: Path) -> None:
    background = runner(tmp_path, BrokenStart())
    with pytest.raises(RuntimeError, match="frontend exited at start"):
        background.start()
    background.stop()  # already reported: stopping afterwards does not raise it again
