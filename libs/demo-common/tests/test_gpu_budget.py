"""The GPU budget rule: a floor per pool, no growth past the budget, shrinking always allowed."""

from __future__ import annotations

import pytest

from demo_common.gpu_budget import GPU_BUDGET, budget_refusal, largest_allowed


@pytest.mark.parametrize(
    ("current", "requested", "refused"),
    [
        ({"prefill": 2, "decode": 3}, {"prefill": 5, "decode": 3}, None),  # exactly the budget
        ({"prefill": 2, "decode": 3}, {"prefill": 6, "decode": 3}, "9 GPUs, over the GPU budget"),
        ({"prefill": 2, "decode": 3}, {"prefill": 0, "decode": 3}, "at least 1 worker"),
        ({"prefill": 6, "decode": 3}, {"prefill": 5, "decode": 3}, None),  # over, shrinking
        ({"prefill": 6, "decode": 3}, {"prefill": 6, "decode": 3}, None),  # over, unchanged
        ({"prefill": 6, "decode": 3}, {"prefill": 6, "decode": 4}, "10 GPUs, over the GPU"),
        ({"prefill": 6, "decode": 3}, {"prefill": 0, "decode": 3}, "at least 1 worker"),
        ({}, {"prefill": 6, "decode": 3}, "6 prefill + 3 decode = 9 GPUs"),  # from nothing
    ],
)
def test_the_rule(current: dict[str, int], requested: dict[str, int], refused: str | None) -> None:
    refusal = budget_refusal(current, requested, 8)
    if refused is None:
        assert refusal is None
    else:
        assert refusal is not None
        assert refused in refusal


def test_the_floor_is_a_parameter() -> None:
    assert budget_refusal({"a": 2}, {"a": 1}, 8, min_replicas=2) is not None
    assert budget_refusal({"a": 2}, {"a": 2}, 8, min_replicas=2) is None


def test_largest_allowed_is_the_rule_s_own_limit() -> None:
    for current in ({"prefill": 2, "decode": 3}, {"prefill": 6, "decode": 3}):
        for pool in current:
            top = largest_allowed(pool, current, 8)
            assert budget_refusal(current, {**current, pool: top}, 8) is None
            assert budget_refusal(current, {**current, pool: top + 1}, 8) is not None


def test_the_layouts_budgets() -> None:
    assert dict(GPU_BUDGET) == {"prod": 8, "dev": 3}  # terraform/environments' GPU counts
