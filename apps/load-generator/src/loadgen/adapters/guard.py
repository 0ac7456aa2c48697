"""The GPU budget guard every scaling path goes through: a pool keeps >= 1 worker, 1 GPU each."""

from __future__ import annotations

from collections.abc import Mapping

from loadgen.controller.ports import POOL_NAMES, PoolName
from loadgen.errors import ScaleRejected

# GPUs of the layouts (terraform/environments): prod one 8xH200 node, dev three 1xH100 nodes.
GPU_BUDGETS: Mapping[str, int] = {"prod": 8, "dev": 3}
MIN_POOL_REPLICAS = 1


def check_scale(
    pool: str, replicas: int, desired: Mapping[PoolName, int], budget_gpus: int
) -> PoolName:
    """The pool's name when `replicas` fits beside the other pools' desired counts; else raise."""
    if pool not in POOL_NAMES:
        expected = ", ".join(POOL_NAMES)
        raise ScaleRejected(f"pool: unknown pool {pool!r} (expected one of {expected})")
    if isinstance(replicas, bool) or not isinstance(replicas, int):
        raise ScaleRejected(f"replicas: must be an integer, got {replicas!r}")
    if replicas < MIN_POOL_REPLICAS:
        raise ScaleRejected(f"replicas: a pool keeps at least {MIN_POOL_REPLICAS} worker")
    name: PoolName = "prefill" if pool == "prefill" else "decode"
    others = sum(count for other, count in desired.items() if other != name)
    if others + replicas > budget_gpus:
        raise ScaleRejected(
            f"replicas: {name}={replicas} with {others} GPU(s) in the other pool exceeds the "
            f"GPU budget of {budget_gpus}"
        )
    return name
