"""Unit tests of the mocker NPZ: shapes, ordering, fidelity to the model, what the mocker reads."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.interpolate import RegularGridInterpolator

from localcluster.perfmodel import PROFILE_NAMES, PerfModelError, hardware_profile


@pytest.fixture(params=PROFILE_NAMES)
def profile_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_arrays_have_the_mocker_shapes_and_order(profile_name: str, tmp_path: Path) -> None:
    path = hardware_profile(profile_name).write_npz(tmp_path / "p.npz")
    with np.load(path) as data:
        isl, ttft = data["prefill_isl"], data["prefill_ttft_ms"]
        active, ctx, itl = (
            data["decode_active_kv_tokens"],
            data["decode_context_length"],
            data["decode_itl"],
        )
    assert isl.ndim == 1
    assert isl.shape == ttft.shape
    assert itl.shape == (active.size, ctx.size)
    for axis in (isl, active, ctx):
        assert axis.dtype == np.float64
        assert np.all(np.diff(axis) > 0)
    assert np.all(np.diff(ttft) > 0)  # longer prefill never faster
    assert np.all(np.diff(itl, axis=0) >= 0)  # more KV in the batch never faster
    assert np.all(np.diff(itl, axis=1) <= 1e-9)  # same KV in fewer, longer sequences: cheaper
    assert np.all(itl >= 1.0)  # the mocker floors steps at 1 ms anyway
    assert isl[-1] >= hardware_profile(profile_name).max_seq_len
    assert active[-1] >= hardware_profile(profile_name).kv_capacity_tokens


def test_tables_reproduce_the_model_between_grid_points(tmp_path: Path) -> None:
    profile = hardware_profile("h200-70b-fp8")
    with np.load(profile.write_npz(tmp_path / "p.npz")) as data:
        tables = {key: data[key] for key in data.files}
    for tokens in (207, 3333, 7000, 15000, 30000):
        looked_up = np.interp(tokens, tables["prefill_isl"], tables["prefill_ttft_ms"])
        assert looked_up == pytest.approx(profile.prefill_ms(tokens), rel=0.01)
    bilinear = RegularGridInterpolator(
        (tables["decode_active_kv_tokens"], tables["decode_context_length"]), tables["decode_itl"]
    )
    for batch, context in ((1, 300), (13, 5665), (40, 2000), (64, 5000)):
        looked_up = float(bilinear([[batch * context, context]])[0])
        assert looked_up == pytest.approx(profile.itl_ms(batch, context), rel=0.02)


def test_writing_is_deterministic(tmp_path: Path) -> None:
    profile = hardware_profile("h200-70b-fp8")
    first = profile.write_npz(tmp_path / "a.npz").read_bytes()
    second = profile.write_npz(tmp_path / "b.npz").read_bytes()
    assert first == second
    assert not list(tmp_path.glob("*.tmp*"))


def test_only_npz_suffix_is_accepted(tmp_path: Path) -> None:
    with pytest.raises(PerfModelError, match=r"\.npz"):
        hardware_profile("h100-8b").write_npz(tmp_path / "profile.bin")


def test_installed_mocker_accepts_flags_and_file(profile_name: str, tmp_path: Path) -> None:
    # The installed ai-dynamo parses our flags and its Rust core loads and validates the NPZ
    # (shapes, f64) while building the engine config; no process or socket involved.
    from dynamo.mocker.args import parse_args
    from dynamo.mocker.config import build_mocker_engine_args

    profile = hardware_profile(profile_name)
    npz = profile.write_npz(tmp_path / "p.npz")
    argv = ["--model-path", str(tmp_path), *profile.mocker_args(npz, 1.0, "prefill", "npz")]
    argv += ["--disaggregation-mode", "prefill"]
    engine = build_mocker_engine_args(parse_args(argv))["engine"]
    assert engine["timing_model"] == {
        "type": "external",
        "provider": "dynamo_profile",
        "config": {"path": str(npz)},
    }
    assert engine["num_gpu_blocks"] == profile.num_gpu_blocks
    assert engine["block_size"] == profile.block_size
    assert engine["max_num_seqs"] == 1
    assert engine["max_num_batched_tokens"] == profile.max_seq_len
    assert engine["kv_transfer_bandwidth"] == profile.kv_transfer_bandwidth_gbps
    assert engine["kv_transfer_bytes_per_token"] == profile.kv_bytes_per_token
