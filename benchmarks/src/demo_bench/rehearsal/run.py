"""Play auto-mode cycles against the real local stack and keep every raw series for the report.

The stack runs as its own process (`localcluster up`, as `loadgen demo` starts it); the load
generator's runtime and scenario controller run in this process with the local backend ports
(pool control API + local KEDA + Prometheus), exactly as the app wires them.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import aiohttp
import psutil
from prometheus_client import start_http_server

from demo_bench.rehearsal.analysis import PoolSample, Sample, SloBounds
from demo_common.corpus import load_corpus
from demo_common.net import free_port, held_port
from loadgen.adapters.local_stack import local_stack_process
from loadgen.clock import NS_PER_S
from loadgen.controller.core import ScenarioController
from loadgen.controller_wiring import PortsFactory, open_backend_ports
from loadgen.demo_script import DemoScript, load_demo_script
from loadgen.demo_script.phases import PoolName
from loadgen.records import RequestRecord
from loadgen.runtime import Runtime, open_runtime, settle_heap
from loadgen.settings import Settings

SAMPLE_WALL_S = 1.0
# The manual-mode rehearsal plays these (KEDA-driven scaling of the stress phases).
MANUAL_PHASES = ("baseline", "prefill-stress", "decode-stress")


class CollectSink:
    """Keeps what the analysis needs of every record (the per-token ITLs included).

    Only that, not the records: thousands of kept records with their per-event gap lists make
    every full garbage collection scan millions of items, a pause of up to ~0.8 s in the
    client's event loop on a 2-core machine (records/2026-11-30-2core/client-loop-lag).
    """

    def __init__(self) -> None:
        self.records: list[tuple[int, Sample]] = []  # (send or intended instant ns, sample)

    def write(self, record: RequestRecord) -> None:
        # Never mutate the record: the sinks after this one (the JSONL log) see it too.
        itl = tuple(v / NS_PER_S for v, n in record.itl_per_token_ns() for _ in range(n))
        ttft = record.ttft_ns
        sample = Sample(
            workload=record.workload,
            turn=record.turn,
            ok=record.ok,
            t_s=0.0,  # set against the controller's origin once the run is over
            ttft_s=None if ttft is None else ttft / NS_PER_S,
            itl_s=itl,
            input_tokens=record.input_tokens,
            reason=record.reason,
            max_gap_s=None if record.max_gap_ns is None else record.max_gap_ns / NS_PER_S,
            frozen_s=record.frozen_ns / NS_PER_S,
        )
        self.records.append((record.send_ns or record.intended_ns, sample))

    def flush(self, *, wait: bool = True) -> None:
        pass

    def close(self) -> None:
        pass

    def samples(self, origin_ns: int) -> list[Sample]:
        return [replace(s, t_s=(at_ns - origin_ns) / NS_PER_S) for at_ns, s in self.records]


@dataclass
class RawRun:
    speed: float
    env: str
    script: str
    started_at: str
    wall_s: float = 0.0
    timeline: list[dict[str, Any]] = field(default_factory=list)
    samples: list[Sample] = field(default_factory=list)
    pools: list[PoolSample] = field(default_factory=list)
    cpu: list[dict[str, float]] = field(default_factory=list)
    client_saturated: list[bool] = field(default_factory=list)
    phase_wall: dict[str, tuple[float, float]] = field(default_factory=dict)
    router: dict[str, dict[str, float | None]] = field(default_factory=dict)
    slos: dict[str, SloBounds] = field(default_factory=dict)
    mode: str = "auto"


async def rehearse(
    *,
    work: Path,
    speed: float,
    env: Literal["prod", "dev"],
    script_path: Path | None,
    corpus: str,
    cycles: int = 1,
    extra_stack_args: tuple[str, ...] = (),
    mode: Literal["auto", "manual"] = "auto",
    manual_phases: tuple[str, ...] | None = MANUAL_PHASES,
    ports: Callable[[Settings], PortsFactory] | None = None,
    hand_back: bool = False,
) -> RawRun:
    """Play the script on a fresh local stack. Auto: the controller plays `cycles` cycles.
    Manual: the presenter's part — each phase in `manual_phases` (None: all) at its load, no
    scripted scale-out; with `hand_back` the presenter applies the script's scale-ins
    (`presenter_scale_ins`), without it the pools stay as they start (the comparison's static
    layouts). `ports` replaces the backend ports (e.g. without the local KEDA)."""
    script = load_demo_script(script_path)
    # The exporter's port is held from here until the exporter binds it (the stack's workers
    # take ports from the same range meanwhile); closed on any way out.
    hold = held_port()
    metrics_port = hold.getsockname()[1]
    stack_args = [
        f"--env={env}", f"--speed={speed:g}", "--workdir", str(work),
        "--frontend-port", str(free_port()), "--prometheus-port", str(free_port()),
        "--control-port", str(free_port()), *extra_stack_args,
        # The local KEDA's queries read the load generator's own histograms: scrape them.
        "--scrape-target", f"127.0.0.1:{metrics_port}",
    ]  # fmt: skip
    raw = RawRun(
        speed=speed,
        env=env,
        script=str(script_path or "packaged demo-script.yaml"),
        started_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        slos={w: (s.ttft_p95_s, s.itl_p95_s, s.max_gap_p95_s) for w, s in script.slos.items()},
        mode=mode,
    )
    sink = CollectSink()
    with contextlib.closing(hold):
        async with local_stack_process(stack_args) as stack:
            settings = Settings(
                endpoint_url=stack.frontend_url,
                model=stack.model_name,
                control_url=stack.control_url,
                prometheus_url=stack.prometheus_url,
                env=env,
                speed=speed,
                script=script_path,
                corpus=corpus,
                scenario_state_file=work / "scenario-state.json",
                request_log=work / "requests.jsonl",
            )
            started = time.monotonic()
            async with open_runtime(
                settings,
                script,
                load_corpus(corpus),
                "rehearsal-token",
                scenario_ports=(ports or _backend_ports)(settings),
                extra_sinks=[sink],
            ) as runtime:
                ctl = runtime.scenario
                assert ctl is not None
                settle_heap()  # as the app does once started (loadgen.cli)
                hold.close()
                server, _ = start_http_server(
                    metrics_port, addr="127.0.0.1", registry=runtime.metrics.registry
                )
                origin_ns = ctl.timeline.origin_ns
                sampler = _Sampler(raw, runtime, origin_ns)
                if mode == "auto":
                    await ctl.set_auto()
                    while ctl.cycle < cycles:
                        await sampler.sample()
                else:
                    await _manual_play(ctl, script, sampler, manual_phases, hand_back)
                await ctl.stop()
                server.shutdown()
                raw.timeline = [e.model_dump() for e in ctl.timeline.events()]
                raw.wall_s = time.monotonic() - started
            raw.samples = sink.samples(origin_ns)
            raw.router = await _router_counters(stack.prometheus_url, raw.timeline)
    return raw


class _Sampler:
    """Pool sizes, CPU of the machine / the stack's processes / this client, client lag."""

    def __init__(self, raw: RawRun, runtime: Runtime, origin_ns: int) -> None:
        self._raw, self._runtime, self._origin_ns = raw, runtime, origin_ns
        self._me = psutil.Process(os.getpid())
        self._me.cpu_percent(None)
        psutil.cpu_percent(None)
        self._tree: dict[int, psutil.Process] = {}

    async def sample(self) -> None:
        await asyncio.sleep(SAMPLE_WALL_S)
        ctl, raw = self._runtime.scenario, self._raw
        assert ctl is not None
        t_s = (ctl.clock.now_ns() - self._origin_ns) / NS_PER_S
        if ctl.cluster is not None:
            pools = ctl.cluster.pools
            raw.pools.append(
                PoolSample(
                    t_s,
                    {p: s.desired for p, s in pools.items()},
                    {p: s.ready for p, s in pools.items()},
                    {p: s.starting for p, s in pools.items()},
                )
            )
        # Off the loop: walking /proc for the process tree takes 20-50 ms on a busy machine,
        # which the client's own loop-lag probe would count against the client.
        raw.cpu.append({"t_s": t_s, **await asyncio.to_thread(self._cpu)})
        snap = self._runtime.engine.latest_snapshot
        if snap is not None:
            raw.client_saturated.append(snap.client.saturated)

    def _cpu(self) -> dict[str, float]:
        return {"machine": psutil.cpu_percent(None), "client": self._me.cpu_percent(None),
                **_tree_cpu(self._me, self._tree)}  # fmt: skip


