"""Four timing sources side by side, per point: AIS, AIConfigurator, the physics model, the band.

- AIS: the timing the local stack runs on (perfmodel.ais_points: the workers' own args replayed
  through the mocker engine, AISimulate's TRT-LLM data for the profile's GPU).
- AIC: AIConfigurator's `estimate` for the same model/system/backend, TP1 (the function the
  `aiconfigurator cli estimate` command runs, called in-process: ~2 s a point instead of ~20 s).
- physics: localcluster.perfmodel (fitted to the band and engine figures), the cross-check.
- band: floor..torch measured on one H200 (docs/calibration/h200-70b-measured.json).

`python -m demo_bench.fidelity_sources [--profile NAME] [--out DIR]` prints the markdown table
and writes it (with a JSON twin) into DIR.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from localcluster.modeldir import write_model_dir
from localcluster.perfmodel import (
    PROD_PROFILE,
    PROFILE_NAMES,
    HardwareProfile,
    ais_points,
    hardware_profile,
)
from localcluster.perfmodel.fit import h200_bands
from localcluster.settings import LAYOUTS

# Aggregated workers: closed-loop streams of a workload shape (ISL, OSL, streams), so prefill
# chunks and decode steps share passes (mixed steps). Shapes of chat and reasoning.
AGGREGATED_POINTS = ((4500, 300, 16), (200, 1250, 32), (4500, 300, 48))
DEV_PREFILL = (2048, 10240, 20480)  # nothing measured on an H100: a few points, no band
DEV_DECODE = ((1, 1024), (16, 4096), (64, 1024), (128, 1024))


@dataclass(frozen=True)
class SourceRow:
    """One point's time (ms) by each source; None where a source cannot time it."""

    kind: str  # "prefill", "decode step", "aggregated TTFT", "aggregated ITL"
    point: str
    ais_ms: float | None
    aic_ms: float | None
    physics_ms: float | None
    band: tuple[float, float] | None
    note: str = ""


class Aic:
    """AIConfigurator's static/agg estimate, in-process (its database loads once)."""

    def __init__(self, model_dir: Path, system: str, backend: str) -> None:
        warnings.simplefilter("ignore", DeprecationWarning)  # "estimate" is a legacy command
        logging.getLogger("aisimulate").setLevel(logging.ERROR)
        from aisimulate.legacy_cli.api import cli_estimate

        self._estimate = cli_estimate
        self._args = {"model_path": str(model_dir), "system_name": system, "backend_name": backend}

    def static(self, isl: int, batch: int) -> tuple[float, float]:
        """(TTFT = prefill of `batch` prompts, TPOT = one decode step at `isl` context)."""
        r = self._estimate(**self._args, mode="static", isl=isl, osl=2, batch_size=batch, tp_size=1)
        return float(r.ttft), float(r.tpot)

    def aggregated(self, isl: int, osl: int, batch: int, chunk: int) -> tuple[float, float]:
        r = self._estimate(**self._args, mode="agg", isl=isl, osl=osl, batch_size=batch,
                           ctx_tokens=chunk, tp_size=1)  # fmt: skip
        return float(r.ttft), float(r.tpot)


Range = tuple[float, float] | None


def _points(
    profile: HardwareProfile,
) -> tuple[list[tuple[int, Range]], list[tuple[int, int, Range]]]:
    if profile.name != PROD_PROFILE:
        return [(n, None) for n in DEV_PREFILL], [(b, c, None) for b, c in DEV_DECODE]
    band = h200_bands(profile.unfused)[0]  # the 70B on the H200
    prefill: list[tuple[int, Range]] = [(p.isl, (p.floor_ms, p.torch_ms)) for p in band.prefill]
    decode: list[tuple[int, int, Range]] = [
        (d.batch, d.context, (d.floor_ms, d.torch_ms)) for d in band.decode
    ]
    return prefill, decode


def source_rows(profile: HardwareProfile, model_dir: Path) -> list[SourceRow]:
    aic = Aic(model_dir, profile.ais.system, profile.ais.backend)
    prefill, decode = _points(profile)
    rows = [
        SourceRow("prefill", f"{isl} tokens", ais_points.prefill_ms(profile, model_dir, isl),
                  aic.static(isl, 1)[0], profile.prefill_ms(isl), band)
        for isl, band in prefill
    ]  # fmt: skip
    for batch, context, band in decode:
        fits = batch <= profile.decode_max_batch
        ais = ais_points.decode_step_ms(profile, model_dir, batch, context) if fits else None
        note = "" if fits else f"above the decode max batch {profile.decode_max_batch}"
        rows.append(SourceRow("decode step", f"{batch} x {context}", ais,
                              aic.static(context, batch)[1], profile.itl_ms(batch, context),
                              band, note))  # fmt: skip
    _, chunk = profile.limits("aggregated")
    for isl, osl, streams in AGGREGATED_POINTS:
        ais_ttft, ais_itl = ais_points.aggregated_ms(profile, model_dir, isl, osl, streams)
        aic_ttft, aic_itl = aic.aggregated(isl, osl, streams, chunk)
        point = f"{streams} streams of {isl}/{osl}"
        rows.append(SourceRow("aggregated TTFT", point, ais_ttft, aic_ttft, None, None,
                              "median, closed loop (AIC: its own queueing model)"))  # fmt: skip
        physics = profile.itl_ms(streams, isl + osl / 2)  # decode only: physics has no mixing
        rows.append(SourceRow("aggregated ITL", point, ais_itl, aic_itl, physics, None,
                              "physics: the decode step alone"))  # fmt: skip
    return rows


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def _vs(value: float | None, ais: float | None) -> str:
    if value is None or ais is None:
        return _ms(value)
    return f"{value:.1f} ({100 * (value / ais - 1):+.0f} %)"


def render_markdown(profile: HardwareProfile, rows: Sequence[SourceRow]) -> str:
    lines = [
        f"## `{profile.name}`: AIS ({profile.ais.system}, {profile.ais.backend}) vs AIC vs "
        "physics vs band",
        "",
        "Times in ms; AIC and physics with their difference to AIS. Band: floor..torch measured "
        "on one H200 (70B only). AIS is what the local stack runs on.",
        "",
        "| kind | point | AIS | AIC estimate | physics | band floor..torch | note |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        band = "—" if r.band is None else f"{r.band[0]:g}..{r.band[1]:g}"
        lines.append(f"| {r.kind} | {r.point} | {_ms(r.ais_ms)} | {_vs(r.aic_ms, r.ais_ms)} "
                     f"| {_vs(r.physics_ms, r.ais_ms)} | {band} | {r.note} |")  # fmt: skip
    return "\n".join([*lines, ""])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m demo_bench.fidelity_sources")
    parser.add_argument("--profile", choices=PROFILE_NAMES, default=PROD_PROFILE)
    parser.add_argument("--out", type=Path, default=None, help="write the table and JSON here")
    args = parser.parse_args(argv)
    profile = hardware_profile(args.profile)
    size = next(v.model_size for v in LAYOUTS.values() if v.profile == profile.name)
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = write_model_dir(Path(tmp) / "model", size)
        rows = source_rows(profile, model_dir)
    text = render_markdown(profile, rows)
    print(text)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / f"sources-{profile.name}.md").write_text(text)
        payload = [asdict(r) for r in rows]
        (args.out / f"sources-{profile.name}.json").write_text(json.dumps(payload, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
