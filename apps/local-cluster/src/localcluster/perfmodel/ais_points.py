"""The AIS timing the local stack runs on, at single points: dynamo.replay with the workers' args.

Each point is a tiny replay through ai-dynamo's mocker engine (the live workers' Rust core) on a
virtual clock, with the profile's own engine args and AIS timing: what an idle live stack should
show, without its host's noise. ~1-2 s of wall time per point (the AIS model is built per run).
"""

from __future__ import annotations

import os
import statistics
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from localcluster.perfmodel.errors import PerfModelError
from localcluster.perfmodel.profiles import HardwareProfile

DECODE_TOKENS = 17  # 16 gaps per stream: the context barely moves while the batch is measured


def _replay(
    profile: HardwareProfile, model_dir: Path, isl: int, osl: int, requests: int,
    *, prefill_workers: int, concurrency: int,
) -> list[Mapping[str, Any]]:  # fmt: skip
    os.environ.setdefault("DYN_LOG", "error")
    from dynamo.replay import run_synthetic_trace_replay  # heavy import, only when replaying

    report = run_synthetic_trace_replay(
        isl, osl, requests,
        prefill_engine_args=profile.replay_engine_args(model_dir, "prefill"),
        decode_engine_args=profile.replay_engine_args(model_dir, "decode"),
        num_prefill_workers=prefill_workers, num_decode_workers=1,
        router_mode="kv_router", capture_per_request=True, replay_concurrency=concurrency,
    )  # fmt: skip
    return _completed(report.per_request, requests)


def _completed(rows: Sequence[Mapping[str, Any]] | None, expected: int) -> list[Mapping[str, Any]]:
    done = [r for r in rows or [] if r.get("terminal_status", "completed") == "completed"]
    if len(done) != expected:
        raise PerfModelError(f"AIS replay completed {len(done)} of {expected} requests")
    return done


def idle_ttft_ms(profile: HardwareProfile, model_dir: Path, prompt_tokens: int) -> float:
    """One fresh prompt on an idle 1P+1D pair: prefill (chunked as the engine config says), KV
    transfer, the decode worker's first step."""
    rows = _replay(profile, model_dir, prompt_tokens, 2, 1, prefill_workers=1, concurrency=1)
    return float(rows[0]["ttft_ms"])


def prefill_ms(profile: HardwareProfile, model_dir: Path, prompt_tokens: int) -> float:
    """The prefill worker's time on one fresh prompt (its chunks, as the engine config cuts it)."""
    rows = _replay(profile, model_dir, prompt_tokens, 2, 1, prefill_workers=1, concurrency=1)
    return float(rows[0]["source_held_ms"]) - float(rows[0]["prefill_admit_ms"])


def decode_step_ms(profile: HardwareProfile, model_dir: Path, batch: int, context: int) -> float:
    """One decode step of `batch` sequences of `context` tokens: as many prefill workers as
    prompts, so all reach the decode worker together and decode as one batch."""
    if batch > profile.decode_max_batch:
        raise PerfModelError(f"batch {batch} exceeds the decode max batch")
    rows = _replay(
        profile, model_dir, context, DECODE_TOKENS, batch, prefill_workers=batch, concurrency=batch
    )
    return statistics.median(float(r["itl_ms"]) for r in rows)


def aggregated_ms(
    profile: HardwareProfile, model_dir: Path, isl: int, osl: int, streams: int
) -> tuple[float, float]:
    """(TTFT median, ITL median) of `streams` closed-loop requests of isl/osl on one aggregated
    worker: prefill chunks and decode steps share its passes (mixed steps). The first two rounds
    of requests (the ramp) are left out."""
    os.environ.setdefault("DYN_LOG", "error")
    from dynamo.replay import run_synthetic_trace_replay

    requests = 6 * streams
    report = run_synthetic_trace_replay(
        isl, osl, requests,
        extra_engine_args=profile.replay_engine_args(model_dir, "aggregated"),
        num_workers=1, router_mode="kv_router", capture_per_request=True,
        replay_concurrency=streams,
    )  # fmt: skip
    rows = sorted(_completed(report.per_request, requests), key=lambda r: r["arrival_time_ms"])
    steady = rows[2 * streams :]
    ttft = statistics.median(float(r["ttft_ms"]) for r in steady)
    return ttft, statistics.median(float(r["itl_ms"]) for r in steady)
