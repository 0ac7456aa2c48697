"""The profile converter on the profiler's real output: `dynamo.profiler.profile_endpoint` (the
tool `make profile` runs against the cluster) profiles a real local Dynamo stack here, and the
converted file must load in the mocker and reproduce what was measured."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import numpy as np
import pytest
from deploykit.errors import ProfileError
from deploykit.kustomize import LOCAL_BIN, find_tool
from deploykit.profile_convert import (
    DECODE_FILE,
    PREFILL_FILE,
    ProfilerData,
    caching_warnings,
    convert,
    itl_ms,
    load_profiler_output,
    prefill_ms,
    to_mocker_tables,
)
from deploykit.profiling import profiler_argv
from profile_stack import profile_stack

from localcluster.perfmodel import PROD_PROFILE, hardware_profile

# Few points: every point is one AIPerf run, and AIPerf takes tens of seconds to start.
PREFILL_MAX_CONTEXT = 7812  # ISLs 100, 2500, 4900 at granularity 3 (profile_prefill's range)
# ISLs 100, 400 at granularity 2; with 2,000 KV tokens that is concurrency 1 and 3 at ISL 100,
# 1 and 2 at ISL 400: the 4 points profile_endpoint's decode plot needs (a Delaunay surface).
DECODE_MAX_CONTEXT = 1100
DECODE_MAX_KV = 2000
# The first test pays for the profiling run (six AIPerf runs): minutes, not the default 300 s.


@pytest.fixture(scope="module")
def profiled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Run profile_endpoint in both modes against a real 1P+1D stack (speed 1, caching off)."""
    find_tool("aiperf", "AIPERF")  # installed by `make tools`; missing = failure, not a skip
    work = tmp_path_factory.mktemp("profile")
    out = work / "out"
    env = dict(os.environ)  # keeps the package index settings uv needs
    env["PATH"] = f"{LOCAL_BIN}{os.pathsep}{env.get('PATH', '')}"
    with profile_stack(work / "stack", speedup=1.0) as stack:
        for mode, max_context, granularity in (
            ("prefill", PREFILL_MAX_CONTEXT, 3),
            ("decode", DECODE_MAX_CONTEXT, 2),
        ):
            argv = profiler_argv(mode, stack.url, stack.model_name, str(stack.model_dir), out,
                                 max_context, granularity, DECODE_MAX_KV)  # fmt: skip
            done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=1500)
            assert done.returncode == 0, done.stderr[-3000:]
    return out


@pytest.mark.integration
@pytest.mark.timeout(2400)
def test_profile_endpoint_writes_the_planner_format_the_converter_reads(profiled: Path) -> None:
    with np.load(profiled / PREFILL_FILE) as prefill:
        assert {"prefill_isl", "prefill_ttft", "prefill_thpt_per_gpu"} <= set(prefill.files)
        assert list(prefill["prefill_isl"]) == [100, 2500, 4900]
    with np.load(profiled / DECODE_FILE) as decode:
        assert {"x_kv_usage", "y_context_length", "z_itl", "max_kv_tokens"} <= set(decode.files)
        assert int(decode["max_kv_tokens"][0]) == DECODE_MAX_KV
    data = load_profiler_output(profiled)
    assert caching_warnings(data) == [], "prefix caching was off: prefill must grow with ISL"


@pytest.mark.integration
@pytest.mark.timeout(600)
def test_converted_profile_reproduces_the_measured_stack(profiled: Path, tmp_path: Path) -> None:
    """Round trip: the stack ran the H200 profile; the converted file gives back its prefill and
    decode times (within a factor covering HTTP/tokenizer overhead on a loaded 2-core box)."""
    path, lines = convert(profiled, tmp_path / "cluster.npz")
    assert any("H200 band" in line for line in lines)
    source = hardware_profile(PROD_PROFILE)
    with np.load(path) as npz:
        tables = {k: np.asarray(npz[k]) for k in npz.files}
    for isl in (2500, 4900):
        expected = source.idle_ttft_ms(isl)
        assert 0.7 * expected <= prefill_ms(tables, isl) <= 2.0 * expected, isl
    for batch, context in ((1, 350.0), (3, 350.0), (1, 650.0), (2, 650.0)):
        expected = source.itl_ms(batch, context)
        assert 0.7 * expected <= itl_ms(tables, batch, context) <= 2.0 * expected, context


