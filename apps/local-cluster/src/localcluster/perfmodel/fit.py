"""The few numbers the physics model takes from measurements, and how each is obtained.

- Unfused elementwise costs: least squares of torch - floor over the 70B prefill sweep (against
  tokens) and decode grid (against batch), turned into per-layer and per-element constants. The
  8B tables (same H200) are not used: they test the constants.
- Attention launch floor per layer: the graph-timed cuDNN causal kernel at 128 tokens, 0.0085 ms
  (calibration/h200-70b-cached-prefill-measured.json).
- Fusion (the engine's place between floor and torch): minimax of the engine figures' errors,
  constrained so every measured point of the 70B and 8B bands stays inside its band.

Where the sources disagree the band wins: it times the step itself on the exact hardware, while
an engine figure is an end-to-end number whose batch and context are inferred (Little's law,
concurrency / workers). vLLM ShareGPT's TPOT at light load asks for a step near the floor
(fusion ~0.3); TRT-LLM's ITL at 100-180 streams is above the torch column at its batch even
though TRT-LLM is fused: its three workers are aggregated, so prefills of arriving turns run
between decode iterations and stretch every stream's mean ITL. The model says so explicitly
(kind "itl_agg" in measurements.py), which leaves one fusion value meeting every figure.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from localcluster.perfmodel.errors import ProfileFitError
from localcluster.perfmodel.hardware import (
    H200_SXM,
    LLAMA_31_8B_FP8,
    LLAMA_31_70B_FP8,
    GpuSpec,
    ModelSpec,
)
from localcluster.perfmodel.measurements import (
    H200_8B_DECODE,
    H200_8B_PREFILL,
    H200_70B_DECODE,
    H200_70B_PREFILL,
    DecodePoint,
    EngineFigure,
    PrefillPoint,
    h200_70b_engine_figures,
)
from localcluster.perfmodel.physics import EngineModel, EngineParams, Physics, UnfusedCosts

ATTENTION_LAUNCH_MS = 0.0085  # cuDNN causal attention, 128 tokens, one layer, CUDA graph
ENGINE_TOLERANCE = 0.20  # README: engine figures within 20 %
NVLINK_GBPS = 450.0  # NVLink 4, one direction per GPU: the prod node's KV link
FUSION_GRID = np.round(np.linspace(0.0, 1.0, 201), 3)


def unfused_costs(
    model: ModelSpec, gpu: GpuSpec, prefill: Sequence[PrefillPoint], decode: Sequence[DecodePoint]
) -> UnfusedCosts:
    """Per-layer, per-element unfused costs from the torch - floor gaps of one model's tables."""
    width = model.layers * (model.hidden + model.intermediate)
    p_slope, p_fixed = np.polyfit(
        [p.isl for p in prefill], [p.torch_ms - p.floor_ms for p in prefill], 1
    )
    d_slope, d_fixed = np.polyfit(
        [p.batch for p in decode], [p.torch_ms - p.floor_ms for p in decode], 1
    )

    def per_element(slope_ms: float) -> float:
        return float(slope_ms) * 1e-3 * gpu.read_bytes_per_s / width

    return UnfusedCosts(
        prefill_layer_ms=max(0.0, float(p_fixed)) / model.layers,
        prefill_bytes_per_element=per_element(p_slope),
        decode_layer_ms=max(0.0, float(d_fixed)) / model.layers,
        decode_bytes_per_element=per_element(d_slope),
    )


def physics_for(model: ModelSpec, gpu: GpuSpec, unfused: UnfusedCosts) -> Physics:
    return Physics(model, gpu, unfused, ATTENTION_LAUNCH_MS)


def transfer_ms(prompt_tokens: float, kv_bytes_per_token: int, gbps: float) -> float:
    """The mocker's KV transfer delay: the whole prompt's KV over the link (decimal GB/s)."""
    return 1e3 * prompt_tokens * kv_bytes_per_token / (gbps * 1e9) if gbps > 0 else 0.0


def idle_ttft_ms(engine: EngineModel, prompt: float, cached: float, gbps: float) -> float:
    """TTFT on an idle disaggregated pair as the mocker composes it: one prefill pass of the
    uncached tokens (the NPZ is keyed on them alone), KV transfer, the first decode step."""
    prefill = float(engine.prefill_ms(prompt - cached))
    link = transfer_ms(prompt, engine.physics.model.kv_bytes_per_token, gbps)
    return prefill + link + float(engine.decode_ms(1, prompt))


