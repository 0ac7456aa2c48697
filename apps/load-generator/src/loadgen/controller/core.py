"""The scenario controller: plays the demo script (auto), hands the pools to KEDA (manual), stops.

Auto pauses KEDA and plays the script's phases in a loop: each phase applies its load, resets
the pools to the layout the script implies at its start, then issues its scaling steps on time.
Manual resumes KEDA; the presenter sets rates and may override pool sizes. Stop ends arrivals
and resumes KEDA. The mode and phase are saved on every change; `run()` reconciles with the
saved state on start and keeps checking that KEDA is paused exactly while in auto mode, so a
restart (or a crash) never leaves KEDA paused outside auto mode. Times are the engine's demo
clock. Imports only the ports, the scenario models and the records vocabulary.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from demo_common.gpu_budget import budget_refusal
from loadgen.clock import Clock, s_to_ns
from loadgen.controller.outages import MetricsOutageWatch
from loadgen.controller.ports import (
    POOL_NAMES,
    AutoscalerView,
    ClusterScaler,
    ClusterState,
    ControllerObserver,
    LoadDriver,
    Mode,
    NoObserver,
    PoolName,
    SavedState,
    StateStore,
)
from loadgen.controller.state import EventSource, PoolsState, ScenarioState
from loadgen.controller.timeline import Timeline
from loadgen.controller.views import ControllerSnapshot, build_pools, build_state
from loadgen.demo_script.load import LoadConfig
from loadgen.demo_script.models import DemoScript
from loadgen.demo_script.phases import (
    Phase,
    PoolLayout,
    Segment,
    layout_at_phase_start,
    ordered_steps,
)
from loadgen.errors import (
    ConfigError,
    LoadgenError,
    ScaleGuardError,
    ScalerError,
    ScenarioModeError,
)

log = logging.getLogger(__name__)


class ScenarioController:
    """See the module docstring. `run()` must be running (in a TaskGroup) for auto mode."""

    def __init__(
        self,
        *,
        script: DemoScript,
        scaler: ClusterScaler,
        driver: LoadDriver,
        clock: Clock,
        store: StateStore,
        observer: ControllerObserver | None = None,
        autoscaler: AutoscalerView | None = None,
        backend: str = "local",
        speed: float = 1.0,
        poll_s: float = 2.0,
        start_mode: Mode = "manual",
        timeline: Timeline | None = None,
    ) -> None:
        self.script = script
        self.scaler = scaler
        self.driver = driver
        self.clock = clock
        self.autoscaler = autoscaler
        self.backend = backend
        self.speed = speed
        self.timeline = timeline or Timeline(clock)
        self._store = store
        self._observer: ControllerObserver = observer or NoObserver()
        self._poll_ns = s_to_ns(poll_s)
        self._start_mode: Mode = start_mode
        self.mode: Mode = "stopped"
        self.cycle = 0
        self.phase_index: int | None = None
        self.phase_start_ns = 0
        self.cluster: ClusterState | None = None
        self.paused: bool | None = None
        self._issued: dict[PoolName, int] = {}  # desired replicas as last set by us
        self._outages = MetricsOutageWatch(self.timeline, clock)
        if autoscaler is not None:
            self._observer.watch_metrics_missing(autoscaler.decisions)
        self.audience_choice: Segment = "live"  # the presenter's toggle of the audience screen
        self._last_error = ""
        self._lock = asyncio.Lock()
        self._tg: asyncio.TaskGroup | None = None
        self._play_task: asyncio.Task[None] | None = None
        self.reconciled = asyncio.Event()

    # ----- lifecycle -------------------------------------------------------------------------
    async def run(self) -> None:
        """Reconcile with the saved state, then watch the cluster until cancelled."""
        try:
            async with asyncio.TaskGroup() as tg:
                self._tg = tg
                await self._reconcile()
                self.reconciled.set()
                while True:
                    await self.poll()
                    await self.clock.sleep_until(self.clock.now_ns() + self._poll_ns)
        finally:
            self._tg = None
            # Shut down in auto mode: the saved mode stays auto (a restart continues the
            # cycle), but KEDA must not stay paused while no controller is playing.
            with contextlib.suppress(ScalerError):
                await asyncio.shield(self.scaler.set_autoscaling_paused(False))

    async def _reconcile(self) -> None:
        async with self._lock:
            try:
                saved = self._store.load()
            except ConfigError as exc:
                self.timeline.add("error", "controller", f"{exc}; starting in manual mode")
                saved = SavedState(mode="manual")
            try:  # the annotations outlive the app: a SIGKILLed run in auto mode leaves them set
                left_paused = await self.scaler.autoscaling_paused()
            except ScalerError as exc:
                self.timeline.add("error", "controller", f"KEDA pause state unknown: {exc}")
                left_paused = None
            mode: Mode = saved.mode if saved is not None else self._start_mode
            if mode == "auto" and self._playable():
                index = 0
                if saved is not None:
                    self.cycle = saved.cycle
                    if saved.phase_index is not None and saved.phase_index < len(
                        self.script.phases
                    ):
                        index = saved.phase_index
                note = "restart: continuing the cycle" if saved else "auto mode at start"
                try:
                    await self._enter_auto(index, note)
                    return
                except ScalerError as exc:
                    self.timeline.add("error", "controller", f"cannot pause KEDA: {exc}")
                mode = "manual"
            if mode == "auto":
                mode = "manual"
            self.mode = mode
            self._save()
            self.timeline.add("mode", "controller", f"{mode} mode at start; KEDA resumed")
            await self._set_paused(False)
            if left_paused and self.paused is False:
                self.timeline.add(
                    "keda", "controller", "KEDA was left paused by a previous run; resumed"
                )

    def _playable(self) -> bool:
        return bool(self.script.phases) and self.script.layout is not None

    # ----- mode changes (the API calls these) ------------------------------------------------
    async def set_auto(self) -> ScenarioState:
        async with self._lock:
            if not self._playable():
                raise ScenarioModeError("the demo script has no phases to play")
            if self.mode != "auto":
                self.cycle = 0
                await self._enter_auto(0, "auto mode: playing the demo script")
        return self.state()

    async def set_manual(self) -> ScenarioState:
        async with self._lock:
            if self.mode != "manual":
                await self._leave_auto()
                self.mode = "manual"
                self._save()
                self.timeline.add("mode", "presenter", "manual mode: KEDA scales the pools")
                await self._set_paused(False)
        return self.state()

    async def stop(self) -> ScenarioState:
        async with self._lock:
            await self._leave_auto()
            if self.driver.running():
                await self.driver.stop()
            if self.mode != "stopped":
                self.mode = "stopped"
                self._save()
                self.timeline.add("mode", "presenter", "stopped: arrivals ended, KEDA resumed")
            await self._set_paused(False)
        return self.state()

    def show_audience(self, show: Segment) -> ScenarioState:
        """The presenter's toggle (any mode): `comparison` overrides the phases' `show`."""
        if show != self.audience_choice:
            self.audience_choice = show
            self.timeline.add("mode", "presenter", f"audience screen: {show}")
        return self.state()

    async def scale_pool(self, pool: PoolName, replicas: int) -> PoolsState:
        """Presenter override; manual mode only (auto: the script scales; stopped: nothing)."""
        async with self._lock:
            if self.mode != "manual":
                owner = "the demo script" if self.mode == "auto" else "nobody (stopped)"
                raise ScenarioModeError(
                    f"pools are scaled by hand in manual mode only; in {self.mode} mode "
                    f"{owner} owns them"
                )
            try:
                await self._scale(pool, replicas, "presenter", "presenter override")
            except ScalerError as exc:
                self._scaler_failed("presenter", f"{pool} -> {replicas}: {exc}")
                raise
            assert self.cluster is not None
            return build_pools(self.cluster, self.budget_gpus(self.cluster))

    async def pools(self) -> PoolsState:
        """The pools as the cluster reports them now (a read: nothing is noted or counted)."""
        state = await self.scaler.state()
        return build_pools(state, self.budget_gpus(state))

    async def _enter_auto(self, index: int, note: str) -> None:
        await self.scaler.set_autoscaling_paused(True)
        self.paused = True
        self._observer.paused(True)
        self.mode = "auto"
        # The phase starts now: the answer to this request shows it, not the last one played.
        self.phase_index, self.phase_start_ns = index, self.clock.now_ns()
        self._save()
        self.timeline.add("mode", "controller", f"{note}; KEDA paused")
        self.timeline.add("keda", "controller", "KEDA paused for auto mode")
        if self._tg is None:
            raise ScenarioModeError("the controller is not running")
        self._play_task = self._tg.create_task(self._play(index))

    async def _leave_auto(self) -> None:
        task, self._play_task = self._play_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.phase_index = None
        self._observer.set_phase(None, "manual")

    async def _set_paused(self, paused: bool) -> None:
        """Best effort: a failure is an error event, and `poll()` keeps trying."""
        try:
            await self.scaler.set_autoscaling_paused(paused)
        except ScalerError as exc:
            action = "pause" if paused else "resume"
            self.timeline.add("error", "controller", f"KEDA {action} failed: {exc}")
            return
        if self.paused != paused:
            self.timeline.add("keda", "controller", "KEDA paused" if paused else "KEDA resumed")
        self.paused = paused
        self._observer.paused(paused)

    def _save(self) -> None:
        phase = None if self.phase_index is None else self.script.phases[self.phase_index]
        state = SavedState(
            mode=self.mode,
            cycle=self.cycle,
            phase_index=self.phase_index,
            phase_id=phase.id if phase else None,
            wall_time=self.timeline.wall_now().isoformat(),
        )
        try:
            self._store.save(state)
        except OSError as exc:  # the demo goes on; a restart then starts from the default
            self.timeline.add("error", "controller", f"scenario state not saved: {exc}")

    # ----- auto mode -------------------------------------------------------------------------
    async def _play(self, index: int) -> None:
        phases = self.script.phases
        while True:
            try:
                await self._play_phase(index)
            except Exception as exc:  # task edge: one phase's bug must not freeze the booth
                log.exception("phase %s failed", phases[index].id)
                self.timeline.add("error", "script", f"{phases[index].name} failed: {exc!r}")
                await self.clock.sleep_until(self.phase_start_ns + s_to_ns(phases[index].duration))
            index += 1
            if index == len(phases):
                index = 0
                self.cycle += 1
                self.timeline.add("phase", "script", f"cycle {self.cycle} complete")

    async def _play_phase(self, index: int) -> None:
        phase = self.script.phases[index]
        start_ns = self.clock.now_ns()
        self.phase_index, self.phase_start_ns = index, start_ns
        self._save()
        self._observer.set_phase(phase.id, "auto")
        self._observer.phase_started(phase.id)
        self.timeline.add("phase", "script", f"{phase.name}: {phase.caption}", phase=phase.id)
        assert self.script.layout is not None
        target = layout_at_phase_start(self.script.layout.initial, self.script.phases, index)
        why = "reset to the initial layout" if index == 0 else f"layout for {phase.name}"
        await self._apply_layout(target, why, phase.id)
        await self._apply_load(phase)
        for step in ordered_steps(phase):
            await self.clock.sleep_until(start_ns + s_to_ns(step.at))
            await self._script_scale(step.pool, step.replicas, step.reason or phase.name, phase.id)
        await self.clock.sleep_until(start_ns + s_to_ns(phase.duration))

    async def _apply_layout(self, target: PoolLayout, why: str, phase: str) -> None:
        try:
            state = await self._refresh()
        except ScalerError as exc:
            self.timeline.add("error", "controller", f"pool sizes unknown: {exc}", phase=phase)
            return
        # Scale-ins first, so the scale-outs fit the budget.
        order = sorted(POOL_NAMES, key=lambda p: target.of(p) - state.pools[p].desired)
        for pool in order:
            await self._script_scale(pool, target.of(pool), why, phase)

    async def _apply_load(self, phase: Phase) -> None:
        load: LoadConfig | None = phase.load
        if load is None:
            preset = self.script.preset(phase.preset or "")
            assert preset is not None  # validated at load
            load = preset.load
        try:
            await self.driver.apply(load)
            if not self.driver.running():
                await self.driver.start()
        except LoadgenError as exc:  # e.g. the engine still draining a stop: next phase retries
            self.timeline.add("error", "script", f"load for {phase.name}: {exc}", phase=phase.id)

    async def _script_scale(self, pool: PoolName, replicas: int, why: str, phase: str) -> None:
        try:
            await self._scale(pool, replicas, "script", why, phase)
        except ScaleGuardError as exc:
            self.timeline.add("error", "script", f"{pool} -> {replicas}: {exc}", phase=phase)
        except ScalerError as exc:
            self._scaler_failed("script", f"{pool} -> {replicas}: {exc}", phase)

    def _scaler_failed(self, source: EventSource, message: str, phase: str | None = None) -> None:
        """A scale call the cluster did not take (after the adapter's retries): shown, counted."""
        self.timeline.add("error", source, message, phase=phase)
        self._observer.scaler_failed(source)

    # ----- scaling, with the guard every path goes through ----------------------------------
    async def _scale(
        self,
        pool: PoolName,
        replicas: int,
        source: EventSource,
        why: str,
        phase: str | None = None,
    ) -> None:
        state = await self._refresh()
        current = {p: state.pools[p].desired for p in POOL_NAMES}
        refusal = budget_refusal(current, {**current, pool: replicas}, self.budget_gpus(state))
        if refusal is not None:
            raise ScaleGuardError(f"{pool} -> {replicas}: {refusal}")
        before = current[pool]
        if before == replicas:
            return
        await self.scaler.scale(pool, replicas)
        self._issued[pool] = replicas
        self._observer.scaled(pool, source, before, replicas)
        verb = "scale out" if replicas > before else "scale in"
        self.timeline.add(
            "scale", source, f"{verb} {pool} {before} -> {replicas}: {why}",
            pool=pool, from_replicas=before, to_replicas=replicas, phase=phase,
        )  # fmt: skip
        with contextlib.suppress(ScalerError):
            await self._refresh()

    def budget_gpus(self, state: ClusterState) -> int:
        """The tighter of the cluster's budget and the script's."""
        layout = self.script.layout
        return min(state.budget_gpus, layout.budget_gpus) if layout else state.budget_gpus

    async def _refresh(self) -> ClusterState:
        state = await self.scaler.state()
        self._note_outside_changes(state)
        self.cluster = state
        self._observer.pools(state.pools, self.budget_gpus(state))
        return state

    def _note_outside_changes(self, state: ClusterState) -> None:
        """A desired count we did not set: KEDA when it runs, someone else otherwise."""
        for pool in POOL_NAMES:
            new = state.pools[pool].desired
            known = self._issued.get(pool)
            self._issued[pool] = new
            if known is None or new == known:
                continue
            source: EventSource = "controller" if self.paused else "keda"
            who = "KEDA" if source == "keda" else "outside the controller"
            self._observer.scaled(pool, source, known, new)
            self.timeline.add(
                "scale", source, f"{pool} {known} -> {new} by {who}",
                pool=pool, from_replicas=known, to_replicas=new,
            )  # fmt: skip

    # ----- watching --------------------------------------------------------------------------
    async def poll(self) -> None:
        """Refresh pool sizes and the pause state; put KEDA back where the mode wants it."""
        if self.autoscaler is not None:
            self._outages.observe(self.autoscaler.decisions())
        try:
            await self._refresh()
            paused = await self.scaler.autoscaling_paused()
        except ScalerError as exc:
            if str(exc) != self._last_error:
                self._last_error = str(exc)
                self.timeline.add("error", "controller", f"cluster unreachable: {exc}")
            return
        self._last_error = ""
        self.paused = paused
        self._observer.paused(paused)
        want = self.mode == "auto"
        if paused != want and not self._lock.locked():
            found = "paused" if paused else "running"
            self.timeline.add("keda", "controller", f"KEDA found {found} in {self.mode} mode")
            await self._set_paused(want)

    def snapshot(self) -> ControllerSnapshot:
        """What the controller knows now, frozen: the views are built from this alone."""
        return ControllerSnapshot(
            now_ns=self.clock.now_ns(),
            script=self.script,
            mode=self.mode,
            cycle=self.cycle,
            phase_index=self.phase_index,
            phase_start_ns=self.phase_start_ns,
            cluster=self.cluster,
            paused=self.paused,
            decisions=dict(self.autoscaler.decisions()) if self.autoscaler is not None else {},
            audience_choice=self.audience_choice,
            timeline=tuple(self.timeline.events()),
            timeline_origin_ns=self.timeline.origin_ns,
            backend=self.backend,
            speed=self.speed,
        )

    def state(self) -> ScenarioState:
        return build_state(self.snapshot())
