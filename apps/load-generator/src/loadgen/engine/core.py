"""The Engine: lanes of open-loop arrivals per workload, in-flight caps, live config, start/stop.

Every task (arrival loops, arrivals' jobs, monitors) belongs to the TaskGroup the engine opens in
`async with engine:`. Stop ends the arrivals, lets in-flight work drain for a bounded time, then
cancels what is left; every arrival ends as exactly one kind of record (ok, error with a
reason, dropped with a reason, or stopped: cut by the stop, which is not an error), so nothing
is silently lost.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from datetime import UTC, datetime
from itertools import count
from typing import Any, Literal

from loadgen.clock import Clock, ns_to_s, s_to_ns
from loadgen.demo_script.load import LoadConfig
from loadgen.demo_script.models import Slo
from loadgen.engine.arrivals import PoissonArrivals
from loadgen.engine.lanes import Lane, LaneRunner
from loadgen.engine.monitor import SATURATION_HORIZON_S, LoopLagProbe, Ticker
from loadgen.engine.ports import RecordSink, RequestSender
from loadgen.engine.settings import EngineSettings
from loadgen.errors import EngineStateError
from loadgen.metrics.live import LiveWindow, SnapshotHub
from loadgen.metrics.prometheus import LoadgenMetrics
from loadgen.metrics.recorder import write_summary
from loadgen.metrics.snapshot import (
    EngineState,
    LiveSnapshot,
    build_snapshot,
    client_health,
    session_summary,
)
from loadgen.metrics.tally import Tally, latency_digest
from loadgen.records import (
    REASON_CANCELLED,
    REASON_IN_FLIGHT_CAP,
    REASON_QUEUE_FULL,
    REASON_STOPPED,
    WORKLOADS,
    ChatRequest,
    RequestRecord,
    Workload,
)
from loadgen.workloads.base import WorkloadDriver

log = logging.getLogger(__name__)
REASON_INTERNAL = "internal"


class Engine:
    """Drives the workloads against one endpoint; see module docstring."""

    def __init__(
        self,
        *,
        sender: RequestSender,
        drivers: Mapping[Workload, WorkloadDriver],
        config: LoadConfig,
        slos: Mapping[Workload, Slo],
        clock: Clock,
        settings: EngineSettings | None = None,
        metrics: LoadgenMetrics | None = None,
        sinks: Sequence[RecordSink] = (),
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        self.clock = clock
        self.settings = settings or EngineSettings()
        self._sender = sender
        self._lanes = {w: Lane(w, drivers[w]) for w in WORKLOADS}
        self._config = config
        self._slos = dict(slos)
        self._metrics = metrics
        self._sinks = list(sinks)
        self._metadata = dict(metadata or {})
        self._live = LiveWindow(self.settings.window_s)
        self._session = Tally()
        self._state: EngineState = "idle"
        self._stop_event = asyncio.Event()
        self._jobs: dict[asyncio.Task[None], LaneRunner] = {}
        self._idle = asyncio.Event()  # set whenever no arrival is being worked on
        self._stack: AsyncExitStack | None = None
        self._tg: asyncio.TaskGroup | None = None
        self._ids = count(1)
        self._sessions = 0
        self._started_at: datetime | None = None
        self._start_ns = 0
        self._history: list[dict[str, Any]] = []
        self._lag_probe = LoopLagProbe(self.clock, self.settings.loop_probe_s)
        self._snapshot: LiveSnapshot | None = None
        self._hub = SnapshotHub()
        self.last_summary: dict[str, Any] | None = None
        self._set_targets()

    # ----- lifecycle -------------------------------------------------------------------------
    async def __aenter__(self) -> Engine:
        self._stack = AsyncExitStack()
        self._tg = await self._stack.enter_async_context(asyncio.TaskGroup())
        # The screens refresh at tick_s of wall time whatever the speed factor.
        ticker = Ticker(self.clock, self.settings.tick_s * self.clock.speed, self._publish)
        self._monitors = [
            self._tg.create_task(self._lag_probe.run()),
            self._tg.create_task(ticker.run()),
        ]
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._state == "running":
            await self.stop()
        for task in self._monitors:
            task.cancel()
        for sink in self._sinks:
            sink.close()
        assert self._stack is not None
        await self._stack.aclose()
        self._tg = None

    @property
    def state(self) -> EngineState:
        return self._state

    @property
    def config(self) -> LoadConfig:
        return self._config

    async def start(self) -> None:
        """Begin arrivals with the current config."""
        if self._tg is None:
            raise EngineStateError("engine used outside `async with`")
        if self._state != "idle":
            raise EngineStateError(f"cannot start: the engine is {self._state}")
        now = self.clock.now_ns()
        self._sessions += 1
        self._session = Tally()
        self._live.restart(now)
        self._start_ns = now
        self._started_at = datetime.now(UTC)
        self._history = [{"at_s": 0.0, "config": self._config.model_dump()}]
        self._stop_event.clear()
        self._state = "running"
        for w, lane in self._lanes.items():
            seed = f"{self.settings.seed}:{w}:{self._sessions}:arrivals"
            lane.arrivals = PoissonArrivals(seed, self._config.rate_of(w), now)
            lane.loop_task = self._tg.create_task(self._arrival_loop(lane))

    async def stop(self) -> dict[str, Any]:
        """End arrivals, drain up to `drain_s`, cancel the rest; returns the session summary."""
        if self._state != "running":
            raise EngineStateError(f"cannot stop: the engine is {self._state}")
        self._state = "stopping"
        self._stop_event.set()
        loops = [lane.loop_task for lane in self._lanes.values() if lane.loop_task is not None]
        for lane in self._lanes.values():
            lane.wake.set()
        await asyncio.gather(*loops)
        for lane in self._lanes.values():
            queued, lane.queue = lane.queue, deque()
            for intended in queued:
                self._dropped(lane.workload, intended, REASON_STOPPED)
        if self._jobs:  # drain on the engine's clock, so tests drive it in virtual time
            self._idle.clear()
            deadline = self.clock.now_ns() + s_to_ns(self.settings.drain_s)
            await self.clock.sleep_until(deadline, self._idle)
        pending = dict(self._jobs)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)
        for runner in pending.values():
            if not runner.sent:  # cancelled before its first request (possibly before it ran)
                lane = runner.lane
                self._record(self._synthetic(lane.workload, runner.intended_ns, "stopped",
                                             REASON_STOPPED))  # fmt: skip
        summary = self._summary(cancelled=len(pending))
        if self.settings.summary_dir is not None:
            try:
                summary["file"] = str(write_summary(self.settings.summary_dir, summary))
            except OSError as exc:  # the session is over either way; say why there is no file
                log.error("summary not written to %s: %s", self.settings.summary_dir, exc)
                summary["file_error"] = f"{self.settings.summary_dir}: {exc.strerror}"
        for sink in self._sinks:
            sink.flush()
        self.last_summary = summary
        self._state = "idle"
        return summary

    def configure(self, config: LoadConfig) -> None:
        """Apply a new config now: rates change without a burst, caps at once."""
        self._config = config
        self._set_targets()
        if self._state != "running":
            return
        now = self.clock.now_ns()
        at_s = round(ns_to_s(now - self._start_ns), 3)
        self._history.append({"at_s": at_s, "config": config.model_dump()})
        for w, lane in self._lanes.items():
            assert lane.arrivals is not None
            lane.arrivals.set_rate(config.rate_of(w), now)
            lane.wake.set()
            self._fill_from_queue(lane)

    def _set_targets(self) -> None:
        if self._metrics is not None:
            for w in WORKLOADS:
                self._metrics.target_rps.labels(w).set(self._config.rate_of(w))

    # ----- arrivals --------------------------------------------------------------------------
    async def _arrival_loop(self, lane: Lane) -> None:
        assert lane.arrivals is not None
        while self._state == "running":
            lane.wake.clear()
            due = lane.arrivals.next_ns
            if due is None:
                await lane.wake.wait()
                continue
            woke_early = not await self.clock.sleep_until(due, lane.wake)
            # A rate change can land between the timer firing and this task resuming (the
            # wake flag set after the sleep ended): then the pending arrival is another one,
            # or none at all at rate 0.
            if woke_early or lane.arrivals.next_ns != due or self._state != "running":
                continue  # rate changed or stopping: look again
            intended = lane.arrivals.pop()
            now = self.clock.now_ns()
            self._live.add_arrival(lane.workload, now - intended, now)
            self._session.add_arrival(lane.workload, now - intended)
            self._admit(lane, intended)

    def _admit(self, lane: Lane, intended_ns: int) -> None:
        if lane.active < self._config.max_in_flight:
            self._launch(lane, intended_ns)
        elif self.settings.overflow == "queue" and len(lane.queue) < self.settings.queue_limit:
            lane.queue.append(intended_ns)
        else:
            reason = REASON_IN_FLIGHT_CAP if self.settings.overflow == "drop" else REASON_QUEUE_FULL
            self._dropped(lane.workload, intended_ns, reason)

    def _launch(self, lane: Lane, intended_ns: int) -> None:
        assert self._tg is not None
        lane.active += 1
        self._live.add_dispatch(lane.workload, self.clock.now_ns())
        self._session.add_dispatch(lane.workload)
        runner = LaneRunner(lane, intended_ns, self.clock, self._stop_event, self._send)
        task = self._tg.create_task(self._job(runner))
        self._jobs[task] = runner
        task.add_done_callback(self._job_done)

    def _job_done(self, task: asyncio.Task[None]) -> None:
        self._jobs.pop(task, None)
        if not self._jobs:
            self._idle.set()

    def _fill_from_queue(self, lane: Lane) -> None:
        while lane.queue and lane.active < self._config.max_in_flight and self._state == "running":
            self._launch(lane, lane.queue.popleft())

    async def _job(self, runner: LaneRunner) -> None:
        lane, intended_ns = runner.lane, runner.intended_ns
        try:
            await lane.driver.run_arrival(runner, intended_ns)
        except Exception:  # task edge: a workload bug must not take the session down
            log.exception("%s arrival failed", lane.workload)
            self._record(self._synthetic(lane.workload, intended_ns, "error", REASON_INTERNAL))
        finally:
            lane.active -= 1
            self._fill_from_queue(lane)

    async def _send(self, lane: Lane, request: ChatRequest, intended_ns: int) -> RequestRecord:
        lane.in_flight += 1
        if self._metrics is not None:
            self._metrics.in_flight.labels(lane.workload).inc()
        started_ns = self.clock.now_ns()
        try:
            record = await self._sender.send(request, intended_ns=intended_ns)
        except asyncio.CancelledError:
            # Cut by the presenter's stop: counted apart from errors (the screen shows failures).
            stopping = self._state == "stopping"
            cancelled = self._synthetic(
                lane.workload, intended_ns, "stopped" if stopping else "error",
                REASON_STOPPED if stopping else REASON_CANCELLED, request.turn,
            )  # fmt: skip
            cancelled.send_ns, cancelled.end_ns = started_ns, self.clock.now_ns()
            cancelled.conversation_id = request.conversation_id
            self._record(cancelled)
            raise
        finally:
            lane.in_flight -= 1
            if self._metrics is not None:
                self._metrics.in_flight.labels(lane.workload).dec()
        self._record(record)
        return record

    def _synthetic(
        self, workload: Workload, intended_ns: int, status: Literal["error", "dropped", "stopped"],
        reason: str, turn: int = 1,
    ) -> RequestRecord:  # fmt: skip
        return RequestRecord(
            request_id=f"engine-{next(self._ids)}",
            workload=workload,
            turn=turn,
            conversation_id=None,
            status=status,
            reason=reason,
            intended_ns=intended_ns,
        )

    def _dropped(self, workload: Workload, intended_ns: int, reason: str) -> None:
        self._record(self._synthetic(workload, intended_ns, "dropped", reason))

    def _record(self, record: RequestRecord) -> None:
        now = self.clock.now_ns()
        if record.status in ("ok", "error"):
            record.within_slo = self._slos[record.workload].met_by(record)
        if self._metrics is not None:
            self._metrics.observe(record)
        digest = latency_digest(record) if record.status in ("ok", "error") else None
        self._live.add_record(record, now, digest)
        self._session.add_record(record, digest)
        for sink in self._sinks:
            sink.write(record)

    # ----- views ----------------------------------------------------------------------------
    def _publish(self) -> None:
        self._hub.publish(self.snapshot())
        for sink in self._sinks:
            sink.flush(wait=False)

    def snapshot(self) -> LiveSnapshot:
        """The live window now (also refreshes the achieved-rate and health gauges)."""
        tally, span_s = self._live.tally(self.clock.now_ns())
        loop_lag_ns = self._lag_probe.worst_ns()
        recent = self._live.recent_dispatch_lag(self.clock.now_ns(), SATURATION_HORIZON_S)
        health = client_health(loop_lag_ns, recent, self.settings.saturation_lag_ms)
        snap = build_snapshot(
            at=datetime.now(UTC),
            state=self._state,
            tally=tally,
            span_s=span_s,
            targets={w: self._config.rate_of(w) for w in WORKLOADS},
            lanes={w: (ln.in_flight, ln.active, len(ln.queue)) for w, ln in self._lanes.items()},
            slos=self._slos,
            client=health,
        )
        if self._metrics is not None:
            for w, view in snap.workloads.items():
                self._metrics.achieved_rps.labels(w).set(view.achieved_rps)
            self._metrics.event_loop_lag.set(health.event_loop_lag_ms / 1000)
            self._metrics.client_saturated.set(int(health.saturated))
        self._snapshot = snap
        return snap

    @property
    def latest_snapshot(self) -> LiveSnapshot | None:
        return self._snapshot

    def subscribe(self) -> AbstractAsyncContextManager[asyncio.Queue[LiveSnapshot]]:
        """A queue receiving each 1 Hz snapshot while the context is open."""
        return self._hub.subscribe()

    def _summary(self, cancelled: int) -> dict[str, Any]:
        duration_s = ns_to_s(self.clock.now_ns() - self._start_ns)
        return session_summary(
            self._session,
            duration_s,
            started_at=self._started_at,
            extra={
                "settings": self.settings.model_dump(mode="json"),
                "config_history": self._history,
                "cancelled_at_stop": cancelled,
                "slos": {w: s.model_dump() for w, s in self._slos.items()},
                **self._metadata,
            },
        )
