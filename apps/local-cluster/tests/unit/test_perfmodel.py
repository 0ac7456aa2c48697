"""Unit tests of the physics model, its fit and the hardware profiles (deterministic)."""

from __future__ import annotations

from pathlib import Path

import pytest

from localcluster.perfmodel import (
    DEV_PROFILE,
    PROD_PROFILE,
    PROFILE_NAMES,
    PerfModelError,
    ProfileFitError,
    UnknownProfileError,
    hardware_profile,
)
from localcluster.perfmodel.fit import (
    ENGINE_TOLERANCE,
    Band,
    figure_error,
    fit_engine,
    h200_70b_unfused,
    h200_bands,
    physics_for,
    predict_figure,
)
from localcluster.perfmodel.hardware import (
    H100_SXM,
    H200_SXM,
    LLAMA_31_8B_FP8,
    LLAMA_31_70B_FP8,
    MEASURED_70B_KV_TOKENS_PER_H200,
    MEASURED_70B_WEIGHTS_BYTES,
)
from localcluster.perfmodel.measurements import (
    H200_70B_DECODE,
    H200_70B_PREFILL,
    PrefillPoint,
    h200_70b_engine_figures,
)
from localcluster.perfmodel.physics import EngineModel
from localcluster.perfmodel.profiles import DECODE_STREAM_RESERVED_TOKENS


def test_architecture_reproduces_calibration_facts() -> None:
    # calibration.md: KV bytes/token fp8 163,840 (70B); the 8B at FP8 KV is half its bf16 131,072.
    assert LLAMA_31_70B_FP8.kv_bytes_per_token == 163_840
    assert LLAMA_31_8B_FP8.kv_bytes_per_token == 65_536
    assert LLAMA_31_70B_FP8.weight_bytes == pytest.approx(MEASURED_70B_WEIGHTS_BYTES, rel=0.01)
    assert LLAMA_31_70B_FP8.total_params == pytest.approx(70.6e9, rel=0.01)
    assert LLAMA_31_8B_FP8.total_params == pytest.approx(8.03e9, rel=0.01)


def test_h100_is_derived_by_the_calibration_rule() -> None:
    assert H200_SXM.measured
    assert not H100_SXM.measured
    assert H100_SXM.read_bytes_per_s == pytest.approx(H200_SXM.read_bytes_per_s * 3.35 / 4.8)
    assert H100_SXM.gemm_flops_per_s == H200_SXM.gemm_flops_per_s


def test_every_measured_point_of_both_h200_bands_holds() -> None:
    params = hardware_profile(PROD_PROFILE).engine_params
    for band in h200_bands(h200_70b_unfused()):
        engine = EngineModel(band.physics, params)
        for p in band.prefill:
            assert 0 <= band.prefill_position(engine, p) <= 1, (band.name, p)
        for d in band.decode:
            assert 0 <= band.decode_position(engine, d) <= 1, (band.name, d)


def test_engine_figures_are_met_within_20_percent() -> None:
    profile = hardware_profile(PROD_PROFILE)
    figures = h200_70b_engine_figures()
    assert {f.kind for f in figures} == {"ttft", "itl", "itl_agg"}
    for fig in figures:
        error = figure_error(predict_figure(profile.engine, fig), fig)
        assert abs(error) <= ENGINE_TOLERANCE, (fig.source, fig.figure, error)


def test_fusion_is_between_floor_and_torch() -> None:
    fusion = hardware_profile(PROD_PROFILE).engine_params.fusion
    assert 0.2 < fusion < 0.8  # a fused engine: neither the floor nor torch


def test_fit_refuses_a_band_nothing_can_meet() -> None:
    unfused = h200_70b_unfused()
    physics = physics_for(LLAMA_31_70B_FP8, H200_SXM, unfused)
    impossible = Band("impossible", physics, (PrefillPoint(4096, 1.0, 2.0),), H200_70B_DECODE)
    with pytest.raises(ProfileFitError):
        fit_engine(physics, h200_70b_engine_figures(), (impossible,))


def test_long_prompts_keep_their_whole_attention_cost() -> None:
    # The idle TTFT of a 20k prompt must not be below the prefill of 20k tokens.
    profile = hardware_profile(PROD_PROFILE)
    for tokens in (10_000, 15_000, 20_000, 30_000):
        assert profile.idle_ttft_ms(tokens) >= profile.prefill_ms(tokens)
    # calibration.md: 15k ~ 2.2-2.9 s, 20k ~ 3.1-4.0 s of prefill on one H200.
    assert 2158 <= profile.prefill_ms(15_360) <= 2860
    assert 3092 <= profile.prefill_ms(20_480) <= 4014
    with pytest.raises(PerfModelError, match="max_seq_len"):
        profile.idle_ttft_ms(profile.max_seq_len + 1)


def test_cached_prefix_adds_attention_but_far_less_than_recomputing() -> None:
    profile = hardware_profile(PROD_PROFILE)
    fresh = profile.prefill_ms(2048)
    on_16k = profile.prefill_ms(2048, 16384)
    assert 1.2 * fresh < on_16k < profile.prefill_ms(2048 + 16384) / 4


