"""The physics of one forward pass: GEMMs, attention, weight/KV bytes and unfused elementwise work.

Three levels, each a sum of physical terms (milliseconds; calibration.md names the columns):

  floor      = GEMMs + attention (prefill) or GEMMs + KV read (decode)
      GEMMs       = soft-max(FLOPs / gemm_flops_per_s, weight bytes / read_bytes_per_s)
                    (a roofline whose corner is rounded: at 128-512 tokens the two overlap
                    imperfectly; sharpness 2.5 matches the GEMM-only timings of both models)
      attention   = layers * launch + (QK^T + AV FLOPs) / attention_flops_per_s, causal over the
                    new tokens plus every cached key
      KV read     = summed context * KV bytes per token / read_bytes_per_s
  torch      = floor + unfused elementwise work (norms, RoPE, SwiGLU, quantisation as separate
                    kernels): per layer a fixed launch cost + bytes per (hidden + intermediate)
                    element per token at read_bytes_per_s
  engine     = floor + fusion * unfused
      fusion      in [0, 1]: how much of the unfused work a real engine still pays (0 = floor,
                    1 = torch; TensorRT-LLM fuses norm+quantise, SwiGLU and RoPE).

The unfused constants are taken from the 70B torch - floor difference (prefill and decode) and
applied per layer and per element, so the 8B shapes are a prediction, tested against the 8B band.
`fusion` comes from the engine figures (see fit.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field

from localcluster.perfmodel.hardware import GpuSpec, ModelSpec

FloatArray = npt.NDArray[np.float64]
ROOFLINE_SHARPNESS = 2.5


class UnfusedCosts(BaseModel):
    """What torch's unfused elementwise kernels add to a pass, per layer (see the docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    prefill_layer_ms: float = Field(ge=0, description="fixed cost per layer per prefill pass")
    prefill_bytes_per_element: float = Field(ge=0, description="per token x (hidden + inter)")
    decode_layer_ms: float = Field(ge=0, description="fixed cost per layer per decode step")
    decode_bytes_per_element: float = Field(ge=0, description="per sequence x (hidden + inter)")


class EngineParams(BaseModel):
    """Where a real engine sits between floor and torch: one number."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    fusion: float = Field(ge=0, le=1, description="share of the unfused work still paid")


@dataclass(frozen=True)
class Physics:
    """Pass times (ms) of one model on one GPU; every method takes numpy-broadcastable inputs."""

    model: ModelSpec
    gpu: GpuSpec
    unfused: UnfusedCosts
    attention_launch_ms: float  # per layer: the attention kernels' floor at short prompts

    def gemm_ms(self, tokens: npt.ArrayLike, lm_rows: npt.ArrayLike) -> FloatArray:
        """All matmuls of one pass over `tokens` tokens, lm_head on `lm_rows` of them."""
        n = np.asarray(tokens, dtype=np.float64)
        rows = np.asarray(lm_rows, dtype=np.float64)
        m = self.model
        flops = m.token_flops() * n + m.lm_head_flops() * rows
        compute = 1e3 * flops / self.gpu.gemm_flops_per_s
        memory = 1e3 * m.step_weight_bytes / self.gpu.read_bytes_per_s
        p = ROOFLINE_SHARPNESS
        result: FloatArray = (compute**p + memory**p) ** (1 / p)
        return result

    def attention_ms(self, new: npt.ArrayLike, cached: npt.ArrayLike = 0.0) -> FloatArray:
        """Prefill attention: `new` tokens attend causally to each other and to `cached` keys."""
        n = np.asarray(new, dtype=np.float64)
        c = np.asarray(cached, dtype=np.float64)
        pairs = n * c + n * n / 2
        flops = self.model.attention_flops_per_pair() * pairs
        launch = self.model.layers * self.attention_launch_ms
        return np.asarray(launch + 1e3 * flops / self.gpu.attention_flops_per_s)

    def kv_read_ms(self, context_sum: npt.ArrayLike) -> FloatArray:
        s = np.asarray(context_sum, dtype=np.float64)
        return np.asarray(1e3 * s * self.model.kv_bytes_per_token / self.gpu.read_bytes_per_s)

    def _width(self) -> float:
        return float(self.model.layers * (self.model.hidden + self.model.intermediate))

    def unfused_prefill_ms(self, tokens: npt.ArrayLike) -> FloatArray:
        n = np.asarray(tokens, dtype=np.float64)
        u = self.unfused
        traffic = n * self._width() * u.prefill_bytes_per_element / self.gpu.read_bytes_per_s
        return np.asarray(self.model.layers * u.prefill_layer_ms + 1e3 * traffic)

    def unfused_decode_ms(self, batch: npt.ArrayLike) -> FloatArray:
        b = np.asarray(batch, dtype=np.float64)
        u = self.unfused
        traffic = b * self._width() * u.decode_bytes_per_element / self.gpu.read_bytes_per_s
        return np.asarray(self.model.layers * u.decode_layer_ms + 1e3 * traffic)

    def prefill_floor_ms(self, new: npt.ArrayLike, cached: npt.ArrayLike = 0.0) -> FloatArray:
        return self.gemm_ms(new, 1.0) + self.attention_ms(new, cached)

    def prefill_torch_ms(self, new: npt.ArrayLike, cached: npt.ArrayLike = 0.0) -> FloatArray:
        return self.prefill_floor_ms(new, cached) + self.unfused_prefill_ms(new)

    def decode_floor_ms(self, batch: npt.ArrayLike, context_sum: npt.ArrayLike) -> FloatArray:
        return self.gemm_ms(batch, batch) + self.kv_read_ms(context_sum)

    def decode_torch_ms(self, batch: npt.ArrayLike, context_sum: npt.ArrayLike) -> FloatArray:
        return self.decode_floor_ms(batch, context_sum) + self.unfused_decode_ms(batch)


@dataclass(frozen=True)
class EngineModel:
    """A real engine on `physics`: the times the mocker profile tabulates."""

    physics: Physics
    params: EngineParams

    def prefill_ms(self, new: npt.ArrayLike, cached: npt.ArrayLike = 0.0) -> FloatArray:
        """One prefill pass of one sequence: `new` uncached tokens after `cached` cached ones."""
        n = np.asarray(new, dtype=np.float64)
        ph = self.physics
        busy = ph.prefill_floor_ms(n, cached) + self.params.fusion * ph.unfused_prefill_ms(n)
        return np.where(n > 0, busy, 0.0)

    def decode_ms(self, batch: npt.ArrayLike, context_sum: npt.ArrayLike) -> FloatArray:
        """One decode step of `batch` sequences whose contexts add up to `context_sum`."""
        b = np.asarray(batch, dtype=np.float64)
        ph = self.physics
        unfused = self.params.fusion * ph.unfused_decode_ms(b)
        return ph.decode_floor_ms(b, context_sum) + unfused