@pytest.mark.integration
@pytest.mark.timeout(600)
def test_the_mocker_serves_with_the_converted_profile(profiled: Path, tmp_path: Path) -> None:
    """The real mocker (its Rust loader) starts on the converted file and answers."""
    path, _ = convert(profiled, tmp_path / "cluster.npz")
    with profile_stack(tmp_path / "stack", speedup=10.0, npz=path) as stack:
        body = {
            "model": stack.model_name,
            "messages": [{"role": "user", "content": "one two three " * 50}],
            "max_tokens": 8,
        }
        reply = httpx.post(f"{stack.url}/v1/chat/completions", json=body, timeout=60)
        assert reply.status_code == 200, reply.text[:300]
        assert reply.json()["usage"]["completion_tokens"] == 8


def _data(isl: list[float], ttft: list[float]) -> ProfilerData:
    ctx = np.array([350.0, 350.0, 650.0, 650.0])
    return ProfilerData(
        prefill_isl=np.array(isl),
        prefill_ttft_ms=np.array(ttft),
        active_kv_tokens=np.array([350.0, 700.0, 650.0, 1300.0]),
        context_length=ctx,
        itl_ms=np.array([20.0, 22.0, 21.0, 24.0]),
        max_kv_tokens=2000.0,
    )


def test_tables_interpolate_per_context_and_hold_outside_the_samples() -> None:
    tables = to_mocker_tables(_data([100, 2500, 4900], [60, 300, 620]))
    assert list(tables["decode_context_length"]) == [350.0, 650.0]
    assert tables["decode_itl"].shape == (tables["decode_active_kv_tokens"].size, 2)
    assert np.all(np.diff(tables["decode_active_kv_tokens"]) > 0)
    assert itl_ms(tables, 1, 350) == pytest.approx(20.0)
    assert itl_ms(tables, 1.5, 350) == pytest.approx(21.0)
    assert itl_ms(tables, 100, 650) == pytest.approx(24.0), "held flat past the last sample"
    assert prefill_ms(tables, 3700) == pytest.approx(460.0)


def test_flat_prefill_is_reported_as_prefix_caching() -> None:
    (warning,) = caching_warnings(_data([100, 2500, 4900], [82, 80, 78]))
    assert "prefix caching" in warning


def test_bad_profiler_output_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="missing"):
        load_profiler_output(tmp_path)
    (tmp_path / PREFILL_FILE).parent.mkdir(parents=True)
    (tmp_path / DECODE_FILE).parent.mkdir(parents=True)
    np.savez(tmp_path / PREFILL_FILE, prefill_isl=np.array([1.0]), prefill_ttft=np.array([np.nan]))
    np.savez(tmp_path / DECODE_FILE, x_kv_usage=np.array([0.1]))
    with pytest.raises(ProfileError, match="finite"):
        load_profiler_output(tmp_path)
    with pytest.raises(ProfileError, match="at least 2"):
        to_mocker_tables(_data([100, 100, 100], [1, 1, 1]))


def test_cli_reports_bad_input_in_one_line(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "deploykit.profile_convert", str(tmp_path), "--out", "x.npz"],
        capture_output=True,
        text=True,
        env={
            "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "scripts"),
            "PATH": "/usr/bin",
        },
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.strip().startswith("profile_convert:")
    assert len(done.stderr.strip().splitlines()) == 1


def test_band_check_passes_the_h200_profile_and_warns_on_a_slower_cluster() -> None:
    from deploykit.profile_convert import band_checks

    tables = {k: np.asarray(v) for k, v in hardware_profile(PROD_PROFILE).npz_arrays().items()}
    checks = band_checks(tables)
    physics = [c for c in checks if c.figure.startswith("H200 ")]
    assert len(physics) >= 20, "every prefill and decode point of the H200 tables"
    inside = [c for c in physics if c.within]
    assert len(inside) >= 0.9 * len(physics), [c.line() for c in physics if not c.within]
    slow = dict(tables)
    slow["decode_itl"] = tables["decode_itl"] * 3
    slow["prefill_ttft_ms"] = tables["prefill_ttft_ms"] * 3
    warned = [c for c in band_checks(slow) if not c.within]
    assert len(warned) >= 0.9 * len(checks)
    assert all(c.line().startswith("WARN") for c in warned)
