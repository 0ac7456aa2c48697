"""The local KEDA loop: demo-clock schedules, scaling on breaches, holding without data, pause."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from loadgen.adapters.keda_manifests import pool_rules
from loadgen.adapters.local_keda import KedaPauseState, LocalKeda
from loadgen.clock import NS_PER_S
from loadgen.controller.ports import ClusterState, PoolName, PoolState
from loadgen.errors import MetricsUnavailable

REPO = Path(__file__).resolve().parents[4]
NAMES: Mapping[PoolName, str] = {"prefill": "gtc-demo-prefill", "decode": "gtc-demo-decode"}


class Stop(Exception):
    pass


@dataclass
class FakeClock:
    speed: float = 1.0  # the fake's ns are demo ns already
    now: int = 0
    sleeps: list[int] = field(default_factory=list)
    limit: int = 100

    def now_ns(self) -> int:
        return self.now

    async def sleep_until(self, deadline_ns: int, wake: asyncio.Event | None = None) -> bool:
        self.sleeps.append(deadline_ns)
        if len(self.sleeps) >= self.limit:
            raise Stop
        self.now = max(self.now, deadline_ns)
        return True


@dataclass
class FakeScaler:
    desired: dict[PoolName, int] = field(default_factory=lambda: {"prefill": 1, "decode": 2})
    calls: list[tuple[PoolName, int]] = field(default_factory=list)

    async def state(self) -> ClusterState:
        pools = {p: PoolState(desired=n, ready=n, starting=0) for p, n in self.desired.items()}
        return ClusterState(pools=pools, budget_gpus=8)

    async def scale(self, pool: PoolName, replicas: int) -> None:
        self.calls.append((pool, replicas))
        self.desired[pool] = replicas

    async def set_autoscaling_paused(self, paused: bool) -> None:
        raise AssertionError("the local KEDA never pauses itself")

    async def autoscaling_paused(self) -> bool:
        return False


@dataclass
class FakeMetrics:
    values: dict[str, float | Exception | None]
    queries: list[str] = field(default_factory=list)

    async def instant(self, promql: str) -> float | None:
        self.queries.append(promql)
        key = "prefill" if "ttft" in promql else "decode"
        value = self.values[key]
        if isinstance(value, Exception):
            raise value
        return value


def make(
    values: dict[str, float | Exception | None], env: str = "prod"
) -> tuple[LocalKeda, FakeClock, FakeScaler, FakeMetrics, KedaPauseState]:
    clock, scaler, metrics, pause = FakeClock(), FakeScaler(), FakeMetrics(values), KedaPauseState()
    keda = LocalKeda(pool_rules(REPO / "k8s" / "keda", env, NAMES), scaler, metrics, clock, pause)
    return keda, clock, scaler, metrics, pause


async def run_until(keda: LocalKeda, clock: FakeClock, t_s: float) -> None:
    clock.limit = 10_000
    while clock.now < t_s * NS_PER_S:
        await keda.step()
        nxt = min(min(p.next_poll_ns, p.next_sync_ns) for p in keda._pools.values())
        await clock.sleep_until(nxt)


async def test_polls_every_polling_interval_and_syncs_every_15_s_of_demo_time() -> None:
    keda, clock, _, _metrics, _ = make({"prefill": 0.1, "decode": 0.1})
    clock.limit = 8
    with pytest.raises(Stop):
        await keda.run()
    # pollingInterval 10 s (the kit's files), HPA sync 15 s.
    assert [t / NS_PER_S for t in clock.sleeps[:6]] == [10, 15, 20, 30, 40, 45]


async def test_a_ttft_breach_scales_prefill_out_and_records_the_decision() -> None:
    keda, clock, scaler, _, _ = make({"prefill": 1.6, "decode": 0.6})
    await run_until(keda, clock, 16)
    # ratio 1.6 / 0.8 = 2 x 1 ready -> 2; the fresh HPA has no calmer recommendation to wait out.
    assert scaler.calls == [("prefill", 2)]
    decision = keda.decisions()["prefill"]
    assert (decision.metric, decision.threshold, decision.desired) == (1.6, 0.8, 2)
    assert decision.last_scale_ns == 15 * NS_PER_S
    # decode at 0.6 asks for ceil(0.75 x 2) = 2: calm enough to stay, not to scale in.
    assert keda.decisions()["decode"].desired == 2


async def test_no_data_holds_the_size_and_says_so() -> None:
    keda, clock, scaler, _, _ = make({"prefill": None, "decode": MetricsUnavailable("down")})
    await run_until(keda, clock, 100)
    assert scaler.calls == []
    notes = keda.notes()
    assert notes["prefill"] == "no data from Prometheus: holding 1 replicas"
    assert notes["decode"] == "Prometheus unavailable: holding 2 replicas"
    assert keda.decisions()["prefill"].metric is None
    # The first sync (15 s) found nothing: that is when the outage started, for both pools.
    assert {d.metrics_missing_since_ns for d in keda.decisions().values()} == {15 * NS_PER_S}
    assert keda.decisions()["decode"].note == notes["decode"]


async def test_an_outage_after_a_scale_out_holds_past_the_window_then_metrics_clear_it() -> None:
    keda, clock, scaler, metrics, _ = make({"prefill": 1.6, "decode": 0.6})
    await run_until(keda, clock, 16)
    assert scaler.calls == [("prefill", 2)]
    # Prometheus stops answering for longer than the 300 s scale-down window: with data this
    # calm the HPA would scale in; without data it must not move.
    metrics.values["prefill"] = MetricsUnavailable("timeout")
    await run_until(keda, clock, 700)
    assert scaler.calls == [("prefill", 2)]
    decision = keda.decisions()["prefill"]
    assert decision.metrics_missing_since_ns == 30 * NS_PER_S
    assert decision.desired == 2
    assert decision.note == "Prometheus unavailable: holding 2 replicas"
    metrics.values["prefill"] = 1.6
    await run_until(keda, clock, 720)
    assert keda.decisions()["prefill"].metrics_missing_since_ns is None
    assert keda.decisions()["prefill"].metric == 1.6


async def test_a_sustained_calm_scales_down_only_after_the_300_s_window() -> None:
    keda, clock, scaler, metrics, _ = make({"prefill": 1.6, "decode": 0.6})
    await run_until(keda, clock, 16)
    assert scaler.desired["prefill"] == 2
    metrics.values["prefill"] = 0.1
    await run_until(keda, clock, 300)
    assert scaler.desired["prefill"] == 2  # the t=15 s recommendation of 2 still counts
    await run_until(keda, clock, 330)
    assert scaler.calls[-1] == ("prefill", 1)


async def test_paused_pools_are_left_alone_and_resume_starts_a_fresh_hpa() -> None:
    keda, clock, scaler, metrics, pause = make({"prefill": 1.6, "decode": 3.0})
    pause.set_all(True)
    await run_until(keda, clock, 120)
    assert scaler.calls == []
    assert metrics.queries == []
    assert keda.notes()["decode"].startswith("paused")
    pause.set_all(False)
    await run_until(keda, clock, 150)
    assert ("prefill", 2) in scaler.calls
    assert ("decode", 4) in scaler.calls  # 3.0 / 0.8 x 2 = 7.5 -> +2 pods per 240 s
