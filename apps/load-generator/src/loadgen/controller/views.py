"""ScenarioState and PoolsState built from a snapshot of what the controller knows (no I/O)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from demo_common.gpu_budget import MIN_POOL_REPLICAS, largest_allowed
from loadgen.clock import ns_to_s, s_to_ns
from loadgen.controller.ports import (
    POOL_NAMES,
    AutoscalerDecision,
    ClusterState,
    Mode,
    PoolName,
    PoolState,
)
from loadgen.controller.state import (
    AudienceView,
    KedaPoolView,
    KedaView,
    NextAction,
    PhaseView,
    PoolsState,
    PoolView,
    ScenarioState,
    TimelineEvent,
)
from loadgen.controller.timeline import demo_seconds
from loadgen.demo_script.models import DemoScript
from loadgen.demo_script.phases import Segment, layout_at_phase_start, ordered_steps


@dataclass(frozen=True)
class ControllerSnapshot:
    """What the controller knew at `now_ns` (its demo clock); the views read nothing else."""

    now_ns: int
    script: DemoScript
    mode: Mode
    cycle: int
    phase_index: int | None
    phase_start_ns: int
    cluster: ClusterState | None
    paused: bool | None
    decisions: Mapping[PoolName, AutoscalerDecision]
    audience_choice: Segment
    timeline: tuple[TimelineEvent, ...]
    timeline_origin_ns: int
    backend: str
    speed: float

    def seconds(self, at_ns: int) -> float:
        """Demo seconds since the controller started, as the timeline shows them."""
        return demo_seconds(at_ns, self.timeline_origin_ns)


def scaling_text(pool: PoolState) -> str:
    """What the audience sees next to a pool: steady, workers starting, or draining."""
    if pool.starting > 0:
        return f"worker starting ({pool.starting})"
    if pool.ready > pool.desired:
        return f"draining ({pool.ready - pool.desired})"
    if pool.ready < pool.desired:
        return f"waiting for {pool.desired - pool.ready} worker(s)"
    return "steady"


def build_state(ctl: ControllerSnapshot) -> ScenarioState:
    now_ns = ctl.now_ns
    phase_view = None
    if ctl.mode == "auto" and ctl.phase_index is not None:
        phase = ctl.script.phases[ctl.phase_index]
        elapsed_s = max(0.0, ns_to_s(now_ns - ctl.phase_start_ns))
        phase_view = PhaseView(
            id=phase.id,
            name=phase.name,
            caption=phase.caption,
            index=ctl.phase_index,
            count=len(ctl.script.phases),
            duration_s=phase.duration,
            elapsed_s=round(min(elapsed_s, phase.duration), 3),
            time_left_s=round(max(0.0, phase.duration - elapsed_s), 3),
            preset=phase.preset,
        )
    cluster = ctl.cluster
    scaling = {
        p: scaling_text(cluster.pools[p]) if cluster is not None else "unknown" for p in POOL_NAMES
    }
    keda_pools = {}
    for pool in POOL_NAMES:
        d = ctl.decisions.get(pool)
        keda_pools[pool] = KedaPoolView(
            metric=d.metric if d else None,
            threshold=d.threshold if d else None,
            desired=d.desired if d else None,
            last_scale_s=(
                ctl.seconds(d.last_scale_ns) if d and d.last_scale_ns is not None else None
            ),
            metrics_missing_since_s=(
                ctl.seconds(d.metrics_missing_since_ns)
                if d and d.metrics_missing_since_ns is not None
                else None
            ),
            note=d.note or None if d else None,
        )
    return ScenarioState(
        mode=ctl.mode,
        cycle=ctl.cycle,
        phase=phase_view,
        next_action=next_action(ctl, now_ns),
        scaling=scaling,
        keda=KedaView(
            paused=bool(ctl.paused),
            backend="cluster" if ctl.backend == "cluster" else "local",
            pools=keda_pools,
        ),
        timeline=list(ctl.timeline),
        speed=ctl.speed,
        audience=audience_view(ctl),
    )


def audience_view(ctl: ControllerSnapshot) -> AudienceView:
    """The presenter's toggle wins; else an auto phase with `show: comparison`; else live."""
    chosen = ctl.audience_choice
    if chosen == "comparison":
        return AudienceView(show=chosen, source="presenter", presenter=chosen)
    if ctl.mode == "auto" and ctl.phase_index is not None:
        show = ctl.script.phases[ctl.phase_index].show
        if show != "live":
            return AudienceView(show=show, source="script", presenter=chosen)
    return AudienceView(show="live", source="default", presenter=chosen)


def next_action(ctl: ControllerSnapshot, now_ns: int) -> NextAction | None:
    """The script's next scaling step from now, up to the reset at the end of the cycle."""
    if ctl.mode != "auto" or ctl.phase_index is None or ctl.script.layout is None:
        return None
    phases = ctl.script.phases
    start_ns = ctl.phase_start_ns
    for index in range(ctl.phase_index, len(phases)):
        phase = phases[index]
        for step in ordered_steps(phase):
            at_ns = start_ns + s_to_ns(step.at)
            if at_ns > now_ns:
                return NextAction(
                    pool=step.pool,
                    replicas=step.replicas,
                    in_s=round(ns_to_s(at_ns - now_ns), 3),
                    reason=step.reason or phase.name,
                )
        start_ns += s_to_ns(phase.duration)
    initial = ctl.script.layout.initial
    final = layout_at_phase_start(initial, phases, len(phases))
    for pool in POOL_NAMES:  # the cycle's end resets the layout
        if final.of(pool) != initial.of(pool):
            return NextAction(
                pool=pool,
                replicas=initial.of(pool),
                in_s=round(max(0.0, ns_to_s(start_ns - now_ns)), 3),
                reason="reset to the initial layout for the next cycle",
            )
    return None


def build_pools(state: ClusterState, budget: int) -> PoolsState:
    """The pools as the presenter's tiles show them; `budget` is the controller's (the tighter
    of the cluster's and the script's)."""
    used = sum(state.pools[p].desired for p in POOL_NAMES)
    desired = {p: state.pools[p].desired for p in POOL_NAMES}
    pools = {}
    for pool in POOL_NAMES:
        s = state.pools[pool]
        pools[pool] = PoolView(
            desired=s.desired, ready=s.ready, starting=s.starting,
            min=MIN_POOL_REPLICAS, max=largest_allowed(pool, desired, budget),
        )  # fmt: skip
    return PoolsState(budget_gpus=budget, free_gpus=max(0, budget - used), pools=pools)