def _backend_ports(settings: Settings) -> PortsFactory:
    return functools.partial(open_backend_ports, settings)


def presenter_scale_ins(
    script: DemoScript, phases: tuple[str, ...] | None
) -> dict[str, list[tuple[PoolName, int]]]:
    """Per played phase, the pools the presenter hands back at its start: the script's
    scale-ins up to that phase (skipped phases' included), not its scale-outs.

    Why: KEDA scales a pool in only after five calm minutes, so a presenter in manual mode gives
    GPUs back by hand as the script does (KV Cache: decode to one worker); growing a pool is
    KEDA's job, on the SLO breach it sees.
    """
    assert script.layout is not None
    layout = script.layout.initial
    pending: dict[PoolName, int] = {}
    out: dict[str, list[tuple[PoolName, int]]] = {}
    for phase in script.phases:
        if phases is None or phase.id in phases:
            out[phase.id] = sorted(pending.items())
            pending = {}
        for step in phase.scale:
            if step.replicas < layout.of(step.pool):
                pending[step.pool] = step.replicas
            layout = layout.with_pool(step.pool, step.replicas)
    return out


async def _manual_play(
    ctl: ScenarioController,
    script: DemoScript,
    sampler: _Sampler,
    phases: tuple[str, ...] | None,
    hand_back: bool,
) -> None:
    """Manual mode: KEDA resumed, the presenter plays the phases' load and, with `hand_back`,
    gives GPUs back as the script does (`presenter_scale_ins`); every scale-out is KEDA's (none
    when the ports run no autoscaler)."""
    await ctl.set_manual()
    scale_ins = presenter_scale_ins(script, phases)
    for phase in script.phases:
        if phase.id not in scale_ins:
            continue
        preset = script.preset(phase.preset or "")
        load = phase.load or (preset.load if preset else None)
        assert load is not None
        ctl.timeline.add("phase", "presenter", f"{phase.name}: {phase.caption}", phase=phase.id)
        for pool, replicas in scale_ins[phase.id] if hand_back else ():
            await ctl.scale_pool(pool, replicas)
        await ctl.driver.apply(load)
        if not ctl.driver.running():
            await ctl.driver.start()
        end_ns = ctl.clock.now_ns() + round(phase.duration * NS_PER_S)
        while ctl.clock.now_ns() < end_ns:
            await sampler.sample()
    ctl.timeline.add("mode", "presenter", "manual rehearsal done")


