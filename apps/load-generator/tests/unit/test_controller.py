"""Scenario controller on a fake clock and fake ports: the cycle, modes, guard, reconcile."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import FrozenInstanceError
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from demo_testing.controller import FakeAutoscaler, FakeDriver, FakeScaler
from demo_testing.doubles import FakeClock
from loadgen.adapters.controller_metrics import ControllerMetrics
from loadgen.adapters.state_store import FileStateStore, MemoryStateStore
from loadgen.clock import NS_PER_S
from loadgen.controller.core import ScenarioController
from loadgen.controller.ports import AutoscalerDecision, Mode, SavedState, StateStore
from loadgen.controller.views import build_state
from loadgen.demo_script import load_demo_script
from loadgen.demo_script.models import DemoScript
from loadgen.errors import EngineStateError, ScaleGuardError, ScalerUnavailable, ScenarioModeError

S = NS_PER_S
READY_NS = 208 * S  # a 70B worker's launch-to-ready time (calibration.md)


class Rig:
    def __init__(self, store: StateStore | None = None, *, paused: bool = False) -> None:
        self.clock = FakeClock(start_ns=0)
        self.script: DemoScript = load_demo_script()
        self.scaler = FakeScaler(self.clock, ready_delay_ns=READY_NS, paused=paused)
        self.driver = FakeDriver()
        self.store = store or MemoryStateStore()
        self.registry = CollectorRegistry()
        self.autoscaler = FakeAutoscaler()
        self.metrics = ControllerMetrics(self.registry)
        self.ctl = self.make()

    def make(self, start_mode: Mode = "manual") -> ScenarioController:
        return ScenarioController(
            script=self.script,
            scaler=self.scaler,
            driver=self.driver,
            clock=self.clock,
            store=self.store,
            observer=self.metrics,
            autoscaler=self.autoscaler,
            start_mode=start_mode,
        )

    def metric(self, name: str, **labels: str) -> float | None:
        return self.registry.get_sample_value(name, labels)

    def events(self, kind: str) -> list[str]:
        return [e.message for e in self.ctl.timeline.events() if e.kind == kind]

    def scale_events(self) -> list[tuple[float, str, int | None, int | None, str]]:
        return [
            (e.t_s, e.pool or "", e.from_replicas, e.to_replicas, e.source)
            for e in self.ctl.timeline.events()
            if e.kind == "scale"
        ]

    async def at(self, seconds: float) -> None:
        await self.clock.run_until(round(seconds * S))


@asynccontextmanager
async def running(rig: Rig, ctl: ScenarioController | None = None) -> AsyncIterator[Rig]:
    ctl = ctl or rig.ctl
    task = asyncio.get_running_loop().create_task(ctl.run())
    await rig.clock.settle()
    assert ctl.reconciled.is_set()
    try:
        yield rig
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_auto_plays_the_cycle_with_keda_paused_and_resets() -> None:
    rig = Rig()
    async with running(rig):
        state = await rig.ctl.set_auto()
        assert state.mode == "auto"
        assert rig.scaler.paused
        assert state.phase is not None
        assert state.phase.id == "baseline"
        await rig.at(779)
        assert rig.ctl.cycle == 0
        assert rig.scaler.desired() == {"prefill": 4, "decode": 4}
        await rig.at(781)
        assert rig.ctl.cycle == 1
        assert rig.scaler.desired() == {"prefill": 2, "decode": 3}
        assert rig.scaler.paused
    phases = [e.phase for e in rig.ctl.timeline.events() if e.kind == "phase" and e.phase]
    assert phases == [
        "baseline", "kv-cache", "prefill-stress", "decode-stress", "full-load", "baseline"
    ]  # fmt: skip
    # KV Cache starts at 90 s: decode in, prefill out +60 s; Prefill Stress at 210 s: decode
    # out +150 s; the reset scales in the bigger change first.
    assert rig.scale_events() == [
        (90.0, "decode", 3, 1, "script"),
        (150.0, "prefill", 2, 4, "script"),
        (360.0, "decode", 1, 4, "script"),
        (780.0, "prefill", 4, 2, "script"),
        (780.0, "decode", 4, 3, "script"),
    ]
    presets = [p.preset for p in rig.script.phases]
    expected = [rig.script.preset(p).load for p in presets if p] + [rig.script.presets[0].load]
    assert rig.driver.configs == expected
    assert rig.driver.starts == 1
    assert rig.metric("loadgen_scenario_phase_changes_total", phase="baseline") == 2
    assert rig.metric("loadgen_scenario_scale_events_total", pool="decode", source="script",
                      direction="out") == 1  # fmt: skip
    assert rig.metric("loadgen_scenario_phase_info", phase="baseline", mode="auto") == 1
    assert rig.metric("loadgen_keda_paused") == 1
    assert rig.metric("loadgen_gpu_budget") == 8
    # Shutting the controller down never leaves KEDA paused.
    assert rig.scaler.paused is False


async def test_phase_view_next_action_and_worker_starting() -> None:
    rig = Rig()
    async with running(rig):
        await rig.ctl.set_auto()
        await rig.at(100)
        state = rig.ctl.state()
        assert state.phase is not None
        assert (state.phase.id, state.phase.elapsed_s, state.phase.time_left_s) == (
            "kv-cache", 10.0, 110.0
        )  # fmt: skip
        assert state.next_action is not None
        assert (state.next_action.pool, state.next_action.replicas) == ("prefill", 4)
        assert state.next_action.in_s == 50.0
        assert "Prefill Stress" in state.next_action.reason
        await rig.at(160)
        state = rig.ctl.state()
        assert state.scaling == {"prefill": "worker starting (2)", "decode": "steady"}
        assert state.next_action is not None
        assert state.next_action.pool == "decode"
        assert state.next_action.in_s == 200.0  # 210 + 150 - 160
        await rig.at(150 + 208 + 2)
        assert rig.ctl.state().scaling["prefill"] == "steady"
        await rig.at(700)
        action = rig.ctl.state().next_action
        assert action is not None
        assert action.reason.startswith("reset")
        assert action.in_s == 80.0
        assert rig.metric("loadgen_pool_replicas", pool="prefill", state="ready") == 4


async def test_manual_resumes_keda_stops_the_script_and_allows_overrides() -> None:
    rig = Rig()
    async with running(rig):
        await rig.ctl.set_auto()
        with pytest.raises(ScenarioModeError, match="manual mode only"):
            await rig.ctl.scale_pool("decode", 4)
        await rig.at(120)
        state = await rig.ctl.set_manual()
        assert state.mode == "manual"
        assert state.phase is None
        assert state.next_action is None
        assert rig.scaler.paused is False
        await rig.at(400)
        assert rig.scaler.desired() == {"prefill": 2, "decode": 1}  # no step after 120 s ran
        cluster = await rig.ctl.scale_pool("decode", 4)
        assert cluster.pools["decode"].desired == 4
        assert rig.scale_events()[-1][1:] == ("decode", 1, 4, "presenter")
        assert rig.driver.running()  # manual keeps the load the presenter sees


async def test_guard_budget_and_minimum_on_every_path() -> None:
    rig = Rig()
    async with running(rig):
        with pytest.raises(ScaleGuardError, match="at least 1"):
            await rig.ctl.scale_pool("prefill", 0)
        with pytest.raises(ScaleGuardError, match=r"2 prefill \+ 7 decode = 9 GPUs, over the GPU"):
            await rig.ctl.scale_pool("decode", 7)
        rig.scaler.budget_gpus = 3  # a dev cluster under the prod script: the tighter wins
        with pytest.raises(ScaleGuardError, match="budget of 3"):
            await rig.ctl.scale_pool("decode", 4)
        await rig.ctl.set_auto()
        await rig.at(200)  # the script's prefill 4 step breaks the dev budget: refused, logged
        assert rig.scaler.desired() == {"prefill": 2, "decode": 1}  # the scale-in was allowed
        assert any("over the GPU budget of 3" in m for m in rig.events("error"))
        assert rig.ctl.mode == "auto"


async def test_stop_ends_arrivals_and_resumes_keda() -> None:
    rig = Rig()
    async with running(rig):
        await rig.ctl.set_auto()
        await rig.at(30)
        state = await rig.ctl.stop()
        assert state.mode == "stopped"
        assert not rig.driver.running()
        assert not rig.scaler.paused
        with pytest.raises(ScenarioModeError, match="stopped"):
            await rig.ctl.scale_pool("prefill", 3)
        await rig.at(300)
        assert rig.scaler.desired() == {"prefill": 2, "decode": 3}
        saved = rig.store.load()
        assert saved is not None
        assert (saved.mode, saved.phase_index, saved.phase_id) == ("stopped", None, None)


async def test_restart_in_auto_continues_the_cycle(tmp_path: Path) -> None:
    store = FileStateStore(tmp_path / "scenario.json")
    rig = Rig(store)
    async with running(rig):
        await rig.ctl.set_auto()
        await rig.at(300)  # Prefill Stress
    saved = store.load()
    assert saved is not None
    assert (saved.mode, saved.phase_id) == ("auto", "prefill-stress")
    assert rig.scaler.paused is False  # released on shutdown
    restarted = rig.make()
    async with running(rig, restarted):
        assert restarted.mode == "auto"
        assert rig.scaler.paused
        state = restarted.state()
        assert state.phase is not None
        assert state.phase.id == "prefill-stress"
        assert state.phase.elapsed_s == 0.0
        # The layout at Prefill Stress's start is re-applied (it is the one in place already).
        assert rig.scaler.desired() == {"prefill": 4, "decode": 1}
        await rig.at(300 + 191)
        assert rig.scaler.desired()["decode"] == 4


@pytest.mark.parametrize(
    ("saved", "expected"),
    [
        (SavedState(mode="manual"), "manual"),
        (SavedState(mode="stopped"), "stopped"),
        (None, "manual"),
    ],
)
async def test_crash_outside_auto_resumes_keda_on_start(
    saved: SavedState | None, expected: Mode
) -> None:
    """A crash between pausing KEDA and saving the mode: the next start resumes KEDA."""
    rig = Rig(MemoryStateStore(saved), paused=True)
    async with running(rig):
        assert rig.ctl.mode == expected
        assert rig.scaler.paused is False
        assert rig.metric("loadgen_keda_paused") == 0
        assert "KEDA was left paused by a previous run; resumed" in rig.events("keda")


async def test_a_clean_start_does_not_claim_keda_was_left_paused() -> None:
    rig = Rig(MemoryStateStore(SavedState(mode="manual")), paused=False)
    async with running(rig):
        assert not any("left paused" in m for m in rig.events("keda"))


async def test_unreadable_state_file_starts_manual(tmp_path: Path) -> None:
    path = tmp_path / "scenario.json"
    path.write_text("{not json")
    rig = Rig(FileStateStore(path), paused=True)
    async with running(rig):
        assert rig.ctl.mode == "manual"
        assert not rig.scaler.paused
        assert any("unreadable scenario state" in m for m in rig.events("error"))


async def test_start_mode_auto_without_saved_state() -> None:
    rig = Rig()
    async with running(rig, rig.make(start_mode="auto")) as r:
        assert r.scaler.paused


async def test_poll_puts_keda_back_and_attributes_outside_scaling() -> None:
    rig = Rig()
    async with running(rig):
        rig.scaler.set_desired("decode", 4)  # KEDA scaled while running (manual mode)
        await rig.at(3)
        assert rig.scale_events()[-1][1:] == ("decode", 3, 4, "keda")
        assert rig.metric("loadgen_scenario_scale_events_total", pool="decode", source="keda",
                          direction="out") == 1  # fmt: skip
        rig.scaler.paused = True  # someone paused KEDA in manual mode
        await rig.at(6)
        assert rig.scaler.paused is False
        assert any("found paused" in m for m in rig.events("keda"))
        await rig.ctl.set_auto()
        rig.scaler.paused = False  # ... or resumed it in auto mode
        await rig.at(10)
        assert rig.scaler.paused is True


async def test_scaler_outage_is_an_event_and_the_cycle_goes_on() -> None:
    rig = Rig()
    async with running(rig):
        await rig.ctl.set_auto()
        rig.scaler.fail = ScalerUnavailable("control API timed out")
        await rig.at(160)  # the KV Cache step fails
        rig.scaler.fail = None
        await rig.at(400)
        errors = rig.events("error")
        assert any("control API timed out" in m for m in errors)
        failed = [m for m in errors if "control API timed out" in m and "->" in m]
        assert rig.metric("loadgen_scenario_scaler_errors_total", source="script") == len(failed)
        assert failed
        assert rig.ctl.state().phase.id == "prefill-stress"
        assert rig.scaler.desired()["decode"] == 4  # later steps still ran


async def test_resume_failure_is_retried_by_the_poll() -> None:
    rig = Rig()
    async with running(rig):
        await rig.ctl.set_auto()
        rig.scaler.fail = ScalerUnavailable("down")
        state = await rig.ctl.set_manual()
        assert state.mode == "manual"
        assert any("resume failed" in m for m in rig.events("error"))
        rig.scaler.fail = None
        await rig.at(5)
        assert rig.scaler.paused is False


async def test_keda_view_comes_from_the_autoscaler() -> None:
    rig = Rig()
    rig.autoscaler.current["prefill"] = AutoscalerDecision(
        metric=3.5, threshold=2.0, desired=2, last_scale_ns=12 * S
    )
    async with running(rig):
        keda = rig.ctl.state().keda
        assert keda.paused is False
        assert keda.backend == "local"
        assert keda.pools["prefill"].last_scale_s == 12.0
        assert keda.pools["decode"].threshold is None


async def test_autoscaler_without_metrics_holds_and_says_so_on_the_timeline() -> None:
    rig = Rig()
    holding = "Prometheus unavailable: holding 3 replicas"
    async with running(rig):
        rig.autoscaler.current["decode"] = AutoscalerDecision(
            metric=None, threshold=0.8, desired=3, last_scale_ns=None,
            metrics_missing_since_ns=1 * S, note=holding,
        )  # fmt: skip
        # One source: the gauge says what the API says at the same instant, before any poll.
        assert rig.metric("loadgen_keda_metrics_missing", pool="decode") == 1
        assert rig.ctl.state().keda.pools["decode"].metrics_missing_since_s == 1.0
        await rig.at(4)
        keda = rig.ctl.state().keda.pools["decode"]
        assert (keda.metrics_missing_since_s, keda.note, keda.desired) == (1.0, holding, 3)
        assert rig.metric("loadgen_keda_metrics_missing", pool="decode") == 1
        await rig.at(20)  # still out: said once, not on every poll
        rig.autoscaler.current["decode"] = AutoscalerDecision(
            metric=0.4, threshold=0.8, desired=3, last_scale_ns=None
        )
        assert rig.metric("loadgen_keda_metrics_missing", pool="decode") == 0
        await rig.at(24)
    said = [m for m in rig.events("keda") if m.startswith("decode: metrics")]
    assert said == [
        f"decode: metrics unavailable since t=1 s, holding (nothing scales on missing data): "
        f"{holding}",
        "decode: metrics back after ~21 s; KEDA decides again",  # seen by the t=22 s poll
    ]
    assert [c for c in rig.scaler.calls if c[0] == "scale"] == []  # nothing scaled meanwhile


async def test_script_without_phases_cannot_go_auto() -> None:
    rig = Rig()
    rig.script = rig.script.model_copy(update={"phases": ()})
    ctl = rig.make()
    async with running(rig, ctl):
        with pytest.raises(ScenarioModeError, match="no phases"):
            await ctl.set_auto()


async def test_a_load_driver_error_is_an_event_and_the_cycle_goes_on() -> None:
    rig = Rig()

    async def refuse(config: object) -> None:
        raise EngineStateError("cannot start: the engine is stopping")

    rig.driver.apply = refuse
    async with running(rig):
        await rig.ctl.set_auto()
        await rig.at(200)
        assert rig.ctl.mode == "auto"
        assert any("engine is stopping" in m for m in rig.events("error"))
        assert rig.scaler.desired()["prefill"] == 4  # the scaling steps still ran


async def test_an_unexpected_error_in_a_phase_is_an_event_and_the_next_phase_plays() -> None:
    rig = Rig()
    calls = 0

    async def crash_once(config: object) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ValueError("no arrival pending at rate 0")

    rig.driver.apply = crash_once
    async with running(rig):
        await rig.ctl.set_auto()
        first = rig.script.phases[0]
        await rig.at(first.duration + 1)
        assert rig.ctl.mode == "auto"
        assert rig.ctl.phase_index == 1, "the cycle did not go on after the failed phase"
        assert any("Baseline failed: ValueError" in m for m in rig.events("error"))


async def test_going_auto_answers_with_the_phase_it_just_started() -> None:
    rig = Rig()
    async with running(rig):
        await rig.ctl.set_auto()
        await rig.at(200)  # well into the second phase
        await rig.ctl.set_manual()
        await rig.at(400)
        state = await rig.ctl.set_auto()  # the answer, before the play task has run at all
        assert state.phase is not None
        assert (state.phase.id, state.phase.index, state.cycle) == ("baseline", 0, 0)
        assert state.phase.elapsed_s == 0.0
        assert state.phase.time_left_s == state.phase.duration_s
        assert state.next_action is not None
        assert state.next_action.in_s == 90.0  # KV Cache's decode scale-in, 90 s from now


async def test_pools_over_the_budget_may_shrink_but_not_grow() -> None:
    rig = Rig()
    rig.scaler.set_desired("prefill", 6)  # 6 + 3 = 9: scaled past the budget of 8 by hand
    async with running(rig):
        with pytest.raises(ScaleGuardError, match="10 GPUs, over the GPU budget of 8"):
            await rig.ctl.scale_pool("decode", 4)
        cluster = await rig.ctl.scale_pool("prefill", 5)  # towards the budget: allowed
        assert cluster.pools["prefill"].desired == 5


async def test_without_an_observer_the_controller_plays_the_same() -> None:
    rig = Rig()
    ctl = ScenarioController(
        script=rig.script, scaler=rig.scaler, driver=rig.driver, clock=rig.clock,
        store=rig.store,
    )  # fmt: skip
    async with running(rig, ctl):
        await ctl.set_auto()
        await rig.at(160)
        assert rig.scaler.desired() == {"prefill": 4, "decode": 1}
    assert rig.metric("loadgen_keda_paused") == 0.0  # the rig's metrics heard nothing


async def test_views_are_built_from_a_frozen_snapshot() -> None:
    rig = Rig()
    async with running(rig):
        before = rig.ctl.snapshot()
        await rig.ctl.set_auto()
        await rig.at(30)
        assert build_state(before).mode == "manual"  # what was known then, unchanged
        assert build_state(before).timeline == list(before.timeline)
        now = rig.ctl.snapshot()
        assert (now.mode, now.phase_index, now.now_ns) == ("auto", 0, 30 * S)
        with pytest.raises(FrozenInstanceError):
            now.mode = "manual"  # type: ignore[misc]
