"""Turns Dynamo's profiler output into the local stack's mocker profile (`make profile`).

Input: the directory `python -m dynamo.profiler.profile_endpoint` writes (the planner's format,
ai-dynamo 1.6.1 dynamo/profiler/utils/profile_{prefill,decode}.py):
  selected_prefill_interpolation/raw_data.npz  prefill_isl, prefill_ttft (ms), prefill_thpt_per_gpu
  selected_decode_interpolation/raw_data.npz   x_kv_usage (share of max_kv_tokens),
      y_context_length (isl + osl/2), z_itl (ms), z_thpt_per_gpu, max_kv_tokens (1,)
Output: the mocker's single NPZ (docs/calibration.md "Mocker profile format"), written with the
local cluster's own writer. Dynamo's converter between the two needs `aisimulate_core`, which
these machines cannot install, so this one tabulates the measurements directly: prefill by ISL,
decode ITL per context length as a function of active KV tokens (linear, held flat outside the
measured range). Checks: the mocker's own loader accepts the file, and the figures are compared
with calibration.md's H200 measurements (a warning per figure outside the band).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from deploykit.errors import DeployKitError, ProfileError

FloatArray = NDArray[np.float64]
PREFILL_FILE = Path("selected_prefill_interpolation/raw_data.npz")
DECODE_FILE = Path("selected_decode_interpolation/raw_data.npz")
ACTIVE_POINTS = 49


@dataclass(frozen=True)
class ProfilerData:
    """The profiler's samples, times in milliseconds of real GPU time."""

    prefill_isl: FloatArray
    prefill_ttft_ms: FloatArray
    active_kv_tokens: FloatArray
    context_length: FloatArray
    itl_ms: FloatArray
    max_kv_tokens: float


def _array(data: np.lib.npyio.NpzFile, key: str, source: Path) -> FloatArray:
    if key not in data.files:
        raise ProfileError(f"{source}: no {key!r} (keys: {sorted(data.files)})")
    values = np.asarray(data[key], dtype=np.float64).ravel()
    if values.size == 0 or not np.all(np.isfinite(values)) or np.any(values < 0):
        raise ProfileError(f"{source}: {key!r} must be non-empty, finite and >= 0")
    return values


def load_profiler_output(directory: Path, time_scale: float = 1.0) -> ProfilerData:
    """Read and validate a profile_endpoint result directory. `time_scale` multiplies every
    time (a mocker run at --speedup-ratio S is profiled with time_scale=S)."""
    if time_scale <= 0:
        raise ProfileError(f"time_scale must be > 0, got {time_scale}")
    prefill_path, decode_path = directory / PREFILL_FILE, directory / DECODE_FILE
    for path in (prefill_path, decode_path):
        if not path.is_file():
            raise ProfileError(f"{path}: missing (did profile_endpoint run in both modes?)")
    with np.load(prefill_path) as prefill:
        isl = _array(prefill, "prefill_isl", prefill_path)
        ttft = _array(prefill, "prefill_ttft", prefill_path) * time_scale
    with np.load(decode_path) as decode:
        usage = _array(decode, "x_kv_usage", decode_path)
        context = _array(decode, "y_context_length", decode_path)
        itl = _array(decode, "z_itl", decode_path) * time_scale
        max_kv = float(_array(decode, "max_kv_tokens", decode_path)[0])
    if isl.size != ttft.size or not usage.size == context.size == itl.size:
        raise ProfileError(f"{directory}: sample arrays of different lengths")
    return ProfilerData(isl, ttft, usage * max_kv, context, itl, max_kv)


def to_mocker_tables(data: ProfilerData) -> dict[str, FloatArray]:
    """The five mocker arrays (float64, strictly increasing axes)."""
    isl, order = np.unique(data.prefill_isl, return_index=True)
    if isl.size < 2:
        raise ProfileError("prefill needs at least 2 prompt lengths")
    contexts = np.unique(data.context_length)
    if contexts.size < 2:
        raise ProfileError("decode needs at least 2 context lengths (raise max_kv_tokens)")
    # An even grid plus every measured point, so lookups at the measurements are exact.
    grid = np.linspace(0.0, data.max_kv_tokens, ACTIVE_POINTS)
    active = np.unique(np.concatenate([grid, data.active_kv_tokens]))
    itl = np.empty((active.size, contexts.size))
    for j, ctx in enumerate(contexts):
        mask = data.context_length == ctx
        xs, ys = data.active_kv_tokens[mask], data.itl_ms[mask]
        sort = np.argsort(xs)
        itl[:, j] = np.interp(active, xs[sort], ys[sort])
    return {
        "prefill_isl": isl,
        "prefill_ttft_ms": data.prefill_ttft_ms[order].astype(np.float64),
        "decode_active_kv_tokens": active,
        "decode_context_length": contexts.astype(np.float64),
        "decode_itl": itl,
    }


def prefill_ms(tables: dict[str, FloatArray], tokens: float) -> float:
    return float(np.interp(tokens, tables["prefill_isl"], tables["prefill_ttft_ms"]))


