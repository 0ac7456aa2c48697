"""The roofline performance model: forward-pass times from FLOPs, bytes and five fitted numbers.

One forward pass is bound either by compute or by HBM traffic, whichever takes longer, plus a
fixed cost the roofline does not see (kernel launches, scheduling, sampling):

  prefill_ms(n)   = prefill_overhead_ms
                    + max(FLOPs(n) / (peak * mfu),  bytes(n) / (HBM_BW * mem_eff))
      FLOPs(n)    = 2 * linear_params * n + lm_head_flops + attention_pair_flops * n^2 / 2
      bytes(n)    = weights read once + n * kv_bytes_per_token (KV written)

  decode_ms(B, S) = step_overhead_ms + per_seq_ms * B
                    + max(FLOPs(B, S) / (peak * mfu),  bytes(S) / (HBM_BW * mem_eff))
      B           = sequences in the batch, S = sum of their context lengths (tokens)
      FLOPs(B, S) = B * (2 * linear_params + lm_head_flops) + attention_pair_flops * S
      bytes(S)    = weights read once + S * kv_bytes_per_token (the whole KV cache is read)

mfu and mem_eff are efficiencies against the datasheet peaks (bounded to (0, 1]); the three
overheads are in milliseconds. Their values are fitted to calibration.md (see calibration.py).
The causal attention term makes prefill quadratic in n; decode is linear in S and B.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field

from localcluster.perfmodel.hardware import GpuSpec, ModelSpec

FloatArray = npt.NDArray[np.float64]


class RooflineParams(BaseModel):
    """The five fitted numbers of the model."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mfu: float = Field(gt=0, le=1, description="achieved fraction of dense peak FLOP/s")
    mem_eff: float = Field(gt=0, le=1, description="achieved fraction of HBM bandwidth")
    prefill_overhead_ms: float = Field(ge=0, description="fixed cost of one prefill pass")
    step_overhead_ms: float = Field(ge=0, description="fixed cost of one decode step")
    per_seq_ms: float = Field(ge=0, description="decode-step cost per sequence in the batch")

    def as_vector(self) -> FloatArray:
        return np.array(
            [
                self.mfu,
                self.mem_eff,
                self.prefill_overhead_ms,
                self.step_overhead_ms,
                self.per_seq_ms,
            ],
            dtype=np.float64,
        )

    @classmethod
    def from_vector(cls, values: FloatArray) -> RooflineParams:
        mfu, mem_eff, prefill_ms, step_ms, per_seq = (float(v) for v in values)
        return cls(
            mfu=mfu,
            mem_eff=mem_eff,
            prefill_overhead_ms=prefill_ms,
            step_overhead_ms=step_ms,
            per_seq_ms=per_seq,
        )


@dataclass(frozen=True)
class Roofline:
    """Forward-pass times (milliseconds) of one model on one GPU with given efficiencies."""

    model: ModelSpec
    gpu: GpuSpec
    params: RooflineParams

    def _compute_ms(self, flops: FloatArray) -> FloatArray:
        return 1e3 * flops / (self.gpu.peak_flops * self.params.mfu)

    def _memory_ms(self, nbytes: FloatArray) -> FloatArray:
        return 1e3 * nbytes / (self.gpu.hbm_bytes_per_s * self.params.mem_eff)

    def prefill_ms(self, new_tokens: npt.ArrayLike) -> FloatArray:
        """One prefill pass over `new_tokens` uncached tokens of one sequence (no prefix)."""
        n = np.asarray(new_tokens, dtype=np.float64)
        m = self.model
        flops = m.token_flops() * n + m.lm_head_flops() + m.attention_flops_per_pair() * n**2 / 2
        nbytes = m.step_weight_bytes + n * m.kv_bytes_per_token
        busy = np.maximum(self._compute_ms(flops), self._memory_ms(nbytes))
        return np.where(n > 0, self.params.prefill_overhead_ms + busy, 0.0)

    def decode_ms(self, batch: npt.ArrayLike, context_sum: npt.ArrayLike) -> FloatArray:
        """One decode step of `batch` sequences whose contexts add up to `context_sum` tokens."""
        b = np.asarray(batch, dtype=np.float64)
        s = np.asarray(context_sum, dtype=np.float64)
        m = self.model
        flops = b * (m.token_flops() + m.lm_head_flops()) + m.attention_flops_per_pair() * s
        nbytes = m.step_weight_bytes + s * m.kv_bytes_per_token
        busy = np.maximum(self._compute_ms(flops), self._memory_ms(nbytes))
        return self.params.step_overhead_ms + self.params.per_seq_ms * b + busy
