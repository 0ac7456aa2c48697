"""The controller's event timeline: capped, newest last, every event also logged."""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime

from loadgen.clock import Clock, ns_to_s
from loadgen.controller.ports import PoolName
from loadgen.controller.state import EventKind, EventSource, TimelineEvent

log = logging.getLogger("loadgen.scenario")


def utc_now() -> datetime:
    return datetime.now(UTC)


def demo_seconds(at_ns: int, origin_ns: int) -> float:
    """Demo seconds from `origin_ns` to `at_ns`, rounded for display."""
    return round(ns_to_s(at_ns - origin_ns), 3)


class Timeline:
    """Events stamped in demo seconds since `origin_ns` on the controller's clock."""

    def __init__(
        self,
        clock: Clock,
        *,
        capacity: int = 200,
        wall_clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._clock = clock
        self._wall_clock = wall_clock
        self.origin_ns = clock.now_ns()
        self._events: deque[TimelineEvent] = deque(maxlen=capacity)

    def seconds(self, at_ns: int) -> float:
        """Demo seconds since the origin, rounded for display."""
        return demo_seconds(at_ns, self.origin_ns)

    def add(
        self,
        kind: EventKind,
        source: EventSource,
        message: str,
        *,
        pool: PoolName | None = None,
        from_replicas: int | None = None,
        to_replicas: int | None = None,
        phase: str | None = None,
    ) -> TimelineEvent:
        event = TimelineEvent(
            t_s=self.seconds(self._clock.now_ns()),
            wall_time=self._wall_clock().isoformat(timespec="milliseconds"),
            kind=kind,
            source=source,
            pool=pool,
            from_replicas=from_replicas,
            to_replicas=to_replicas,
            phase=phase,
            message=message,
        )
        self._events.append(event)
        level = logging.WARNING if kind == "error" else logging.INFO
        log.log(level, "t=%.1fs %s/%s: %s", event.t_s, kind, source, message)
        return event

    def wall_now(self) -> datetime:
        return self._wall_clock()

    def events(self) -> list[TimelineEvent]:
        return list(self._events)
