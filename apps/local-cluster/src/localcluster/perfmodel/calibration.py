"""The measured figures of calibration.md as data, what the model predicts for each, and the fit.

Each figure becomes an `Observation`: the measured value (or range), the conditions it was
measured under (translated into the model's inputs: new prefill tokens, decode batch size and
mean context), and whether the fit uses it ("fitted") or it is only shown next to the model's
prediction ("check"). How the conditions were derived:

- vLLM ShareGPT (207 in / 198 out, one H200, 0.5–3.0 RPS): decode batch from Little's law,
  B = RPS * (TTFT + 197 * TPOT) ≈ 2 at 0.5 RPS and ≈ 13 at 3 RPS; mean context 207 + 198 / 2.
  TTFT at this light load is compared with the mocker's idle TTFT (prefill + KV transfer + one
  decode step, which is how the mocker composes TTFT in a disaggregated layout).
- TRT-LLM closed loop (3 workers, max batch 64): B = concurrency / 3 per worker (≤ 64); inputs
  grow 3.5k -> 7k over 5 turns (mean 5,250) with ~830 output tokens, so mean context ≈ 5,665.
  Its ITL p50 is a plain decode step (prefill-carrying iterations are a few % of all). Its TTFT
  p50 (check only) is compared with the idle TTFT of a turn that adds ~875 uncached tokens to a
  5,250-token prompt: aggregated scheduling delays are not in the model, by design.
  Its output tok/s (check) is 3 workers x B / decode step.
- "A 5th-turn prefill of ~7k tokens at 400–500 ms of compute": one 7,000-token prefill pass.
- "order of 1–2 s on an idle H200 for 15k tokens" (check): idle TTFT of a 15k prompt.
- vLLM multi-turn (5,806 in / 517 out, aggregated, check only): B from Little's law, capped by
  the 348,304-token KV capacity; its TPOT includes chunked-prefill interference and KV pressure
  that a disaggregated decode worker does not see, so it is shown, not fitted. Its TTFTs are not
  used at all: how much of each prompt was a prefix-cache hit is not reported.

With today's figures the fit puts MFU at its bound of 1.0: 7,000 tokens need ~1.0e15 FLOPs,
about 0.52 s at the dense FP8 peak, so the reported 0.40–0.50 s cannot be met exactly by a
physical model (part of that prompt was probably cached); the model lands ~8 % above 0.5 s.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from scipy.optimize import least_squares

from localcluster.perfmodel.errors import ProfileFitError
from localcluster.perfmodel.hardware import MEASURED_70B_KV_TOKENS_PER_H200, GpuSpec, ModelSpec
from localcluster.perfmodel.roofline import FloatArray, Roofline, RooflineParams


class Kind(StrEnum):
    """Which model quantity a measured figure is compared with."""

    IDLE_TTFT = "ttft"  # prefill(new) + KV transfer(prompt) + one decode step(1, prompt)
    PREFILL = "prefill"  # one prefill pass
    ITL = "itl"  # one decode step of B sequences with the given mean context
    THROUGHPUT = "output tok/s"  # workers * B / decode step


class Role(StrEnum):
    FITTED = "fitted"
    CHECK = "check"


@dataclass(frozen=True)
class Observation:
    """One measured figure of calibration.md and the conditions it was measured under."""

    source: str
    figure: str
    kind: Kind
    role: Role
    low: float
    high: float
    new_tokens: float = 0.0  # prefill tokens (IDLE_TTFT, PREFILL)
    prompt_tokens: float = 0.0  # whole prompt: KV transferred, first decode step's context
    batch: float = 1.0  # decode batch per worker (ITL, THROUGHPUT)
    context: float = 0.0  # mean context per sequence in the decode batch
    workers: int = 1  # THROUGHPUT only
    note: str = ""

    @property
    def measured(self) -> float:
        """The value the fit aims at: the midpoint of a reported range."""
        return (self.low + self.high) / 2


def kv_transfer_ms(prompt_tokens: float, kv_bytes_per_token: int, gbps: float) -> float:
    """The mocker's KV transfer delay: whole prompt's KV over the link (decimal GB/s)."""
    return 1e3 * prompt_tokens * kv_bytes_per_token / (gbps * 1e9) if gbps > 0 else 0.0


def predict(obs: Observation, roofline: Roofline, transfer_gbps: float) -> float:
    """The model's value for the quantity `obs` measured, in its unit (ms or tokens/s)."""
    if obs.kind is Kind.PREFILL:
        return float(roofline.prefill_ms(obs.new_tokens))
    if obs.kind is Kind.IDLE_TTFT:
        transfer = kv_transfer_ms(
            obs.prompt_tokens, roofline.model.kv_bytes_per_token, transfer_gbps
        )
        first_step = roofline.decode_ms(1, obs.prompt_tokens)
        return float(roofline.prefill_ms(obs.new_tokens) + transfer + first_step)
    step_ms = float(roofline.decode_ms(obs.batch, obs.batch * obs.context))
    if obs.kind is Kind.ITL:
        return step_ms
    return obs.workers * obs.batch * 1e3 / step_ms


