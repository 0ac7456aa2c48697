"""The local stand-in for KEDA + its HPAs: scales the local pools on the kit's own ScaledObjects.

Reads k8s/keda (base + the env overlay, unchanged), queries the local Prometheus with their
PromQL, applies KEDA's and the HPA's rules (`keda_rules`) and calls the cluster scaler. Two
schedules per pool, as in a cluster: KEDA polls the trigger every `pollingInterval`, the HPA
syncs every 15 s (and reads a fresh value, or the last poll's with useCachedMetrics). All times
are on the given clock (the engine's demo clock: SPEED scales polling, syncs and windows).
When Prometheus has no value the pool holds its size and the decision says so (its note, and
since when: `metrics_missing_since_ns`): nothing scales on missing data. That is upstream KEDA's
behaviour on a scaler error without a `fallback` (k8s/keda configures none): the HPA gets no
metric and keeps the replica count. (The real KEDA reads an empty answer as 0 by default; the
kit's queries end in `or vector(0)`, so "no data" here means Prometheus itself did not answer.)
Paused pools are left alone; resuming starts from a fresh HPA, as KEDA recreates it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from loadgen.adapters.keda_rules import (
    HPA_SYNC_PERIOD_S,
    HpaMemory,
    PoolRules,
    evaluate,
    longest_period_s,
    record_scale,
)
from loadgen.clock import NS_PER_S, Clock
from loadgen.controller.ports import (
    POOL_NAMES,
    AutoscalerDecision,
    ClusterScaler,
    MetricsReader,
    PoolName,
)
from loadgen.errors import MetricsUnavailable, ScalerError

log = logging.getLogger(__name__)


class KedaPauseState:
    """`autoscaling.keda.sh/paused` per ScaledObject, kept locally (no API server to hold it)."""

    def __init__(self) -> None:
        self._paused: dict[PoolName, bool] = dict.fromkeys(POOL_NAMES, False)
        self._epochs: dict[PoolName, int] = dict.fromkeys(POOL_NAMES, 0)
        self.changes = 0

    def set_all(self, paused: bool) -> None:
        for pool in POOL_NAMES:
            if self._paused[pool] != paused:
                self._paused[pool] = paused
                self._epochs[pool] += 1
                self.changes += 1
                log.info("local KEDA %s for %s", "paused" if paused else "resumed", pool)

    def paused(self, pool: PoolName) -> bool:
        return self._paused[pool]

    def any_paused(self) -> bool:
        return any(self._paused.values())

    def epoch(self, pool: PoolName) -> int:
        """Bumps on every pause/resume of the pool."""
        return self._epochs[pool]


@dataclass
class _Pool:
    rules: PoolRules
    next_poll_ns: int
    next_sync_ns: int
    epoch: int
    memory: HpaMemory = field(default_factory=HpaMemory)
    polled: float | None = None
    metric: float | None = None
    desired: int | None = None
    last_scale_ns: int | None = None
    missing_since_ns: int | None = None  # the first sync without a value, in this outage
    query_error: str = ""  # the last failed query's error ("" when it answered)
    note: str = "waiting for the first sync"


class LocalKeda:
    """Poll loop (`run`) plus its last decision per pool (`decisions`, `notes`)."""

    def __init__(
        self,
        rules: Mapping[PoolName, PoolRules],
        scaler: ClusterScaler,
        metrics: MetricsReader,
        clock: Clock,
        pause: KedaPauseState,
        *,
        sync_period_s: float = HPA_SYNC_PERIOD_S,
    ) -> None:
        self._scaler = scaler
        self._metrics = metrics
        self._clock = clock
        self._pause = pause
        self._sync_ns = round(sync_period_s * NS_PER_S)
        start_ns = clock.now_ns()
        self._pools = {
            pool: _Pool(r, start_ns, start_ns + self._sync_ns, pause.epoch(pool))
            for pool, r in rules.items()
        }

    def decisions(self) -> Mapping[PoolName, AutoscalerDecision]:
        return {
            pool: AutoscalerDecision(
                metric=p.metric,
                threshold=p.rules.threshold,
                desired=p.desired,
                last_scale_ns=p.last_scale_ns,
                metrics_missing_since_ns=p.missing_since_ns,
                note=p.note,
            )
            for pool, p in self._pools.items()
        }

    def notes(self) -> Mapping[PoolName, str]:
        """Why each pool is where it is (for logs and the timeline)."""
        return {pool: p.note for pool, p in self._pools.items()}

    async def run(self) -> None:
        """Evaluate when a poll or sync is due, forever (cancel to stop)."""
        while True:
            await self.step()
            wake_ns = min(min(p.next_poll_ns, p.next_sync_ns) for p in self._pools.values())
            await self._clock.sleep_until(wake_ns)

    async def step(self) -> None:
        """Do whatever polls and syncs are due now."""
        now_ns = self._clock.now_ns()
        for pool, p in self._pools.items():
            if self._pause.epoch(pool) != p.epoch:
                # Paused or resumed since the last look: KEDA removes the HPA while paused and
                # creates a fresh one (no recommendations, no scale events) on resume.
                p.epoch = self._pause.epoch(pool)
                p.memory = HpaMemory()
                p.next_poll_ns = now_ns
                p.next_sync_ns = now_ns + self._sync_ns
            if self._pause.paused(pool):
                p.note = "paused (autoscaling.keda.sh/paused)"
                p.next_poll_ns = max(p.next_poll_ns, now_ns + self._sync_ns)
                p.next_sync_ns = max(p.next_sync_ns, now_ns + self._sync_ns)
                continue
            fresh: float | None = None
            queried = False
            if now_ns >= p.next_poll_ns:
                fresh, queried = await self._query(pool, p), True
                p.polled = fresh
                p.next_poll_ns = now_ns + p.rules.polling_interval_s * NS_PER_S
            if now_ns >= p.next_sync_ns:
                p.next_sync_ns = now_ns + self._sync_ns
                if p.rules.use_cached_metrics:
                    value = p.polled
                elif queried:
                    value = fresh
                else:
                    value = await self._query(pool, p)
                await self._sync(pool, p, now_ns, value)

    async def _query(self, pool: PoolName, p: _Pool) -> float | None:
        try:
            value = await self._metrics.instant(p.rules.query)
        except MetricsUnavailable as exc:
            log.warning("local KEDA %s: %s", pool, exc)
            p.query_error = str(exc)
            return None
        p.query_error = ""
        return value

    async def _sync(self, pool: PoolName, p: _Pool, now_ns: int, value: float | None) -> None:
        p.metric = value
        try:
            state = (await self._scaler.state()).pools[pool]
        except ScalerError as exc:
            p.note = f"pool state unavailable, holding: {exc}"
            log.warning("local KEDA %s: %s", pool, p.note)
            return
        if value is None:
            if p.missing_since_ns is None:
                p.missing_since_ns = now_ns
                log.warning("local KEDA %s: no metric from Prometheus, holding", pool)
            why = "Prometheus unavailable" if p.query_error else "no data from Prometheus"
            p.note = f"{why}: holding {state.desired} replicas"
            return
        if p.missing_since_ns is not None:
            log.info("local KEDA %s: metrics back", pool)
            p.missing_since_ns = None
        result = evaluate(
            p.rules, p.memory, now_ns=now_ns, value=value, current=state.desired, ready=state.ready
        )
        p.memory = result.memory
        p.desired = result.desired
        p.note = result.reason
        if result.desired == state.desired or result.desired < 1:
            return
        try:
            await self._scaler.scale(pool, result.desired)
        except ScalerError as exc:
            p.note = f"scale to {result.desired} failed: {exc}"
            log.warning("local KEDA %s: %s", pool, p.note)
            return
        p.memory = record_scale(
            p.memory, now_ns, state.desired, result.desired, longest_period_s(p.rules)
        )
        p.last_scale_ns = now_ns
        log.info(
            "local KEDA scaled %s %d -> %d (metric %.3f, threshold %.3f: %s)",
            pool,
            state.desired,
            result.desired,
            value,
            p.rules.threshold,
            result.reason,
        )
