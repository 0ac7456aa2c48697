"""Tabulates the engine model into the mocker's `--planner-profile-data` NPZ (ai-dynamo 1.6.1).

How the installed mocker reads the file (dynamo_mocker::common::perf_model; checked with
dynamo.replay on this machine, tests/unit/test_mocker_prefill_contract.py):
- `prefill_ttft_ms[i]` is the time of one prefill pass over `prefill_isl[i]` uncached tokens
  summed over the pass's batch (batch * (isl - prefix)); linear interpolation and extrapolation.
  A chunk of a chunked prompt is looked up by its own size alone, and a batch of prompts as if it
  were one prompt of their summed length: neither knows about the other tokens' attention. So
  the table holds one whole sequence per pass, and the profile's mocker flags make every pass
  exactly that (profiles.py: prefill workers take one prompt per pass, unchunked).
- `decode_itl[i, j]` is one decode step when the batch's contexts add up to
  `decode_active_kv_tokens[i]` tokens with a mean of `decode_context_length[j]` tokens per
  sequence (so batch = active / context); bilinear, extrapolated; the mocker floors it at 1 ms.
- The mocker divides every time by --speedup-ratio; the NPZ is always in real-GPU time.
All arrays are float64 (the mocker reads f64) and every axis strictly increasing.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from localcluster.perfmodel.errors import PerfModelError
from localcluster.perfmodel.physics import EngineModel, FloatArray

PREFILL_KEYS = ("prefill_isl", "prefill_ttft_ms")
DECODE_KEYS = ("decode_active_kv_tokens", "decode_context_length", "decode_itl")


def prefill_axis(max_tokens: int) -> FloatArray:
    """Token counts: every 32 where the GEMMs turn compute-bound (to 512), every 256 to 32k
    (the quadratic attention term bends), coarser after."""
    small = np.arange(32, 512, 32)
    fine = np.arange(256, min(max_tokens, 32768) + 1, 256)
    coarse = np.arange(32768, max_tokens + 1, 4096)
    return np.unique(np.concatenate(([1.0, 16.0], small, fine, coarse, [max_tokens])))


def context_axis(max_context: int) -> FloatArray:
    """Mean context per sequence: geometric (x1.15), because batch = active / context."""
    points = np.geomspace(1.0, float(max_context), num=int(np.log(max_context) / np.log(1.15)))
    return np.unique(np.round(points))


def active_axis(max_active: int) -> FloatArray:
    """Summed context of the batch: 0 to capacity in 96 equal steps (the step is linear in it)."""
    return np.linspace(0.0, float(max_active), 97)


def tables(
    engine: EngineModel, *, max_prompt: int, max_active: int, max_batch: int
) -> dict[str, FloatArray]:
    """The five arrays. Grid points where active / context exceeds `max_batch` cannot occur;
    their batch is clamped so interpolation near that edge stays sane."""
    isl = prefill_axis(max_prompt)
    ctx = context_axis(max_prompt)
    active = active_axis(max_active)
    batch = np.clip(active[:, None] / ctx[None, :], 1.0, float(max_batch))
    itl = engine.decode_ms(batch, active[:, None] * np.ones_like(ctx)[None, :])
    return {
        "prefill_isl": isl,
        "prefill_ttft_ms": engine.prefill_ms(isl).astype(np.float64),
        "decode_active_kv_tokens": active,
        "decode_context_length": ctx,
        "decode_itl": np.asarray(itl, dtype=np.float64),
    }


def write(path: Path, arrays: dict[str, FloatArray]) -> Path:
    """Write the NPZ (uncompressed; numpy stamps zip members 1980-01-01, so bytes are stable)."""
    if path.suffix != ".npz":
        # The mocker accepts the file only with this suffix (args.py, is_mocker_format_npz).
        raise PerfModelError(f"{path}: the mocker only reads profile files ending in .npz")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.npz")
    with tmp.open("wb") as handle:
        np.savez(
            handle,
            prefill_isl=arrays["prefill_isl"],
            prefill_ttft_ms=arrays["prefill_ttft_ms"],
            decode_active_kv_tokens=arrays["decode_active_kv_tokens"],
            decode_context_length=arrays["decode_context_length"],
            decode_itl=arrays["decode_itl"],
        )
    tmp.replace(path)
    return path
