"""What a preset's trace asks of each pool, from the profile alone (no replay): the first check.

Priced by the physics model (it can price one request in microseconds; AIS needs a replay), so
prefill demand reads 15-25 % above the AIS timing the replays run on (docs/calibration.md).

- prefill: GPU-seconds of prefill per second of traffic (each request's uncached tokens, i.e.
  its prompt minus the blocks its conversation already sent, priced by the physics model with
  the attention over the cached part). More than the pool's worker count = the queue grows.
- decode: output tokens per second, and the decode workers needed if each ran a full batch
  (`decode_max_batch` sequences at the trace's mean context).
- scale-out timing: a worker is ready `worker_start_s` after it is asked for. A backlog builds
  meanwhile at (demand - capacity) and drains at (new capacity - demand): the phase must last
  the start time plus the drain time for the recovery to show.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from demo_bench.sizing.trace import TraceRow
from localcluster.perfmodel import HardwareProfile


@dataclass(frozen=True)
class Demand:
    prefill_gpu_s_per_s: float
    decode_tokens_per_s: float
    mean_context: float
    decode_workers_at_full_batch: float


def demand(rows: Sequence[TraceRow], profile: HardwareProfile, duration_s: float) -> Demand:
    prefill_ms = 0.0
    previous: dict[str, int] = {}
    output_tokens, context_weighted = 0, 0.0
    for row in rows:
        cached = previous.get(row.session_id, 0)
        # Whole blocks of the previous turn are reused; the rest is new.
        cached = cached // profile.block_size * profile.block_size
        prefill_ms += profile.prefill_ms(row.input_length - cached, cached)
        previous[row.session_id] = row.input_length
        output_tokens += row.output_length
        context_weighted += row.output_length * (row.input_length + row.output_length / 2)
    mean_context = context_weighted / max(output_tokens, 1)
    batch = profile.decode_max_batch
    per_worker = batch / (profile.itl_ms(batch, mean_context) / 1e3)
    tokens_per_s = output_tokens / duration_s
    return Demand(
        prefill_gpu_s_per_s=prefill_ms / 1e3 / duration_s,
        decode_tokens_per_s=tokens_per_s,
        mean_context=mean_context,
        decode_workers_at_full_batch=tokens_per_s / per_worker,
    )


def drain_s(load: float, before: int, after: int, start_s: float) -> float | None:
    """Seconds, after the new workers are ready, until the backlog built during their start is
    gone (None: the new capacity does not cover the load; 0: there was no backlog)."""
    backlog = max(0.0, load - before) * start_s
    if backlog == 0:
        return 0.0
    spare = after - load
    return None if spare <= 0 else backlog / spare