def _sharegpt() -> list[Observation]:
    src = "vLLM bench ShareGPT, 1xH200"
    ctx = 207 + 198 / 2
    return [
        Observation(src, "TTFT p50 (0.5–3 RPS)", Kind.IDLE_TTFT, Role.FITTED, 56, 66,
                    new_tokens=207, prompt_tokens=207),
        Observation(src, "TPOT p50 @0.5 RPS", Kind.ITL, Role.FITTED, 20.3, 20.3,
                    batch=2.1, context=ctx, note="B by Little's law"),
        Observation(src, "TPOT p50 @3.0 RPS", Kind.ITL, Role.FITTED, 21.5, 21.5,
                    batch=12.6, context=ctx, note="B by Little's law"),
    ]  # fmt: skip


_TRT_ROWS = (  # concurrency, TTFT p50, ITL p50, output tok/s (calibration.md TRT-LLM table)
    (40, 247, 25, 1617),
    (60, 249, 26, 2263),
    (80, 267, 28, 2742),
    (100, 329, 36, 2780),
    (120, 382, 43, 2806),
    (160, 424, 46, 3472),
    (180, 472, 45, 3908),
)


def _trtllm() -> list[Observation]:
    src = "TRT-LLM agg, 3xH200"
    mean_input, out_per_turn, max_batch = 5250.0, 830.0, 64.0
    ctx = mean_input + out_per_turn / 2
    rows: list[Observation] = []
    for conc, ttft, itl, tps in _TRT_ROWS:
        batch = min(conc / 3, max_batch)
        rows += [
            Observation(src, f"ITL p50 @{conc}", Kind.ITL, Role.FITTED, itl, itl,
                        batch=batch, context=ctx),
            Observation(src, f"output tok/s @{conc}", Kind.THROUGHPUT, Role.CHECK, tps, tps,
                        batch=batch, context=ctx, workers=3),
            Observation(src, f"TTFT p50 @{conc}", Kind.IDLE_TTFT, Role.CHECK, ttft, ttft,
                        new_tokens=875, prompt_tokens=mean_input,
                        note="agg queueing not modelled"),
        ]  # fmt: skip
    rows.append(
        Observation(src, "5th-turn prefill ~7k tokens", Kind.PREFILL, Role.FITTED, 400, 500,
                    new_tokens=7000)
    )  # fmt: skip
    rows.append(
        Observation("calibration.md summarization note", "idle TTFT, 15k tokens", Kind.IDLE_TTFT,
                    Role.CHECK, 1000, 2000, new_tokens=15000, prompt_tokens=15000,
                    note="'order of 1–2 s'")
    )  # fmt: skip
    return rows


_VLLM_MULTITURN = ((0.5, 83, 25.1), (1.0, 106, 37.1), (2.0, 130, 44.8), (2.5, 165, 54.9),
                   (3.0, 180, 62.0))  # fmt: skip


def _vllm_multiturn() -> list[Observation]:
    src = "vLLM bench multi-turn, 1xH200"
    ctx = 5806 + 517 / 2
    kv_cap_batch = MEASURED_70B_KV_TOKENS_PER_H200 / ctx
    rows = []
    for rps, ttft_ms, tpot_ms in _VLLM_MULTITURN:
        little = rps * (ttft_ms + 517 * tpot_ms) / 1e3
        rows.append(Observation(src, f"TPOT p50 @{rps} RPS", Kind.ITL, Role.CHECK, tpot_ms,
                                tpot_ms, batch=min(little, kv_cap_batch), context=ctx,
                                note="agg: prefill interference"))  # fmt: skip
    return rows


def h200_70b_observations() -> tuple[Observation, ...]:
    """Every figure of calibration.md the 70B/H200 profile is fitted to or checked against."""
    return (*_sharegpt(), *_trtllm(), *_vllm_multiturn())


# Start of the search and its bounds: (mfu, mem_eff, prefill_ms, step_ms, per_seq_ms).
_X0 = np.array([0.6, 0.8, 5.0, 3.0, 0.1])
_LOWER = np.array([0.05, 0.05, 0.0, 0.0, 0.0])
_UPPER = np.array([1.0, 1.0, 100.0, 50.0, 5.0])


def fit_params(
    model: ModelSpec, gpu: GpuSpec, observations: Sequence[Observation], transfer_gbps: float
) -> RooflineParams:
    """Least-squares fit of the five parameters to the 'fitted' observations.

    Residuals are log(predicted / measured) so every figure weighs by its relative error, and
    the efficiencies stay within (0, 1] (a physical bound: nothing beats the datasheet peak).
    """
    targets = [o for o in observations if o.role is Role.FITTED]

    def residuals(x: FloatArray) -> FloatArray:
        roofline = Roofline(model, gpu, RooflineParams.from_vector(x))
        predicted = np.array([predict(o, roofline, transfer_gbps) for o in targets])
        ratios: FloatArray = np.log(predicted / np.array([o.measured for o in targets]))
        return ratios

    result = least_squares(residuals, _X0, bounds=(_LOWER, _UPPER), method="trf", xtol=1e-12)
    if not result.success:
        raise ProfileFitError(f"roofline fit did not converge: {result.message}")
    return RooflineParams.from_vector(result.x)
