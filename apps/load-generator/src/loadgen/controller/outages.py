"""Says on the timeline when the autoscaler loses its metric (and holds) and when it is back."""

from __future__ import annotations

from collections.abc import Mapping

from loadgen.clock import Clock, ns_to_s
from loadgen.controller.ports import POOL_NAMES, AutoscalerDecision, PoolName
from loadgen.controller.timeline import Timeline


class MetricsOutageWatch:
    """Compares each look at the autoscaler's decisions with the last: one event per change."""

    def __init__(self, timeline: Timeline, clock: Clock) -> None:
        self._timeline = timeline
        self._clock = clock
        self._since: dict[PoolName, int | None] = dict.fromkeys(POOL_NAMES)

    def observe(self, decisions: Mapping[PoolName, AutoscalerDecision]) -> None:
        for pool, d in decisions.items():
            since, known = d.metrics_missing_since_ns, self._since[pool]
            if since == known:
                continue
            self._since[pool] = since
            if since is not None:
                self._timeline.add(
                    "keda", "keda",
                    f"{pool}: metrics unavailable since t={self._timeline.seconds(since):.0f} s, "
                    f"holding (nothing scales on missing data): {d.note}",
                    pool=pool,
                )  # fmt: skip
            elif known is not None:
                lasted = ns_to_s(self._clock.now_ns() - known)
                self._timeline.add(
                    "keda", "keda",
                    f"{pool}: metrics back after ~{lasted:.0f} s; KEDA decides again", pool=pool,
                )  # fmt: skip
