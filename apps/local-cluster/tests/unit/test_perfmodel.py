"""Unit tests of the roofline fit and the hardware profiles (deterministic computations)."""

from __future__ import annotations

from pathlib import Path

import pytest

from localcluster.perfmodel import (
    DEV_PROFILE,
    PROD_PROFILE,
    PROFILE_NAMES,
    PerfModelError,
    UnknownProfileError,
    hardware_profile,
)
from localcluster.perfmodel.calibration import Kind, Role, h200_70b_observations, predict
from localcluster.perfmodel.hardware import (
    LLAMA_31_8B_BF16,
    LLAMA_31_70B_FP8,
    MEASURED_70B_KV_TOKENS_PER_H200,
    MEASURED_70B_WEIGHTS_BYTES,
)


def test_architecture_reproduces_calibration_facts() -> None:
    # calibration.md: KV bytes/token fp8 163,840 (70B) and bf16 131,072 (8B); weights 67.7 GiB.
    assert LLAMA_31_70B_FP8.kv_bytes_per_token == 163_840
    assert LLAMA_31_8B_BF16.kv_bytes_per_token == 131_072
    assert LLAMA_31_70B_FP8.weight_bytes == pytest.approx(MEASURED_70B_WEIGHTS_BYTES, rel=0.01)
    assert LLAMA_31_70B_FP8.total_params == pytest.approx(70.6e9, rel=0.01)
    assert LLAMA_31_8B_BF16.total_params == pytest.approx(8.03e9, rel=0.01)


def test_fit_meets_the_25_percent_target_on_every_fitted_figure() -> None:
    profile = hardware_profile(PROD_PROFILE)
    fitted = [o for o in h200_70b_observations() if o.role is Role.FITTED]
    kinds = {o.kind for o in fitted}
    assert {Kind.IDLE_TTFT, Kind.PREFILL, Kind.ITL} <= kinds
    for obs in fitted:
        value = predict(obs, profile.roofline, profile.kv_transfer_bandwidth_gbps)
        assert abs(value / obs.measured - 1) <= 0.25, (obs.source, obs.figure, value)


def test_fitted_parameters_are_physical() -> None:
    profile = hardware_profile(PROD_PROFILE)
    assert 0 < profile.params.mfu <= 1
    assert 0 < profile.params.mem_eff <= 1
    # calibration.md: ~70 GB / 4.8 TB/s ≈ 14.6 ms per token is the batch-1 decode floor.
    assert profile.itl_ms(1, 100) >= 14.6
    assert profile.fitted
    assert not hardware_profile(DEV_PROFILE).fitted


def test_prod_profile_engine_limits_match_calibration() -> None:
    profile = hardware_profile(PROD_PROFILE)
    assert profile.model_name == "meta-llama/Llama-3.1-70B-Instruct"
    assert profile.block_size == 32
    assert 0 <= MEASURED_70B_KV_TOKENS_PER_H200 - profile.kv_capacity_tokens < 32
    assert profile.max_num_seqs == 64
    assert 205 <= profile.worker_start_s <= 211


def test_dev_profile_is_the_8b_on_h100_extrapolation() -> None:
    dev, prod = hardware_profile(DEV_PROFILE), hardware_profile(PROD_PROFILE)
    assert dev.model_name == "meta-llama/Llama-3.1-8B-Instruct"
    assert dev.params == prod.params  # same fitted efficiencies, other hardware and model
    assert dev.kv_bytes_per_token == 131_072
    # An 8B is several times faster per decode step and loads its weights sooner.
    assert dev.itl_ms(1, 500) < prod.itl_ms(1, 500) / 2
    assert dev.worker_start_s < prod.worker_start_s
    assert dev.kv_capacity_tokens > 0


def test_predictions_grow_with_prompt_batch_and_context() -> None:
    profile = hardware_profile(PROD_PROFILE)
    ttfts = [profile.idle_ttft_ms(n) for n in (100, 1000, 7000, 15000, 30000)]
    assert ttfts == sorted(ttfts)
    assert profile.itl_ms(32, 4000) > profile.itl_ms(8, 4000) > profile.itl_ms(1, 4000)
    assert profile.itl_ms(16, 8000) > profile.itl_ms(16, 1000)
    assert profile.idle_ttft_ms(7000, cached_tokens=6976) < profile.idle_ttft_ms(7000) / 4


def test_prompts_beyond_one_pass_are_timed_as_chunks() -> None:
    profile = hardware_profile(PROD_PROFILE)
    limit = profile.max_num_batched_tokens
    prompt = limit + 1000
    one_pass = profile.idle_ttft_ms(prompt) - profile.idle_ttft_ms(limit)
    expected = float(profile.roofline.prefill_ms(1000)) + float(
        profile.roofline.decode_ms(1, prompt) - profile.roofline.decode_ms(1, limit)
    )
    link_bytes_per_ms = profile.kv_transfer_bandwidth_gbps * 1e6
    transfer = (prompt - limit) * profile.kv_bytes_per_token / link_bytes_per_ms
    assert one_pass == pytest.approx(expected + transfer, rel=1e-9)


def test_mocker_args_carry_the_profile_and_nothing_else() -> None:
    profile = hardware_profile(PROD_PROFILE)
    args = profile.mocker_args(Path("/x/prod.npz"))
    pairs = dict(zip(args[::2], args[1::2], strict=True))
    assert pairs == {
        "--planner-profile-data": "/x/prod.npz",
        "--block-size": "32",
        "--num-gpu-blocks-override": str(profile.num_gpu_blocks),
        "--max-num-seqs": "64",
        "--max-num-batched-tokens": str(profile.max_num_batched_tokens),
        "--kv-transfer-bandwidth": "450",
        "--kv-bytes-per-token": "163840",
    }


def test_kv_link_is_sped_up_with_the_worker() -> None:
    # ai-dynamo 1.6.1 does not divide the KV transfer delay by --speedup-ratio (measured).
    args = hardware_profile(PROD_PROFILE).mocker_args(Path("p.npz"), speedup_ratio=10)
    assert args[args.index("--kv-transfer-bandwidth") + 1] == "4500"
    # Speedup 0 = no simulated delay: the transfer delay is switched off too (bandwidth 0).
    args = hardware_profile(PROD_PROFILE).mocker_args(Path("p.npz"), speedup_ratio=0)
    assert args[args.index("--kv-transfer-bandwidth") + 1] == "0"
    with pytest.raises(PerfModelError, match="speedup_ratio"):
        hardware_profile(PROD_PROFILE).mocker_args(Path("p.npz"), speedup_ratio=-1)


def test_unknown_profile_names_the_valid_ones() -> None:
    with pytest.raises(UnknownProfileError) as info:
        hardware_profile("a100-405b")
    for name in PROFILE_NAMES:
        assert name in str(info.value)
