"""The measured figures of calibration.md as data: the test the performance model must pass.

Two kinds of figures (docs/calibration.md; raw data in docs/calibration/):
- the H200 physics tables: a Llama-shaped model timed on one H200, as a band per point, `floor`
  (the GEMMs plus attention or KV reads alone: a real engine is slower) to `torch` (unfused
  elementwise kernels: a real engine is faster). The 70B tables bound the prod profile; the 8B
  tables (same H200) check that the same physics, with the 8B shapes, lands in the 8B band.
- the engine figures: what real engines (vLLM, TRT-LLM) reported at the booth's scale. They pick
  where inside the band a fused engine sits.
Cached-prefix prefill (N new tokens on C cached) was measured in torch only: an upper bound.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PrefillPoint:
    """One uncached prompt of `isl` tokens (one sequence): floor and torch times in ms."""

    isl: int
    floor_ms: float
    torch_ms: float


@dataclass(frozen=True)
class DecodePoint:
    """One decode step of `batch` sequences of `context` tokens each: floor and torch in ms."""

    batch: int
    context: int
    floor_ms: float
    torch_ms: float


@dataclass(frozen=True)
class CachedPrefillPoint:
    """`new` tokens on top of `cached` cached tokens, torch only (an upper bound), in ms."""

    new: int
    cached: int
    torch_ms: float


# calibration.md, "Measured on one H200": prefill ISL sweep, torch FP8 full forward and floor
# (FP8 GEMMs + bf16 cuDNN attention). Raw: calibration/h200-70b-measured.json.
H200_70B_PREFILL = (
    PrefillPoint(128, 26.2, 35.0),
    PrefillPoint(512, 61.4, 84.3),
    PrefillPoint(1024, 117.0, 160.4),
    PrefillPoint(2048, 233.5, 328.9),
    PrefillPoint(4096, 474.0, 664.8),
    PrefillPoint(7168, 866.5, 1203.4),
    PrefillPoint(10240, 1307.0, 1797.1),
    PrefillPoint(15360, 2157.9, 2859.8),
    PrefillPoint(20480, 3091.8, 4013.6),
)

# calibration.md: decode step B x C, torch (FP8-KV equivalent) and floor (FP8 GEMMs + FP8 KV
# read at 4.0 TB/s).
H200_70B_DECODE = (
    DecodePoint(1, 1024, 17.65, 25.87),
    DecodePoint(1, 4096, 17.78, 25.99),
    DecodePoint(1, 8192, 17.95, 26.40),
    DecodePoint(1, 16384, 18.28, 26.67),
    DecodePoint(8, 1024, 18.12, 29.30),
    DecodePoint(8, 4096, 19.13, 30.20),
    DecodePoint(8, 8192, 20.47, 31.45),
    DecodePoint(8, 16384, 23.15, 33.85),
    DecodePoint(16, 1024, 18.20, 29.20),
    DecodePoint(16, 4096, 20.21, 31.06),
    DecodePoint(16, 8192, 22.89, 33.47),
    DecodePoint(16, 16384, 28.26, 38.23),
    DecodePoint(32, 1024, 19.24, 29.79),
    DecodePoint(32, 4096, 23.26, 33.35),
    DecodePoint(32, 8192, 28.63, 38.12),
    DecodePoint(64, 1024, 21.68, 33.38),
    DecodePoint(64, 4096, 29.74, 40.54),
    DecodePoint(128, 1024, 27.19, 40.67),
)

# calibration.md, "Cached prefix": torch, CUDA graph. Raw: h200-70b-cached-prefill-measured.json.
H200_70B_CACHED_PREFILL = (
    CachedPrefillPoint(128, 4096, 40.15),
    CachedPrefillPoint(128, 8192, 43.8),
    CachedPrefillPoint(128, 16384, 51.4),
    CachedPrefillPoint(512, 4096, 97.67),
    CachedPrefillPoint(512, 8192, 106.61),
    CachedPrefillPoint(512, 16384, 125.25),
    CachedPrefillPoint(2048, 4096, 370.0),
    CachedPrefillPoint(2048, 8192, 404.85),
    CachedPrefillPoint(2048, 16384, 482.93),
)

# calibration.md, "Llama-3.1-8B shapes on the same H200" (FP8 weights). Raw: h200-8b-measured.json.
H200_8B_PREFILL = (
    PrefillPoint(128, 2.96, 7.2),
    PrefillPoint(512, 6.91, 13.54),
    PrefillPoint(1024, 12.94, 23.51),
    PrefillPoint(2048, 26.47, 45.17),
    PrefillPoint(4096, 54.7, 92.79),
    PrefillPoint(8192, 119.16, 196.01),
    PrefillPoint(16384, 305.92, 455.28),
)

H200_8B_DECODE = (
    DecodePoint(1, 1024, 2.502, 5.235),
    DecodePoint(1, 4096, 2.552, 5.325),
    DecodePoint(1, 8192, 2.618, 5.43),
    DecodePoint(8, 1024, 2.566, 6.244),
    DecodePoint(8, 4096, 2.96, 6.62),
    DecodePoint(8, 8192, 3.486, 7.09),
    DecodePoint(16, 1024, 2.744, 6.476),
    DecodePoint(16, 4096, 3.533, 7.227),
    DecodePoint(16, 8192, 4.586, 8.176),
    DecodePoint(32, 1024, 2.949, 6.803),
    DecodePoint(32, 4096, 4.528, 8.24),
    DecodePoint(32, 8192, 6.633, 10.126),
    DecodePoint(64, 1024, 3.529, 7.587),
    DecodePoint(64, 4096, 6.687, 10.422),
    DecodePoint(64, 8192, 10.896, 14.201),
    DecodePoint(128, 1024, 4.798, 9.349),
    DecodePoint(128, 4096, 11.112, 14.958),
    DecodePoint(128, 8192, 19.532, 22.491),
)


@dataclass(frozen=True)
class EngineFigure:
    """A real engine's figure and the conditions it maps to in the model.

    kind "ttft": idle TTFT of a `prompt`-token request (prefill + KV transfer + first decode
    step, as the mocker composes it). "itl": one decode step of `batch` x `context`.
    "itl_agg": the same step in an aggregated engine that also prefills the arriving turns
    between decode iterations: step / (1 - prefill busy share), the share from the reported
    output rate (`output_tok_s` over `workers`, `turn_output` tokens per turn) and the prefill
    a conversation of `turns` needs (`first_prompt` uncached, then `user_tokens` per turn on top
    of the cached history, which grows by `turn_growth`).
    """

    source: str
    figure: str
    kind: str
    low: float
    high: float
    prompt: int = 0
    batch: float = 1.0
    context: float = 0.0
    output_tok_s: float = 0.0
    workers: int = 1
    turns: int = 1
    turn_output: float = 0.0
    first_prompt: int = 0
    user_tokens: int = 0
    turn_growth: int = 0
    note: str = ""


def _sharegpt() -> list[EngineFigure]:
    # vLLM bench ShareGPT, 207 in / 198 out, one H200, 0.5-3 RPS. Batch by Little's law:
    # B = RPS * (TTFT + 197 * TPOT) ~ 2.1 at 0.5 RPS and ~12.6 at 3 RPS; mean context 306.
    src, ctx = "vLLM ShareGPT 1xH200", 207 + 198 / 2
    return [
        EngineFigure(src, "TTFT p50, 0.5-3 RPS", "ttft", 56, 66, prompt=207),
        EngineFigure(src, "TPOT p50 @0.5 RPS", "itl", 20.3, 20.3, batch=2.1, context=ctx,
                     note="B by Little's law"),
        EngineFigure(src, "TPOT p50 @3.0 RPS", "itl", 21.5, 21.5, batch=12.6, context=ctx,
                     note="B by Little's law"),
    ]  # fmt: skip


# TRT-LLM (Dynamo 0.9, aggregated), 3 workers, max batch 64: concurrency, ITL p50 (ms), output
# tokens/s (calibration.md).
_TRT = (
    (40, 25.0, 1617), (60, 26.0, 2263), (80, 28.0, 2742), (100, 36.0, 2780), (120, 43.0, 2806),
    (160, 46.0, 3472), (180, 45.0, 3908),
)  # fmt: skip


def _trtllm() -> list[EngineFigure]:
    # Batch per worker = concurrency / 3 (<= 64); inputs 3.5k -> 7k over 5 turns (mean 5,250,
    # growing ~875 a turn) with ~830 output tokens: mean context ~5,665. Turns 2+ are cached
    # but for the new user message (~45 tokens: 875 growth - 830 answer).
    src, ctx = "TRT-LLM agg 3xH200", 5250 + 830 / 2
    return [
        EngineFigure(src, f"ITL p50 @{conc}", "itl_agg", itl, itl, batch=min(conc / 3, 64),
                     context=ctx, output_tok_s=tps, workers=3, turns=5, turn_output=830,
                     first_prompt=3500, user_tokens=45, turn_growth=875,
                     note="aggregated: prefill between decode steps")
        for conc, itl, tps in _TRT
    ]  # fmt: skip


def h200_70b_engine_figures() -> tuple[EngineFigure, ...]:
    """The engine figures of calibration.md the prod profile must meet within 20 %."""
    return (*_sharegpt(), *_trtllm())
