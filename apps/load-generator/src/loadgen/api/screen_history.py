"""What the screens' charts draw, kept for the last five minutes so a reloaded page backfills.

One point per live snapshot (1 Hz of wall time): TTFT/ITL p50/p95 per workload, chat TTFT turn 1
vs turns 2+, throughput, the router's KV hit rate (Prometheus) and the pool sizes (the scaler).
The store is bounded by age and by count; GET /api/history serves it, GET /api/kv-cache the
latest KV reading. A KV reading is "live" only while fresh: Prometheus down or silent makes it
"unavailable", never the last number shown as current.
"""

from __future__ import annotations

import asyncio
import math
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from loadgen.adapters.router_kv import RECORDED_AS, read_kv_hit_ratio
from loadgen.controller.ports import POOL_NAMES, ClusterScaler, MetricsReader, PoolName
from loadgen.errors import MetricsUnavailable, ScalerError
from loadgen.metrics.snapshot import LiveSnapshot, TurnWindow
from loadgen.records import WORKLOADS, Workload
from loadgen.runtime import Runtime

WINDOW_S = 300.0  # what the charts show
READ_TIMEOUT_S = 2.0  # a slow Prometheus or scaler must not hold the 1 Hz points back
STALE_AFTER_S = 10.0  # a KV reading older than this is not shown as live
KV_DETAIL = (
    "prompt tokens already cached on the prefill worker the router chose / all prompt tokens, "
    f"last minute (router metrics in Prometheus, as {RECORDED_AS})"
)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class KvReading(_Model):
    """The router's prefill-side KV cache hit rate as last read from Prometheus."""

    status: Literal["live", "no_data", "unavailable"]
    ratio: float | None = None  # set only when live
    read_at: datetime | None = None  # when Prometheus last answered
    detail: str


class LatencyPoint(_Model):
    """Milliseconds; None when the window has no sample."""

    ttft_p50_ms: float | None
    ttft_p95_ms: float | None
    itl_p50_ms: float | None
    itl_p95_ms: float | None


class PoolPoint(_Model):
    ready: int
    desired: int


class HistoryPoint(_Model):
    t_s: float  # epoch seconds of the live snapshot
    workloads: dict[Workload, LatencyPoint]
    chat_ttft_turn1_ms: float | None  # mean, first turns
    chat_ttft_later_ms: float | None  # mean, turns 2+ (prefix cached)
    achieved_rps: float
    target_rps: float
    output_tokens_per_s: float
    kv_hit_ratio: float | None  # router, prefill side; None = no data or Prometheus down
    pools: dict[PoolName, PoolPoint] | None  # None = the scaler did not answer (or none wired)


class HistoryView(_Model):
    window_s: float
    points: list[HistoryPoint]
    kv: KvReading


def pooled_ttft_ms(turns: Iterable[TurnWindow]) -> float | None:
    """Exact mean TTFT over several turn labels (each carries its own count and mean)."""
    n, total = 0, 0.0
    for turn in turns:
        if turn.ttft_ms.count > 0 and turn.ttft_ms.mean is not None:
            n += turn.ttft_ms.count
            total += turn.ttft_ms.mean * turn.ttft_ms.count
    return total / n if n else None


def point_of(
    snapshot: LiveSnapshot, kv: KvReading, pools: dict[PoolName, PoolPoint] | None
) -> HistoryPoint:
    views = snapshot.workloads
    first = snapshot.chat_turns.get("1")
    later = [t for label, t in snapshot.chat_turns.items() if label != "1"]
    return HistoryPoint(
        t_s=snapshot.at.timestamp(),
        workloads={
            w: LatencyPoint(
                ttft_p50_ms=views[w].ttft_ms.p50,
                ttft_p95_ms=views[w].ttft_ms.p95,
                itl_p50_ms=views[w].itl_ms.p50,
                itl_p95_ms=views[w].itl_ms.p95,
            )
            for w in WORKLOADS
        },
        chat_ttft_turn1_ms=pooled_ttft_ms([first] if first else []),
        chat_ttft_later_ms=pooled_ttft_ms(later),
        achieved_rps=round(sum(views[w].achieved_rps for w in WORKLOADS), 4),
        target_rps=round(sum(views[w].target_rps for w in WORKLOADS), 4),
        output_tokens_per_s=round(sum(views[w].output_tokens_per_s for w in WORKLOADS), 3),
        kv_hit_ratio=kv.ratio if kv.status == "live" else None,
        pools=pools,
    )