def _tree_cpu(me: psutil.Process, known: dict[int, psutil.Process]) -> dict[str, float]:
    """CPU % (of one core) of every descendant, summed per part of the stack ("proc:frontend",
    "proc:prefill" for the prefill mockers, ..., "proc:other" for the supervisor) and in all
    ("stack"). Processes are kept between samples so cpu_percent has an interval."""
    parts: dict[str, float] = {"stack": 0.0}
    for child in me.children(recursive=True):
        proc = known.setdefault(child.pid, child)
        try:
            pct = proc.cpu_percent(None)
            key = f"proc:{_stack_part(proc.cmdline())}"
        except psutil.Error:
            known.pop(child.pid, None)
            continue
        parts["stack"] += pct
        parts[key] = parts.get(key, 0.0) + pct
    return parts


def _stack_part(cmdline: list[str]) -> str:
    """Which part of the local stack a process is, from how the local cluster starts it."""
    if "dynamo.frontend" in cmdline:
        return "frontend"
    if "dynamo.mocker" in cmdline and "--disaggregation-mode" in cmdline:
        mode = cmdline[cmdline.index("--disaggregation-mode") + 1]
        return "aggregated" if mode == "agg" else mode
    if cmdline and Path(cmdline[0]).name == "prometheus":
        return "prometheus"
    return "other"


# The prefill-side prefix reuse the router saw (not usage.cached_tokens: in disaggregated
# mode that is the decode worker's cache; docs/measurement-conventions.md).
ROUTER_QUERIES = {
    "cached": "sum(increase(dynamo_component_router_kv_selected_cached_prefix_tokens_total"
    '{phase="prefill"}[{w}s]))',
    "input": "sum(increase(dynamo_component_router_input_sequence_tokens_sum"
    '{phase="prefill"}[{w}s]))',
}


async def _router_counters(
    prometheus_url: str, timeline: list[dict[str, Any]]
) -> dict[str, dict[str, float | None]]:
    """Per phase: the router's prefill-side cached / input tokens over the phase's wall span."""
    starts = [(e["wall_time"], e["phase"]) for e in timeline if e["kind"] == "phase" and e["phase"]]
    stops = [e["wall_time"] for e in timeline if e["kind"] == "mode"][-1:]
    out: dict[str, dict[str, float | None]] = {}
    async with aiohttp.ClientSession() as session:
        for i, (start, phase) in enumerate(starts):
            end = starts[i + 1][0] if i + 1 < len(starts) else (stops[0] if stops else start)
            t0, t1 = _epoch(start), _epoch(end)
            if phase in out or t1 <= t0:
                continue
            values: dict[str, float | None] = {}
            for key, template in ROUTER_QUERIES.items():
                query = template.replace("{w}", str(max(1, round(t1 - t0))))
                async with session.get(
                    f"{prometheus_url}/api/v1/query", params={"query": query, "time": f"{t1:.3f}"}
                ) as resp:
                    body = await resp.json()
                result = body.get("data", {}).get("result", [])
                values[key] = round(float(result[0]["value"][1]), 1) if result else None
            out[phase] = values
    return out


def _epoch(iso: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(iso).timestamp()
