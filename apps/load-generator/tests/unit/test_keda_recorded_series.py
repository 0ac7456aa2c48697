"""The kit's ScaledObjects' HPA decisions on a metric series recorded from a real local stack.

Open loop: the series was recorded with fixed pools, so it is the input and the decisions are
checked for the properties KEDA + the HPA guarantee (see tests/data/keda/*.json for provenance).
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from loadgen.adapters.keda_manifests import pool_rules
from loadgen.adapters.keda_rules import (
    HPA_SYNC_PERIOD_S,
    HpaMemory,
    PoolRules,
    evaluate,
    longest_period_s,
    record_scale,
)
from loadgen.clock import NS_PER_S

TESTS = Path(__file__).resolve().parents[1]
REPO = TESTS.parents[2]
SERIES = json.loads((TESTS / "data" / "keda" / "dev-presets-series.json").read_text())
NAMES = {"prefill": "gtc-demo-prefill", "decode": "gtc-demo-decode"}


@dataclass(frozen=True)
class Sync:
    t_s: float
    value: float | None
    wanted: int | None
    replicas: int


def replay(rules: PoolRules, pool: str, initial: int, ready_after_s: float = 0) -> list[Sync]:
    """One HPA sync every 15 s on the latest sample; new pods count as ready after a delay."""
    samples: list[dict[str, Any]] = SERIES["samples"]
    memory, replicas = HpaMemory(), initial
    ready_at: list[float] = [0.0] * initial
    syncs: list[Sync] = []
    t_s = float(HPA_SYNC_PERIOD_S)
    while t_s <= samples[-1]["t_s"]:
        value = [s[pool] for s in samples if s["t_s"] <= t_s][-1]
        if value is None:
            syncs.append(Sync(t_s, None, None, replicas))
        else:
            ready = sum(1 for at in ready_at[:replicas] if at <= t_s)
            now_ns = round(t_s * NS_PER_S)
            result = evaluate(
                rules, memory, now_ns=now_ns, value=value, current=replicas, ready=ready
            )
            memory = result.memory
            if result.desired != replicas:
                memory = record_scale(
                    memory, now_ns, replicas, result.desired, longest_period_s(rules)
                )
                ready_at = ready_at[: min(replicas, result.desired)]
                ready_at += [t_s + ready_after_s] * (result.desired - len(ready_at))
                replicas = result.desired
            syncs.append(Sync(t_s, value, result.recommended, replicas))
        t_s += HPA_SYNC_PERIOD_S
    return syncs


CASES = [
    pytest.param(env, pool, ready_after_s, id=f"{env}-{pool}-ready{ready_after_s:g}s")
    for env in ("dev", "prod")
    for pool in ("prefill", "decode")
    for ready_after_s in (0.0, 210.0)  # 210 s: a 70B worker's start (calibration.md)
]


@pytest.mark.parametrize(("env", "pool", "ready_after_s"), CASES)
def test_hpa_guarantees_hold_on_the_recorded_series(
    env: str, pool: str, ready_after_s: float
) -> None:
    rules = pool_rules(REPO / "k8s" / "keda", env, NAMES)[pool]
    syncs = replay(rules, pool, rules.min_replicas, ready_after_s)
    sizes = [s.replicas for s in syncs]
    assert all(rules.min_replicas <= n <= rules.max_replicas for n in sizes)
    previous = rules.min_replicas
    for i, sync in enumerate(syncs):
        if sync.replicas > previous:
            # Scale-up only after the metric asked for more for the whole 30 s window.
            window = [s for s in syncs[: i + 1] if s.t_s > sync.t_s - rules.scale_up.window_s]
            assert all(s.wanted is not None and s.wanted > previous for s in window), sync
            # At most +2 pods per 240 s (the kit's policy).
            earlier = [s for s in syncs[:i] if s.t_s > sync.t_s - 240]
            start = earlier[0].replicas if earlier else previous
            assert sync.replicas - min(start, previous) <= 2
        if sync.replicas < previous:
            # Scale-down only when nothing in the last 300 s asked for the current size.
            window = [s for s in syncs[:i] if s.t_s > sync.t_s - rules.scale_down.window_s]
            assert all(s.wanted is None or s.wanted <= sync.replicas for s in window), sync
            assert previous - sync.replicas == 1  # one pod per 120 s
        previous = sync.replicas


def test_prefill_scales_out_during_the_prefill_stress_and_not_in_the_first_baseline() -> None:
    rules = pool_rules(REPO / "k8s" / "keda", "prod", NAMES)["prefill"]
    syncs = replay(rules, "prefill", 1, ready_after_s=210)
    baseline = [s for s in syncs if s.t_s < 120]
    assert {s.replicas for s in baseline} == {1}
    first_up = next(s for s in syncs if s.replicas > 1)
    # The recorded ratio crosses the threshold band (TTFT p95 > 0.88 x SLO) at t ~ 141 s.
    assert 150 <= first_up.t_s <= 180, first_up
    assert first_up.replicas == 3  # asks for ceil(2.2 / 0.8) = 3; +2 pods allowed at once


def test_single_zero_samples_do_not_scale_anything_down() -> None:
    rules = pool_rules(REPO / "k8s" / "keda", "prod", NAMES)["decode"]
    syncs = replay(rules, "decode", rules.min_replicas)
    assert max(s.replicas for s in syncs) > rules.min_replicas  # the decode surge grew the pool
    after_zero = [
        (before.replicas, zero.replicas)
        for before, zero in itertools.pairwise(syncs)
        if zero.value == 0.0 and before.replicas > rules.min_replicas
    ]
    assert after_zero  # the recording has a zero while the pool was grown (t = 645 s)
    assert all(b == a for b, a in after_zero)
