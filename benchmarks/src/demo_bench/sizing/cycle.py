"""The whole auto-mode cycle replayed in sequence: backlog carried across phases, pools scaled.

Each phase's preset becomes its stretch of one mooncake trace (the phases one after another, as
the scenario controller plays them); dynamo.replay runs it once on the AIS timing with the
script's scale steps applied through the replay's scaling-policy hook: a scale-in at the time
it is issued (the worker drains), a scale-out when the new worker is ready (`worker_start_s`
after it is issued). What a preset replayed alone cannot show, this does: the queue a phase
leaves to the next, and whether the last phase (Full Load) ends green.

Reported as the rehearsal reads a run (demo_bench.rehearsal.analysis): 30 s windows every 10 s,
ITL of a window = p95 over its requests' tokens (each request's mean ITL, weighted by its
tokens), requests selected by send time for the stress effects and by completion time for the
audience's green/red (its live window holds the requests that finished in the last 30 s).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from demo_bench.sizing.trace import TraceRow, build_trace, workload_of, write_trace
from demo_common.corpus import Corpus
from loadgen.demo_script.models import DemoScript
from localcluster.perfmodel import HardwareProfile

GREEN_TAIL_S = 60.0  # Full Load must end with this long green for every workload


@dataclass(frozen=True)
class PoolChange:
    """A pool reaching `replicas` serving workers at `t_s` (cycle seconds)."""

    t_s: float
    issued_s: float
    pool: str
    replicas: int


@dataclass(frozen=True)
class Done:
    """One replayed request, times in cycle seconds."""

    workload: str
    sent_s: float
    done_s: float
    ttft_s: float
    itl_s: float  # the request's mean inter-token latency
    tokens: int


def phase_starts(script: DemoScript) -> list[float]:
    starts, t = [], 0.0
    for phase in script.phases:
        starts.append(t)
        t += phase.duration
    return starts


def pool_changes(script: DemoScript, worker_start_s: float) -> list[PoolChange]:
    """The cycle's scale steps as the times pools change: scale-outs when ready."""
    if script.layout is None:
        raise ValueError("the demo script has no cycle (layout + phases)")
    current = {"prefill": script.layout.initial.prefill, "decode": script.layout.initial.decode}
    changes = []
    for start, phase in zip(phase_starts(script), script.phases, strict=True):
        for step in phase.scale:
            issued = start + step.at
            grows = step.replicas > current[step.pool]
            ready = issued + worker_start_s if grows else issued
            changes.append(PoolChange(ready, issued, step.pool, step.replicas))
            current[step.pool] = step.replicas
    return sorted(changes, key=lambda c: c.t_s)


class ScriptedScaling:
    """dynamo.replay's offline scaling policy (`initial_tick_ms`, `on_tick`): the pool sizes
    the script asks for, at the times they serve."""

    def __init__(self, changes: Sequence[PoolChange], prefill: int, decode: int) -> None:
        self._changes = list(changes)
        self._next = 0
        self._target = {"prefill": prefill, "decode": decode}

    def initial_tick_ms(self) -> float:
        return self._changes[0].t_s * 1e3 if self._changes else float("inf")

    def on_tick(self, _snapshot: Mapping[str, Any]) -> dict[str, float | int | None]:
        if self._next < len(self._changes):
            now = self._changes[self._next].t_s
            while self._next < len(self._changes) and self._changes[self._next].t_s <= now:
                change = self._changes[self._next]
                self._target[change.pool] = change.replicas
                self._next += 1
        upcoming = self._changes[self._next].t_s * 1e3 if self._next < len(self._changes) else None
        return {
            "target_prefill": self._target["prefill"],
            "target_decode": self._target["decode"],
            "next_tick_ms": upcoming,
        }


def cycle_trace(script: DemoScript, corpus: Corpus, *, seed: int, block: int) -> list[TraceRow]:
    """Every phase's preset traffic for the phase's duration, one after another."""
    rows: list[TraceRow] = []
    for k, (start, phase) in enumerate(zip(phase_starts(script), script.phases, strict=True)):
        preset = script.preset(phase.preset) if phase.preset else None
        load = phase.load if preset is None else preset.load
        if load is None:
            continue
        for row in build_trace(script, corpus, load, seed=seed + k, duration_s=phase.duration,
                               block=block):  # fmt: skip
            workload, index = row.session_id.split("-", 1)
            at = None if row.timestamp is None else round(row.timestamp + start * 1e3, 3)
            rows.append(replace(row, session_id=f"{workload}-p{k}-{index}", timestamp=at))
    return rows


def replay_cycle(
    script: DemoScript, rows: Sequence[TraceRow], trace_dir: Path, profile: HardwareProfile,
    model_dir: Path,
) -> list[Done]:  # fmt: skip
    """Replay the cycle's trace once with the script's pool changes; completed requests."""
    os.environ.setdefault("DYN_LOG", "error")
    # The public run_trace_replay takes a scaling policy only as Dynamo's planner; the native
    # entry point it wraps takes any object with `initial_tick_ms` / `on_tick` (its docstring).
    from dynamo._core import run_mocker_trace_replay  # heavy import, only when replaying

    assert script.layout is not None
    trace = write_trace(list(rows), trace_dir / "cycle.jsonl")
    initial = script.layout.initial
    # The replay's clock starts at the first arrival: shift the pool changes onto it, and the
    # requests' times back onto the cycle's.
    offset_s = min((r.timestamp for r in rows if r.timestamp is not None), default=0.0) / 1e3
    changes = [
        replace(c, t_s=c.t_s - offset_s) for c in pool_changes(script, profile.worker_start_s)
    ]
    report = run_mocker_trace_replay(
        [str(trace)],
        prefill_engine_args=profile.replay_engine_args(model_dir, "prefill"),
        decode_engine_args=profile.replay_engine_args(model_dir, "decode"),
        num_prefill_workers=initial.prefill,
        num_decode_workers=initial.decode,
        router_mode="kv_router",
        capture_per_request=True,
        trace_block_size=profile.block_size,
        scaling_policy=ScriptedScaling(changes, initial.prefill, initial.decode),
    )
    done = []
    for r in report.per_request or []:
        if r.get("terminal_status", "completed") != "completed" or r.get("ttft_ms") is None:
            continue
        done.append(
            Done(
                workload=workload_of(str(r["session_id"])),
                sent_s=float(r["arrival_time_ms"]) / 1e3 + offset_s,
                done_s=float(r["last_token_ms"]) / 1e3 + offset_s,
                ttft_s=float(r["ttft_ms"]) / 1e3,
                itl_s=float(r["itl_ms"] or 0.0) / 1e3,
                tokens=int(r["output_length"]),
            )
        )
    return done


def phase_spans(script: DemoScript) -> dict[str, tuple[float, float]]:
    """Each phase's (start, end) in cycle seconds."""
    return {
        phase.id: (start, start + phase.duration)
        for start, phase in zip(phase_starts(script), script.phases, strict=True)
    }