class ScreenHistory:
    """The last `window_s` of points (by their own time stamps), at most `capacity` of them,
    and the latest KV reading."""

    def __init__(
        self,
        *,
        window_s: float = WINDOW_S,
        capacity: int = 600,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.window_s = window_s
        self._points: deque[HistoryPoint] = deque(maxlen=capacity)
        self._now = now
        self._kv = KvReading(status="unavailable", detail="not read yet")

    def add(self, point: HistoryPoint) -> None:
        if self._points and point.t_s <= self._points[-1].t_s:
            return  # time stamps only move forward; a repeat would draw a back-step
        self._points.append(point)
        while self._points[0].t_s < point.t_s - self.window_s:
            self._points.popleft()

    def points(self, after_s: float | None = None) -> list[HistoryPoint]:
        """Points newer than `after_s` (all of them without it)."""
        if after_s is None:
            return list(self._points)
        return [p for p in self._points if p.t_s > after_s]

    def set_kv(self, reading: KvReading) -> None:
        self._kv = reading

    def kv(self) -> KvReading:
        """The latest reading; "unavailable" once it is older than STALE_AFTER_S."""
        reading = self._kv
        if reading.status == "unavailable" or reading.read_at is None:
            return reading
        age_s = (self._now() - reading.read_at).total_seconds()
        if age_s <= STALE_AFTER_S:
            return reading
        return KvReading(
            status="unavailable",
            read_at=reading.read_at,
            detail=f"no answer from Prometheus for {age_s:.0f} s",
        )

    def view(self, after_s: float | None = None) -> HistoryView:
        return HistoryView(window_s=self.window_s, points=self.points(after_s), kv=self.kv())


async def read_kv(reader: MetricsReader | None, previous: KvReading) -> KvReading:
    """One reading. A failure keeps the time of the last answer (how long it has been down)."""
    if reader is None:
        return KvReading(status="unavailable", detail="no Prometheus configured for this app")
    try:
        async with asyncio.timeout(READ_TIMEOUT_S):
            ratio = await read_kv_hit_ratio(reader)
    except (MetricsUnavailable, TimeoutError) as exc:
        reason = str(exc) or f"no answer within {READ_TIMEOUT_S:g} s"
        return KvReading(
            status="unavailable", read_at=previous.read_at, detail=f"Prometheus: {reason}"
        )
    now = datetime.now(UTC)
    if ratio is None or not math.isfinite(ratio):
        return KvReading(status="no_data", read_at=now, detail="no prompts in the last minute")
    return KvReading(status="live", ratio=ratio, read_at=now, detail=KV_DETAIL)


async def read_pools(scaler: ClusterScaler | None) -> dict[PoolName, PoolPoint] | None:
    if scaler is None:
        return None
    try:
        async with asyncio.timeout(READ_TIMEOUT_S):
            state = await scaler.state()
    except (ScalerError, TimeoutError):
        return None
    return {
        p: PoolPoint(ready=state.pools[p].ready, desired=state.pools[p].desired) for p in POOL_NAMES
    }


async def _record(runtime: Runtime, reader: MetricsReader | None, history: ScreenHistory) -> None:
    scaler = runtime.scenario.scaler if runtime.scenario is not None else None
    async with runtime.engine.subscribe() as queue:
        while True:
            snapshot = await queue.get()
            kv, pools = await asyncio.gather(read_kv(reader, history.kv()), read_pools(scaler))
            history.set_kv(kv)
            history.add(point_of(snapshot, kv, pools))


@asynccontextmanager
async def recording(runtime: Runtime, reader: MetricsReader | None) -> AsyncIterator[ScreenHistory]:
    """Record one point per live snapshot while the block runs."""
    tick_s = runtime.engine.settings.tick_s
    history = ScreenHistory(capacity=math.ceil(WINDOW_S / tick_s) + 10)
    async with asyncio.TaskGroup() as tg:
        task = tg.create_task(_record(runtime, reader, history))
        try:
            yield history
        finally:
            task.cancel()