def prefill_busy_share(engine: EngineModel, fig: EngineFigure) -> float:
    """Share of an aggregated worker's time spent prefilling the turns it serves."""
    history = [fig.first_prompt + k * fig.turn_growth for k in range(1, fig.turns)]
    conversation_ms = float(engine.prefill_ms(fig.first_prompt)) + sum(
        float(engine.prefill_ms(fig.user_tokens, cached)) for cached in history
    )
    turns_per_s = fig.output_tok_s / fig.workers / fig.turn_output
    return turns_per_s / fig.turns * conversation_ms / 1e3


def predict_figure(engine: EngineModel, fig: EngineFigure, gbps: float = NVLINK_GBPS) -> float:
    """The model's value for an engine figure, in ms."""
    if fig.kind == "ttft":
        return idle_ttft_ms(engine, fig.prompt, 0, gbps)
    step = float(engine.decode_ms(fig.batch, fig.batch * fig.context))
    if fig.kind == "itl_agg":
        return step / (1 - prefill_busy_share(engine, fig))
    return step


def figure_error(predicted: float, fig: EngineFigure) -> float:
    """Relative distance to the reported value or range (0 inside a range)."""
    if predicted < fig.low:
        return predicted / fig.low - 1
    if predicted > fig.high:
        return predicted / fig.high - 1
    return 0.0


@dataclass(frozen=True)
class Band:
    """One model's measured band on one GPU: the points its engine model must stay between."""

    name: str
    physics: Physics
    prefill: Sequence[PrefillPoint]
    decode: Sequence[DecodePoint]

    def prefill_position(self, engine: EngineModel, point: PrefillPoint) -> float:
        """0 at the floor, 1 at torch; outside [0, 1] means out of the band."""
        value = float(engine.prefill_ms(point.isl))
        return (value - point.floor_ms) / (point.torch_ms - point.floor_ms)

    def decode_position(self, engine: EngineModel, point: DecodePoint) -> float:
        value = float(engine.decode_ms(point.batch, point.batch * point.context))
        return (value - point.floor_ms) / (point.torch_ms - point.floor_ms)

    def holds(self, params: EngineParams) -> bool:
        engine = EngineModel(self.physics, params)
        positions = [self.prefill_position(engine, p) for p in self.prefill]
        positions += [self.decode_position(engine, p) for p in self.decode]
        return all(0.0 <= x <= 1.0 for x in positions)


def fit_engine(
    physics: Physics, figures: Sequence[EngineFigure], bands: Sequence[Band]
) -> EngineParams:
    """The fusion on a fine grid that minimises the worst engine-figure error while every band
    holds. A grid, not a gradient method: the objective is a max of kinks in one variable, and
    the answer must be the same on every machine."""
    best: tuple[float, EngineParams] | None = None
    for fusion in FUSION_GRID:
        params = EngineParams(fusion=float(fusion))
        if not all(band.holds(params) for band in bands):
            continue
        engine = EngineModel(physics, params)
        worst = max(abs(figure_error(predict_figure(engine, f), f)) for f in figures)
        if best is None or worst < best[0] - 1e-12:
            best = (worst, params)
    if best is None:
        raise ProfileFitError("no fusion factor keeps every measured point inside its band")
    return best[1]


@functools.cache
def h200_70b_unfused() -> UnfusedCosts:
    """Unfused costs from the 70B tables (the 8B tables then test them)."""
    return unfused_costs(LLAMA_31_70B_FP8, H200_SXM, H200_70B_PREFILL, H200_70B_DECODE)


def h200_bands(unfused: UnfusedCosts) -> tuple[Band, Band]:
    """The 70B and 8B bands measured on the H200, with the same physics constants."""
    return (
        Band("70B on H200", physics_for(LLAMA_31_70B_FP8, H200_SXM, unfused),
             H200_70B_PREFILL, H200_70B_DECODE),
        Band("8B on H200", physics_for(LLAMA_31_8B_FP8, H200_SXM, unfused),
             H200_8B_PREFILL, H200_8B_DECODE),
    )  # fmt: skip


@functools.cache
def h200_engine() -> EngineParams:
    """The engine position: fitted to the 70B engine figures inside both H200 bands."""
    unfused = h200_70b_unfused()
    physics = physics_for(LLAMA_31_70B_FP8, H200_SXM, unfused)
    return fit_engine(physics, h200_70b_engine_figures(), h200_bands(unfused))
