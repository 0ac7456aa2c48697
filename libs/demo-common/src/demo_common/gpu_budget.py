"""The GPU budget of the worker pools: the GPUs each layout gives them, the floor of every pool,
and the one rule a change of pool sizes is judged by (pure; the load generator's controller and
both of its scaler adapters call it, the preflight reads the budget from here)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

Pool = TypeVar("Pool", bound=str)  # the pools' names (the load generator: prefill | decode)

# GPUs of the layouts (terraform/environments): prod one 8xH200 node, dev three 1xH100 nodes.
# One GPU per worker.
GPU_BUDGET: Mapping[str, int] = {"prod": 8, "dev": 3}
MIN_POOL_REPLICAS = 1  # a pool never goes below one worker


def budget_refusal(
    current: Mapping[Pool, int],
    requested: Mapping[Pool, int],
    budget_gpus: int,
    min_replicas: int = MIN_POOL_REPLICAS,
) -> str | None:
    """Why the pools may not go from `current` to `requested` desired replicas; None if they may.

    Every pool keeps `min_replicas`. A layout over the budget is refused unless it uses fewer
    GPUs than `current` does: a change towards the budget is always allowed, so pools found
    above it (a tighter budget, or someone else's scaling) can shrink back to it.
    """
    for pool, replicas in requested.items():
        if replicas < min_replicas:
            return f"a pool keeps at least {min_replicas} worker ({pool} -> {replicas})"
    total = sum(requested.values())
    if total > budget_gpus and total > sum(current.values()):
        used = " + ".join(f"{replicas} {pool}" for pool, replicas in requested.items())
        return f"{used} = {total} GPUs, over the GPU budget of {budget_gpus}"
    return None


def largest_allowed(pool: Pool, current: Mapping[Pool, int], budget_gpus: int) -> int:
    """The most replicas `pool` may be set to now under `budget_refusal`."""
    others = sum(replicas for name, replicas in current.items() if name != pool)
    return max(MIN_POOL_REPLICAS, budget_gpus - others, current[pool])
