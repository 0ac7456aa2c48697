"""The controller's observer as Prometheus series (names in docs/contracts.md)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge

from loadgen.controller.ports import POOL_NAMES, AutoscalerDecision, PoolName, PoolState


class ControllerMetrics:
    """A ControllerObserver registered on the app's registry, so /metrics serves its series
    with the client's."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.phase_info = Gauge(
            "loadgen_scenario_phase_info", "1 for the phase being played", ["phase", "mode"],
            registry=registry,
        )  # fmt: skip
        self.phase_changes = Counter(
            "loadgen_scenario_phase_changes", "Phases started", ["phase"], registry=registry
        )
        self.scale_events = Counter(
            "loadgen_scenario_scale_events", "Pool replica changes, by who made them",
            ["pool", "source", "direction"], registry=registry,
        )  # fmt: skip
        self.pool_replicas = Gauge(
            "loadgen_pool_replicas", "Workers per pool and state", ["pool", "state"],
            registry=registry,
        )  # fmt: skip
        self.gpu_budget = Gauge("loadgen_gpu_budget", "GPUs the pools may use", registry=registry)
        self.keda_paused = Gauge(
            "loadgen_keda_paused", "1 while the autoscaler is paused", registry=registry
        )
        self.scaler_errors = Counter(
            "loadgen_scenario_scaler_errors",
            "Scale calls the cluster did not take after the adapter's retries, by who asked",
            ["source"], registry=registry,
        )  # fmt: skip
        self.keda_metrics_missing = Gauge(
            "loadgen_keda_metrics_missing",
            "1 while the autoscaler gets no metric for the pool and holds its size",
            ["pool"], registry=registry,
        )  # fmt: skip

    def set_phase(self, phase: str | None, mode: str) -> None:
        self.phase_info.clear()
        if phase is not None:
            self.phase_info.labels(phase, mode).set(1)

    def phase_started(self, phase: str) -> None:
        self.phase_changes.labels(phase).inc()

    def scaled(self, pool: PoolName, source: str, before: int, after: int) -> None:
        direction = "out" if after > before else "in"
        self.scale_events.labels(pool, source, direction).inc()

    def pools(self, pools: Mapping[PoolName, PoolState], budget_gpus: int) -> None:
        for pool, state in pools.items():
            for name in ("desired", "ready", "starting"):
                self.pool_replicas.labels(pool, name).set(getattr(state, name))
        self.gpu_budget.set(budget_gpus)

    def paused(self, paused: bool) -> None:
        self.keda_paused.set(1 if paused else 0)

    def watch_metrics_missing(
        self, decisions: Callable[[], Mapping[PoolName, AutoscalerDecision]]
    ) -> None:
        """The gauge reads the autoscaler's decisions at scrape time: the same source as the
        API's `keda.pools.*.metrics_missing_since_s`, so the two never disagree (a gauge set on
        the controller's poll lagged the API by up to one poll)."""

        def missing(pool: PoolName) -> float:
            d = decisions().get(pool)
            return 1.0 if d is not None and d.metrics_missing_since_ns is not None else 0.0

        for pool in POOL_NAMES:
            self.keda_metrics_missing.labels(pool).set_function(functools.partial(missing, pool))

    def scaler_failed(self, source: str) -> None:
        self.scaler_errors.labels(source).inc()
