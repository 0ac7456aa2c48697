"""How ai-dynamo 1.6.1's mocker applies the prefill table, checked with its own replay engine.

dynamo.replay runs the mocker's engine model (the same Rust core as the live workers) on a
virtual clock in-process: no process, no socket. These tests pin the two facts the profile's
prefill-worker flags rest on (profiles.py), and that with those flags a long prompt pays its
whole prefill.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from localcluster.perfmodel import PROD_PROFILE, hardware_profile

os.environ.setdefault("DYN_LOG", "error")  # before the first dynamo import


_ISL = np.array([1.0, 1000, 2000, 4000, 8000, 16000, 32000, 64000])


def _lookup(tokens: float) -> float:
    """The table below, interpolated linearly as the mocker does."""
    return float(np.interp(tokens, _ISL, _ISL**2 / 1e5))


def _quadratic_npz(path: Path) -> Path:
    isl = _ISL
    np.savez(
        path, prefill_isl=isl, prefill_ttft_ms=isl**2 / 1e5,
        decode_active_kv_tokens=np.array([0.0, 1e6]), decode_context_length=np.array([1.0, 1e5]),
        decode_itl=np.full((2, 2), 10.0),
    )  # fmt: skip
    return path


def _args(npz: Path, role: str, seqs: int, tokens: int) -> dict[str, object]:
    return {
        "engine": {
            "block_size": 32, "num_gpu_blocks": 20000, "max_num_seqs": seqs,
            "max_num_batched_tokens": tokens, "worker_type": role,
            "timing_model": {"type": "external", "provider": "dynamo_profile",
                             "config": {"path": str(npz)}},
        }
    }  # fmt: skip


def _trace(path: Path, prompts: list[int]) -> Path:
    lines = [
        json.dumps({"timestamp": 0, "input_length": n, "output_length": 2,
                    "hash_ids": list(range(i * 1000, i * 1000 + (n + 31) // 32))})
        for i, n in enumerate(prompts)
    ]  # fmt: skip
    path.write_text("\n".join(lines) + "\n")
    return path


def _ttfts(trace: Path, prefill: dict[str, object], decode: dict[str, object]) -> list[float]:
    from dynamo.replay import run_trace_replay

    report = run_trace_replay(
        trace, prefill_engine_args=prefill, decode_engine_args=decode, num_prefill_workers=1,
        num_decode_workers=1, router_mode="kv_router", capture_per_request=True,
        trace_block_size=32,
    )  # fmt: skip
    return sorted(float(r["ttft_ms"]) for r in report.per_request)


def test_a_chunk_is_looked_up_by_its_own_size(tmp_path: Path) -> None:
    npz = _quadratic_npz(tmp_path / "q.npz")
    trace = _trace(tmp_path / "t.jsonl", [20000])
    decode = _args(npz, "decode", 64, 32768)
    chunked = _ttfts(trace, _args(npz, "prefill", 64, 16384), decode)[0]
    whole = _ttfts(trace, _args(npz, "prefill", 64, 32768), decode)[0]
    # 16384 + 3616 looked up separately (+ one 10 ms decode step): cross-chunk attention lost.
    assert chunked == pytest.approx(_lookup(16384) + _lookup(3616) + 10, abs=0.01)
    assert whole == pytest.approx(_lookup(20000) + 10, abs=0.01)


def test_a_batch_of_prompts_is_looked_up_as_one_long_prompt(tmp_path: Path) -> None:
    npz = _quadratic_npz(tmp_path / "q.npz")
    trace = _trace(tmp_path / "t.jsonl", [8000, 8000, 8000])
    decode = _args(npz, "decode", 64, 32768)
    batched = _ttfts(trace, _args(npz, "prefill", 64, 32768), decode)
    serial = _ttfts(trace, _args(npz, "prefill", 1, 32768), decode)
    one = _lookup(8000)
    assert batched == pytest.approx([_lookup(24000) + 10] * 3, abs=0.01)  # T(24k), not 3 T(8k)
    assert serial == pytest.approx([one + 10, 2 * one + 10, 3 * one + 10], abs=0.01)


def test_with_the_profile_flags_a_20k_prompt_pays_its_whole_prefill(tmp_path: Path) -> None:
    profile = hardware_profile(PROD_PROFILE)
    npz = profile.write_npz(tmp_path / "prod.npz")
    trace = _trace(tmp_path / "t.jsonl", [20000])
    ttft = _ttfts(
        trace,
        profile.replay_engine_args(tmp_path, "prefill", npz),
        profile.replay_engine_args(tmp_path, "decode", npz),
    )[0]
    assert ttft >= profile.prefill_ms(20000)
    assert ttft == pytest.approx(profile.idle_ttft_ms(20000), rel=0.01)