def itl_ms(tables: dict[str, FloatArray], batch: float, context: float) -> float:
    """Bilinear lookup the way the mocker does it (held flat outside the table here)."""
    active, ctx = tables["decode_active_kv_tokens"], tables["decode_context_length"]
    column = [
        np.interp(batch * context, active, tables["decode_itl"][:, j]) for j in range(ctx.size)
    ]
    return float(np.interp(context, ctx, np.asarray(column)))


def caching_warnings(data: ProfilerData) -> list[str]:
    """Prefill that barely grows with the prompt was served from the prefix cache."""
    order = np.argsort(data.prefill_isl)
    isl, ttft = data.prefill_isl[order], data.prefill_ttft_ms[order]
    if isl[-1] >= 8 * isl[0] and ttft[-1] < 2 * ttft[0]:
        return [
            f"prefill TTFT {ttft[0]:.0f} ms at {isl[0]:.0f} tokens vs {ttft[-1]:.0f} ms at "
            f"{isl[-1]:.0f}: prefix caching was probably on (profile with it off)"
        ]
    return []


@dataclass(frozen=True)
class BandCheck:
    """One calibration.md figure next to the converted profile's value for it."""

    figure: str
    low: float
    high: float
    value: float
    tolerance: float

    @property
    def within(self) -> bool:
        return self.low * (1 - self.tolerance) <= self.value <= self.high * (1 + self.tolerance)

    def line(self) -> str:
        verdict = "ok  " if self.within else "WARN"
        return (
            f"{verdict} {self.figure}: cluster {self.value:.1f} ms, H200 band "
            f"{self.low:g}-{self.high:g} ms (+/-{self.tolerance:.0%})"
        )


def band_checks(tables: dict[str, FloatArray], tolerance: float = 0.2) -> list[BandCheck]:
    """Compare with calibration.md's H200 measurements of a 70B-shaped model (the band the
    local prod profile is built in): one prefill pass per prompt length and one decode step per
    (batch, context), each between `floor` and `torch` (docs/calibration.md), plus the decode
    figures real engines reported."""
    from localcluster.perfmodel.measurements import (
        H200_70B_DECODE,
        H200_70B_PREFILL,
        h200_70b_engine_figures,
    )

    checks = [
        BandCheck(f"H200 prefill pass, {p.isl} tokens", p.floor_ms, p.torch_ms,
                  prefill_ms(tables, p.isl), tolerance)
        for p in H200_70B_PREFILL
    ]  # fmt: skip
    checks += [
        BandCheck(f"H200 decode step, batch {d.batch} x {d.context} tokens", d.floor_ms,
                  d.torch_ms, itl_ms(tables, d.batch, d.context), tolerance)
        for d in H200_70B_DECODE
    ]  # fmt: skip
    checks += [
        BandCheck(f"{f.source}: {f.figure}", f.low, f.high, itl_ms(tables, f.batch, f.context),
                  tolerance)
        for f in h200_70b_engine_figures()
        if f.kind == "itl"
    ]  # fmt: skip
    return checks


def write_checked(tables: dict[str, FloatArray], out: Path) -> Path:
    """Write with the local cluster's writer, then have the mocker's loader accept it."""
    from dynamo.mocker.args import resolve_planner_profile_data

    from localcluster.perfmodel.grid import write

    if out.suffix != ".npz":
        raise ProfileError(f"{out}: the mocker only reads profile files ending in .npz")
    path = write(out, tables)
    resolved = resolve_planner_profile_data(path)
    if resolved.npz_path != path:
        raise ProfileError(f"{path}: the mocker does not take it as a mocker-format NPZ")
    return path


def convert(
    directory: Path, out: Path, *, time_scale: float = 1.0, tolerance: float = 0.2
) -> tuple[Path, list[str]]:
    """Profiler directory -> checked mocker NPZ; returns the path and report lines."""
    data = load_profiler_output(directory, time_scale)
    tables = to_mocker_tables(data)
    path = write_checked(tables, out)
    lines = [f"WARN {w}" for w in caching_warnings(data)]
    lines += [c.line() for c in band_checks(tables, tolerance)]
    return path, lines


def main(argv: Sequence[str] | None = None) -> int:
    """CLI: PROFILE_DIR --out FILE.npz [--time-scale S] [--tolerance T]"""
    parser = argparse.ArgumentParser(prog="deploykit.profile_convert", description=__doc__)
    parser.add_argument("directory", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--time-scale", type=float, default=1.0)
    parser.add_argument("--tolerance", type=float, default=0.2)
    args = parser.parse_args(argv)
    try:
        path, lines = convert(
            args.directory, args.out, time_scale=args.time_scale, tolerance=args.tolerance
        )
    except (DeployKitError, ValueError) as exc:
        print(f"profile_convert: {exc}", file=sys.stderr)
        return 2
    print("\n".join(lines))
    warnings = sum(line.startswith("WARN") for line in lines)
    print(f"profile_convert: wrote {path} ({warnings} warning(s))")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
