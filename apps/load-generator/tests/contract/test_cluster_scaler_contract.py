"""The ClusterScaler contract, run against every adapter (Kubernetes and local)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from loadgen.controller.ports import POOL_NAMES
from loadgen.errors import ScaleRejected

if TYPE_CHECKING:
    from .conftest import Harness


async def test_state_reports_both_pools_within_the_budget(harness: Harness) -> None:
    state = await harness.scaler.state()
    assert set(state.pools) == set(POOL_NAMES)
    assert state.budget_gpus in (3, 8)
    assert sum(p.desired for p in state.pools.values()) <= state.budget_gpus
    for pool, p in state.pools.items():
        assert p.desired >= 1
        # Every worker asked for is serving or on its way (the stack is at rest between tests,
        # so none is draining): ready and starting split the desired size.
        assert p.ready + p.starting == p.desired, (pool, p)
        assert 0 <= p.ready <= p.desired, (pool, p)
        assert p.desired == await harness.observed_desired(pool)


async def test_scale_sets_the_desired_size_once(harness: Harness) -> None:
    state = await harness.scaler.state()
    pool = "decode"
    target = state.pools[pool].desired + 1
    assert target + state.pools["prefill"].desired <= state.budget_gpus
    before = harness.writes()
    await harness.scaler.scale(pool, target)
    assert await harness.observed_desired(pool) == target
    assert (await harness.scaler.state()).pools[pool].desired == target
    assert harness.writes() == before + 1
    await harness.scaler.scale(pool, target)  # idempotent: no second write
    assert harness.writes() == before + 1


async def test_a_pool_never_goes_below_one(harness: Harness) -> None:
    before = harness.writes()
    for replicas in (0, -1):
        with pytest.raises(ScaleRejected, match="at least 1"):
            await harness.scaler.scale("prefill", replicas)
    assert harness.writes() == before
    assert await harness.observed_desired("prefill") >= 1


async def test_the_gpu_budget_is_never_exceeded(harness: Harness) -> None:
    state = await harness.scaler.state()
    over = state.budget_gpus - state.pools["decode"].desired + 1
    before = harness.writes()
    with pytest.raises(ScaleRejected, match="GPU budget"):
        await harness.scaler.scale("prefill", over)
    assert harness.writes() == before
    assert await harness.observed_desired("prefill") == state.pools["prefill"].desired


async def test_at_or_over_the_budget_a_pool_shrinks_but_none_grows(harness: Harness) -> None:
    """The one budget rule (demo_common.gpu_budget), as each adapter applies it."""
    await harness.crowd()
    state = await harness.scaler.state()
    desired = {pool: s.desired for pool, s in state.pools.items()}
    assert sum(desired.values()) >= state.budget_gpus
    big = max(desired, key=lambda pool: desired[pool])
    small = "prefill" if big == "decode" else "decode"
    before = harness.writes()
    with pytest.raises(ScaleRejected, match="over the GPU budget"):
        await harness.scaler.scale(small, desired[small] + 1)
    assert harness.writes() == before
    await harness.scaler.scale(big, desired[big] - 1)  # towards the budget: allowed
    assert await harness.observed_desired(big) == desired[big] - 1


async def test_unknown_pool_is_rejected(harness: Harness) -> None:
    with pytest.raises(ScaleRejected, match="unknown pool"):
        await harness.scaler.scale("router", 1)  # type: ignore[arg-type]


async def test_pause_and_resume_are_idempotent(harness: Harness) -> None:
    scaler = harness.scaler
    await scaler.set_autoscaling_paused(False)
    before = harness.writes()
    await scaler.set_autoscaling_paused(True)
    assert await scaler.autoscaling_paused() is True
    after_pause = harness.writes()
    assert after_pause > before
    await scaler.set_autoscaling_paused(True)
    assert harness.writes() == after_pause
    await scaler.set_autoscaling_paused(False)
    assert await scaler.autoscaling_paused() is False
    after_resume = harness.writes()
    await scaler.set_autoscaling_paused(False)
    assert harness.writes() == after_resume
