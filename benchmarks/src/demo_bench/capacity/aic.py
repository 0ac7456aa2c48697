"""AIConfigurator's steady-state verdict on the demo's workload shapes (the cross-check).

`aiconfigurator cli default` (installed with aisimulate, offline) searches aggregated and
disaggregated deployments of Llama-3.1-70B-Instruct-FP8 on h200_sxm / TRT-LLM for one ISL/OSL
and one TTFT/TPOT SLO, ranks them by tokens/s/GPU and writes the ranked configurations
(`<mode>/best_config_topn.csv`). It sweeps TP sizes; the demo runs TP1 everywhere, so the verdict
is read twice: AIC's own best, and the best among TP1-only configurations.
"""

from __future__ import annotations

import csv
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

MODEL = "nvidia/Llama-3.1-70B-Instruct-FP8"
SYSTEM = "h200_sxm"
BACKEND = "trtllm"
TOP_N = 20  # enough ranked configurations that TP1 ones are among them


@dataclass(frozen=True)
class Shape:
    """One workload shape and its SLO (ms), as AIC takes them."""

    workload: str
    isl: int
    osl: int
    ttft_ms: float
    tpot_ms: float


@dataclass(frozen=True)
class Best:
    tokens_per_s_per_gpu: float
    request_rate: float
    config: str


@dataclass(frozen=True)
class Verdict:
    shape: Shape
    gpus: int
    agg: Best | None
    disagg: Best | None
    agg_tp1: Best | None
    disagg_tp1: Best | None

    @staticmethod
    def ratio(agg: Best | None, disagg: Best | None) -> str:
        if agg is None or disagg is None:
            return "agg only" if disagg is None and agg else "disagg only" if disagg else "none"
        if disagg.tokens_per_s_per_gpu >= agg.tokens_per_s_per_gpu:
            return f"disagg {disagg.tokens_per_s_per_gpu / agg.tokens_per_s_per_gpu:.2f}x"
        return f"agg {agg.tokens_per_s_per_gpu / disagg.tokens_per_s_per_gpu:.2f}x"

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "verdict": self.ratio(self.agg, self.disagg),
                "verdict_tp1": self.ratio(self.agg_tp1, self.disagg_tp1)}  # fmt: skip


def _best(rows: list[Mapping[str, str]], mode: str, *, tp1: bool) -> Best | None:
    keep = []
    for row in rows:
        if mode == "agg":
            config, is_tp1 = f"{row['parallel']} bs{row['bs']}", row["tp"] == "1"
        else:
            config = f"{row['(p)workers']}P({row['(p)parallel']})+{row['(d)workers']}D({row['(d)parallel']})"  # noqa: E501
            is_tp1 = row["(p)tp"] == "1" and row["(d)tp"] == "1"
        if not tp1 or is_tp1:
            keep.append(
                Best(float(row["tokens/s/gpu_cluster"]), float(row["request_rate"]), config)
            )
    return max(keep, key=lambda b: b.tokens_per_s_per_gpu, default=None)


def read_run(save_dir: Path, shape: Shape, gpus: int) -> Verdict:
    """The verdict from one run's saved `<mode>/best_config_topn.csv` files."""
    found: dict[str, list[Mapping[str, str]]] = {}
    for mode in ("agg", "disagg"):
        files = sorted(save_dir.glob(f"**/{mode}/best_config_topn.csv"))
        found[mode] = list(csv.DictReader(files[-1].open())) if files else []
    return Verdict(
        shape, gpus,
        agg=_best(found["agg"], "agg", tp1=False),
        disagg=_best(found["disagg"], "disagg", tp1=False),
        agg_tp1=_best(found["agg"], "agg", tp1=True),
        disagg_tp1=_best(found["disagg"], "disagg", tp1=True),
    )  # fmt: skip


def run(shape: Shape, gpus: int, save_dir: Path) -> Verdict:
    """One `aiconfigurator cli default` run (a minute or two of CPU), then its verdict."""
    command = [
        str(Path(sys.executable).with_name("aiconfigurator")), "cli", "default",
        "--model-path", MODEL, "--system", SYSTEM, "--backend", BACKEND,
        "--total-gpus", str(gpus), "--isl", str(shape.isl), "--osl", str(shape.osl),
        "--ttft", f"{shape.ttft_ms:g}", "--tpot", f"{shape.tpot_ms:g}",
        "--top-n", str(TOP_N), "--save-dir", str(save_dir), "--no-color",
    ]  # fmt: skip
    log = save_dir.with_suffix(".log")
    save_dir.mkdir(parents=True, exist_ok=True)
    with log.open("w") as out:
        subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, check=True)
    return read_run(save_dir, shape, gpus)
