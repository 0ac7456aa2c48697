"""One preset's mix at one arrival rate replayed on one layout (aggregated or P+D) with the live
stack's AIS timing; the trace comes from sizing's builder (same seed, same sources as live)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from demo_bench.capacity.attainment import Point, score
from demo_bench.sizing.replay import replay_split
from demo_bench.sizing.trace import build_trace, write_trace
from demo_common.corpus import Corpus
from loadgen.demo_script.load import LoadConfig
from loadgen.demo_script.models import DemoScript, Slo
from loadgen.records import Workload
from localcluster.perfmodel import HardwareProfile


@dataclass(frozen=True)
class Layout:
    """`aggregated` workers doing both phases, or `prefill` + `decode` workers (one GPU each)."""

    aggregated: int = 0
    prefill: int = 0
    decode: int = 0

    def __post_init__(self) -> None:
        disagg = self.prefill > 0 and self.decode > 0
        if (self.aggregated > 0) == disagg or min(self.aggregated, self.prefill, self.decode) < 0:
            raise ValueError(f"a layout is N aggregated or P+D workers, not {self}")

    @property
    def gpus(self) -> int:
        return self.aggregated or self.prefill + self.decode

    @property
    def name(self) -> str:
        return f"{self.aggregated} agg" if self.aggregated else f"{self.prefill}P+{self.decode}D"


def disagg_splits(gpus: int) -> list[Layout]:
    return [Layout(prefill=p, decode=gpus - p) for p in range(1, gpus)]


def at_rate(load: LoadConfig, rate_rps: float) -> LoadConfig:
    """The preset's mix at another total arrival rate (the in-flight cap is not replayed)."""
    return load.model_copy(update={"rps": rate_rps})


def replay_layout(
    trace: Path, layout: Layout, profile: HardwareProfile, model_dir: Path
) -> list[Mapping[str, Any]]:
    """Per-request records of one replay, KV router, the live workers' engine limits."""
    if layout.aggregated == 0:
        return replay_split(
            trace, profile, model_dir, layout.prefill, layout.decode, block=profile.block_size
        )
    os.environ.setdefault("DYN_LOG", "error")
    from dynamo.replay import run_trace_replay  # heavy import, only when replaying

    report = run_trace_replay(
        str(trace),
        extra_engine_args=profile.replay_engine_args(model_dir, "aggregated"),
        num_workers=layout.aggregated,
        router_mode="kv_router",
        capture_per_request=True,
        trace_block_size=profile.block_size,
    )
    return list(report.per_request or [])


@dataclass(frozen=True)
class Setup:
    """Everything a point needs besides the layout and the rate (picklable for a process pool)."""

    script: DemoScript
    corpus: Corpus
    profile: HardwareProfile
    model_dir: Path
    work: Path
    seed: int
    duration_s: float

    @property
    def slos(self) -> Mapping[Workload, Slo]:
        return self.script.slos


def replay_point(setup: Setup, preset_id: str, layout: Layout, rate_rps: float) -> Point:
    preset = setup.script.preset(preset_id)
    if preset is None:
        raise ValueError(f"no preset {preset_id!r} in the demo script")
    rows = build_trace(
        setup.script, setup.corpus, at_rate(preset.load, rate_rps), seed=setup.seed,
        duration_s=setup.duration_s, block=setup.profile.block_size,
    )  # fmt: skip
    if not rows:
        raise ValueError(f"{preset_id} at {rate_rps:g} req/s offers no request in the trace")
    name = f"{preset_id}-{layout.name.replace(' ', '')}-{rate_rps:.4f}-{os.getpid()}.jsonl"
    trace = write_trace(rows, setup.work / name)
    try:
        records: Sequence[Mapping[str, Any]] = replay_layout(
            trace, layout, setup.profile, setup.model_dir
        )
    finally:
        trace.unlink(missing_ok=True)
    return score(records, setup.slos, rate_rps=rate_rps, offered=len(rows), gpus=layout.gpus)
