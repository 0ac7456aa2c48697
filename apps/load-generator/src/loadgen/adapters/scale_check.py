"""What both scaler adapters check before they write: a known pool, an integer, and the GPU budget
rule (`demo_common.gpu_budget`, the same rule the controller applies)."""

from __future__ import annotations

from collections.abc import Mapping

from demo_common.gpu_budget import budget_refusal
from loadgen.controller.ports import POOL_NAMES, PoolName
from loadgen.errors import ScaleRejected


def check_scale(
    pool: str, replicas: int, desired: Mapping[PoolName, int], budget_gpus: int
) -> PoolName:
    """The pool's name when `replicas` fits beside the other pools' desired counts; else raise."""
    if pool not in POOL_NAMES:
        expected = ", ".join(POOL_NAMES)
        raise ScaleRejected(f"pool: unknown pool {pool!r} (expected one of {expected})")
    if isinstance(replicas, bool) or not isinstance(replicas, int):
        raise ScaleRejected(f"replicas: must be an integer, got {replicas!r}")
    name: PoolName = "prefill" if pool == "prefill" else "decode"
    refusal = budget_refusal(desired, {**desired, name: replicas}, budget_gpus)
    if refusal is not None:
        raise ScaleRejected(f"replicas: {refusal}")
    return name
