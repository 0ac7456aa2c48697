"""Profile fidelity: every measured point of calibration.md next to the profile's prediction.

`python -m localcluster.perfmodel.fidelity [--profile NAME] [--json]` prints, for the prod
profile, each band point (prediction and its position: 0 = floor, 1 = torch), the 8B band the
same physics must also hold, the cached-prefix points (torch only: an upper bound the NPZ cannot
follow) and the engine figures with their errors. Exit code 1 when a band point is outside its
band or an engine figure is off by more than 20 %. The dev profile has nothing measured on its
hardware: it prints its derivation and headline predictions.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from localcluster.perfmodel.fit import (
    ENGINE_TOLERANCE,
    figure_error,
    h200_bands,
    predict_figure,
)
from localcluster.perfmodel.measurements import H200_70B_CACHED_PREFILL, h200_70b_engine_figures
from localcluster.perfmodel.physics import EngineModel
from localcluster.perfmodel.profiles import PROD_PROFILE, PROFILE_NAMES, HardwareProfile
from localcluster.perfmodel.profiles import hardware_profile as _profile


@dataclass(frozen=True)
class FidelityRow:
    """One measured point, the model's value for it and where it falls."""

    group: str  # "band 70B", "band 8B", "cached (torch only)", "engine"
    point: str
    low: float  # floor, or the reported value's low end
    high: float  # torch, or the reported value's high end
    predicted: float
    position: float | None  # bands: 0 = floor, 1 = torch
    rel_error: float | None  # engine figures: distance to the reported value/range
    ok: bool
    note: str = ""


def _band_rows(profile: HardwareProfile) -> list[FidelityRow]:
    rows = []
    for band in h200_bands(profile.unfused):
        engine = EngineModel(band.physics, profile.engine_params)
        group = f"band {band.name}"
        for p in band.prefill:
            pos = band.prefill_position(engine, p)
            rows.append(FidelityRow(group, f"prefill {p.isl} tokens", p.floor_ms, p.torch_ms,
                                    round(float(engine.prefill_ms(p.isl)), 2), round(pos, 3),
                                    None, 0 <= pos <= 1))  # fmt: skip
        for d in band.decode:
            pos = band.decode_position(engine, d)
            value = float(engine.decode_ms(d.batch, d.batch * d.context))
            rows.append(FidelityRow(group, f"decode {d.batch} x {d.context}", d.floor_ms,
                                    d.torch_ms, round(value, 2), round(pos, 3), None,
                                    0 <= pos <= 1))  # fmt: skip
    return rows


def _cached_rows(profile: HardwareProfile) -> list[FidelityRow]:
    rows = []
    for c in H200_70B_CACHED_PREFILL:
        physics = profile.prefill_ms(c.new, c.cached)
        npz = profile.prefill_ms(c.new)
        rows.append(FidelityRow("cached prefix (torch only)", f"{c.new} new on {c.cached}", 0.0,
                                c.torch_ms, round(physics, 2), None, None, physics <= c.torch_ms,
                                f"mocker NPZ (new tokens only): {npz:.1f}"))  # fmt: skip
    return rows


def _engine_rows(profile: HardwareProfile) -> list[FidelityRow]:
    rows = []
    for fig in h200_70b_engine_figures():
        value = predict_figure(profile.engine, fig, profile.kv_transfer_bandwidth_gbps)
        err = figure_error(value, fig)
        rows.append(FidelityRow(f"engine: {fig.source}", fig.figure, fig.low, fig.high,
                                round(value, 2), None, round(err, 4),
                                abs(err) <= ENGINE_TOLERANCE, fig.note))  # fmt: skip
    return rows


def fidelity_rows(profile: HardwareProfile) -> list[FidelityRow]:
    """Every measured point for the prod profile; none for a derived one (nothing measured)."""
    if not profile.gpu.measured:
        return []
    return [*_band_rows(profile), *_cached_rows(profile), *_engine_rows(profile)]