def test_predictions_grow_with_prompt_batch_and_context() -> None:
    profile = hardware_profile(PROD_PROFILE)
    ttfts = [profile.idle_ttft_ms(n) for n in (100, 1000, 7000, 15000, 30000)]
    assert ttfts == sorted(ttfts)
    assert profile.itl_ms(32, 4000) > profile.itl_ms(8, 4000) > profile.itl_ms(1, 4000)
    assert profile.itl_ms(16, 8000) > profile.itl_ms(16, 1000)
    # calibration.md: ~70 GB / 4.8 TB/s = 14.6 ms is the batch-1 decode floor.
    assert profile.itl_ms(1, 100) >= 14.6


def test_prod_profile_engine_limits_match_calibration() -> None:
    profile = hardware_profile(PROD_PROFILE)
    assert profile.model_name == "meta-llama/Llama-3.1-70B-Instruct"
    assert profile.block_size == 32
    assert 0 <= MEASURED_70B_KV_TOKENS_PER_H200 - profile.kv_capacity_tokens < 32
    # Sized by KV memory: 348,288 tokens / 1,384 per reasoning stream = 252 -> graph bucket 256.
    assert profile.decode_max_batch == 256
    assert profile.decode_max_batch * DECODE_STREAM_RESERVED_TOKENS >= profile.kv_capacity_tokens
    assert 205 <= profile.worker_start_s <= 211
    # AIS timing: the cluster's engine configs (tests/crosscheck keeps them equal).
    assert profile.limits("prefill") == (16, 8192)
    assert profile.limits("decode") == (256, 8192)
    # NPZ timing: one whole prompt per prefill pass (the NPZ prices a pass by its size alone).
    assert profile.limits("prefill", "npz") == (1, 32768)
    assert profile.limits("decode", "npz") == (256, 32768)


def test_dev_profile_is_the_8b_on_h100_derivation() -> None:
    dev, prod = hardware_profile(DEV_PROFILE), hardware_profile(PROD_PROFILE)
    assert dev.model_name == "meta-llama/Llama-3.1-8B-Instruct"
    assert dev.engine_params == prod.engine_params  # same engine physics
    assert not dev.gpu.measured
    assert dev.derived
    assert dev.kv_bytes_per_token == 65_536
    assert dev.decode_max_batch == 704  # the prod rule on the H100's 941,888 KV tokens
    # An 8B is several times faster per decode step and loads its weights sooner.
    assert dev.itl_ms(1, 500) < prod.itl_ms(1, 500) / 3
    assert dev.worker_start_s < prod.worker_start_s
    # Bandwidth-bound decode is slower on the H100 than the same 8B on the H200.
    physics_h200 = physics_for(LLAMA_31_8B_FP8, H200_SXM, dev.unfused)
    on_h200 = float(EngineModel(physics_h200, dev.engine_params).decode_ms(64, 64 * 4096))
    assert dev.itl_ms(64, 4096) > on_h200


def test_mocker_args_depend_on_the_worker_role_and_timing() -> None:
    profile = hardware_profile(PROD_PROFILE)

    def pairs(role: str, timing: str = "ais") -> dict[str, str]:
        args = profile.mocker_args(Path("/x/prod.npz"), 1.0, role, timing)  # type: ignore[arg-type]
        if timing == "ais":
            assert args[0] == "--ais-perf-model"  # the one flag without a value
            args = args[1:]
        return dict(zip(args[::2], args[1::2], strict=True))

    common = {
        "--block-size": "32",
        "--num-gpu-blocks-override": str(profile.num_gpu_blocks),
        "--kv-transfer-bandwidth": "450",
        "--kv-bytes-per-token": "163840",
    }
    assert pairs("prefill") == {
        "--ais-system": "h200_sxm",
        "--ais-backend": "trtllm",
        "--engine-type": "trtllm",
        "--max-num-seqs": "16",
        "--max-num-batched-tokens": "8192",
        **common,
    }
    assert pairs("prefill", "npz") == {
        "--planner-profile-data": "/x/prod.npz",
        "--max-num-seqs": "1",
        "--max-num-batched-tokens": "32768",
        **common,
    }
    assert pairs("decode")["--max-num-seqs"] == "256"
    assert pairs("aggregated")["--max-num-batched-tokens"] == "8192"
    assert "--bootstrap-ports" not in pairs("prefill")  # with trtllm, requests would 503
    assert pairs("decode", "npz")["--max-num-batched-tokens"] == "32768"


def test_replay_engine_args_mirror_the_mocker_flags() -> None:
    profile = hardware_profile(PROD_PROFILE)
    engine = profile.replay_engine_args(Path("/m"), "prefill")["engine"]
    assert isinstance(engine, dict)
    assert engine["max_num_seqs"] == 16
    assert engine["worker_type"] == "prefill"
    assert engine["kv_transfer_bytes_per_token"] == 163_840
    assert engine["backend"] == "trtllm"
    # What the mocker's CLI builds from --ais-perf-model (an ais_perf_config dict is refused).
    assert engine["timing_model"] == {
        "type": "external",
        "provider": "ais",
        "config": {
            "model": "/m",
            "backend": "trtllm",
            "system": "h200_sxm",
            "worker_type": "prefill",
        },
    }
    npz = profile.replay_engine_args(Path("/m"), "prefill", Path("/x/p.npz"))["engine"]
    assert isinstance(npz, dict)
    assert npz["timing_model"]["provider"] == "dynamo_profile"
    assert npz["max_num_seqs"] == 1


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


def test_band_tables_are_the_calibration_sweep() -> None:
    assert [p.isl for p in H200_70B_PREFILL][-1] == 20480
    assert all(p.floor_ms < p.torch_ms for p in H200_70B_PREFILL)
