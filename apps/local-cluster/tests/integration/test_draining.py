"""Scaling on its own stack: the profile's readiness delay (at the speed factor) is what a new
worker waits, and a scale-in drains the streams in flight instead of cutting them."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from demo_testing.stack import restore_initial_layout, serving_workers, stack_settings
from demo_testing.streams import LongStream
from localcluster.background import BackgroundCluster
from localcluster.cluster import LocalCluster
from localcluster.perfmodel import hardware_profile

pytestmark = pytest.mark.integration
# The dev profile's worker start (~93 s) at speed 12 is ~7.7 s of wall time: long against the
# 0.25 s reconcile period and a loaded machine's jitter, short enough for CI.
SPEED = 12.0
LAUNCH_SLACK_S = 3.0  # reconcile period + event-loop lag on a loaded 2-core machine
STREAM_TOKENS = 3000  # ~7 ms of modelled ITL each: seconds of wall time at SPEED


@pytest.fixture(scope="module")
def modelled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    """A stack whose readiness delay comes from the profile (no override)."""
    settings = stack_settings(
        tmp_path_factory.mktemp("modelled"), speed=SPEED, readiness_delay_s=None,
        drain_timeout_s=60.0,
    )  # fmt: skip
    with BackgroundCluster(settings) as cluster:
        yield cluster


@pytest.fixture
def stack(modelled: LocalCluster) -> LocalCluster:
    restore_initial_layout(modelled, timeout_s=120)
    return modelled


def worker_states(stack: LocalCluster, pool: str) -> dict[str, str]:
    workers = httpx.get(f"{stack.control_url}/workers", timeout=10).json()
    return {w["name"]: w["state"] for w in workers if w["pool"] == pool}


def scale(stack: LocalCluster, pool: str, replicas: int) -> None:
    response = httpx.put(
        f"{stack.control_url}/pools/{pool}", json={"replicas": replicas}, timeout=10
    )
    assert response.status_code == 200, response.text


def wait_until(condition: object, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError(f"{what} not reached within {timeout_s} s")


def test_a_new_worker_waits_the_modelled_readiness_delay(stack: LocalCluster) -> None:
    expected_s = hardware_profile("h100-8b").worker_start_s / SPEED
    assert stack.readiness_delay_s == pytest.approx(expected_s)
    before = set(worker_states(stack, "decode"))
    asked = time.monotonic()
    scale(stack, "decode", 2)
    (new,) = set(worker_states(stack, "decode")) - before
    assert worker_states(stack, "decode")[new] == "pending"
    wait_until(
        lambda: worker_states(stack, "decode")[new] != "pending",
        expected_s + LAUNCH_SLACK_S + 5,
        "new worker launched",
    )
    launched_s = time.monotonic() - asked
    # Observed after the launch, which is scheduled `expected_s` after the request.
    assert expected_s <= launched_s <= expected_s + LAUNCH_SLACK_S
    wait_until(lambda: serving_workers(stack.frontend_url).get("decode") == 2, 60, "decode=2")


def test_scale_in_drains_the_streams_in_flight(stack: LocalCluster) -> None:
    scale(stack, "decode", 2)
    wait_until(lambda: serving_workers(stack.frontend_url).get("decode") == 2, 90, "decode=2")
    streams = [
        LongStream(stack.frontend_url, stack.model_name, STREAM_TOKENS).start() for _ in range(6)
    ]
    for stream in streams:
        assert stream.first_event.wait(60)
    assert not any(s.done.is_set() for s in streams), "streams ended before the scale-in"
    drained_before = len(stack.pools["decode"].exit_codes)

    scale(stack, "decode", 1)
    for stream in streams:
        assert stream.done.wait(120)
    assert [s.error for s in streams] == [None] * len(streams)
    assert all(s.complete for s in streams), [s.usage for s in streams]
    wait_until(lambda: len(stack.pools["decode"].exit_codes) > drained_before, 60, "worker drained")
    (name, code), *_ = list(stack.pools["decode"].exit_codes)[drained_before:]
    assert code == 0, f"{name} was killed ({code}) instead of draining"