def failures(rows: Sequence[FidelityRow]) -> list[FidelityRow]:
    """Rows that break the contract: out of band, or an engine figure off by more than 20 %.
    Cached-prefix rows are informative (the NPZ cannot carry that term)."""
    return [r for r in rows if not r.ok and not r.group.startswith("cached")]


def predictions_summary(profile: HardwareProfile) -> list[str]:
    """Headline predictions (markdown bullets)."""
    lines = [
        f"- idle TTFT, {n} tokens: {profile.idle_ttft_ms(n):.0f} ms (prefill "
        f"{profile.prefill_ms(n):.0f} ms)"
        for n in (200, 2000, 7000, 10000, 15000, 20000)
    ]
    lines += [
        f"- ITL, batch {b} x {c} tokens: {profile.itl_ms(b, c):.1f} ms"
        for b, c in ((1, 500), (16, 4096), (64, 1024), (64, 5000), (128, 4096))
    ]
    return lines


def _fmt_range(low: float, high: float) -> str:
    return f"{low:g}" if low == high else f"{low:g}–{high:g}"


def render_markdown(profile: HardwareProfile) -> str:
    """The fidelity table of one profile as markdown."""
    u, e = profile.unfused, profile.engine_params
    head = [
        f"## Profile `{profile.name}` — {profile.description}",
        "",
        f"Fusion {e.fusion:.3f} (0 = floor, 1 = torch). Unfused costs per layer: prefill "
        f"{u.prefill_layer_ms:.4f} ms + {u.prefill_bytes_per_element:.1f} B/element/token, "
        f"decode {u.decode_layer_ms:.4f} ms + {u.decode_bytes_per_element:.1f} B/element/seq. "
        f"KV {profile.kv_capacity_tokens} tokens/worker, decode max batch "
        f"{profile.decode_max_batch}, prefill one prompt per pass up to {profile.max_seq_len} "
        f"tokens, KV link {profile.kv_transfer_bandwidth_gbps:g} GB/s, worker start "
        f"{profile.worker_start_s:g} s.",
        "",
        "Measured: " + "; ".join(profile.measured) + ".",
        "",
        "Derived: " + ("; ".join(profile.derived) or "nothing") + ".",
        "",
    ]
    rows = fidelity_rows(profile)
    summary = ["Predictions:", "", *predictions_summary(profile), ""]
    if not rows:
        return "\n".join([*head, "No measured figures on this hardware.", "", *summary])
    table = [
        "| group | point | measured (floor–torch or figure) | predicted | position | error | ok |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        pos = "" if r.position is None else f"{r.position:.2f}"
        err = "" if r.rel_error is None else f"{100 * r.rel_error:+.1f} %"
        low = "" if r.group.startswith("cached") else _fmt_range(r.low, r.high)
        measured = f"≤ {r.high:g}" if r.group.startswith("cached") else low
        note = f" ({r.note})" if r.note else ""
        table.append(
            f"| {r.group} | {r.point}{note} | {measured} | {r.predicted:.1f} | {pos} | {err} "
            f"| {'yes' if r.ok else 'NO'} |"
        )
    bad = failures(rows)
    verdict = (
        "every point in its band, every engine figure within 20 %"
        if not bad
        else (f"{len(bad)} point(s) FAIL")
    )
    return "\n".join([*head, *table, "", f"Result: {verdict}. Times in ms.", "", *summary])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m localcluster.perfmodel.fidelity")
    parser.add_argument("--profile", choices=PROFILE_NAMES, default=PROD_PROFILE)
    parser.add_argument("--json", action="store_true", help="rows as JSON instead of markdown")
    args = parser.parse_args(argv)
    profile = _profile(args.profile)
    rows = fidelity_rows(profile)
    if args.json:
        print(json.dumps([asdict(r) for r in rows], indent=1))
    else:
        print(render_markdown(profile))
    return 1 if failures(rows) else 0


if __name__ == "__main__":
    sys.exit(main())
