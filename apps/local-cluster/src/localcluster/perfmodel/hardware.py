"""Architecture, GPU datasheet and measured throughput figures the physics model is built from.

Everything here is a published or measured fact (docs/calibration.md), or derived from one by
the rule it gives; nothing is fitted. Byte and FLOP counts come from the architecture, so the 70B
and 8B profiles share one model.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

GIB = 1024**3


class ModelSpec(BaseModel):
    """A dense Llama-style decoder: shapes plus the storage precision of weights and KV cache."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    layers: int = Field(gt=0)
    hidden: int = Field(gt=0)
    heads: int = Field(gt=0)
    kv_heads: int = Field(gt=0)
    head_dim: int = Field(gt=0)
    intermediate: int = Field(gt=0)
    vocab: int = Field(gt=0)
    linear_weight_bytes: float = Field(gt=0, description="bytes per parameter of the matmuls")
    embedding_weight_bytes: float = Field(gt=0, description="bytes per embedding/lm_head param")
    kv_bytes_per_element: float = Field(gt=0)

    @property
    def linear_params_per_layer(self) -> int:
        q_out = self.heads * self.head_dim
        kv_out = self.kv_heads * self.head_dim
        attention = self.hidden * q_out + 2 * self.hidden * kv_out + q_out * self.hidden
        mlp = 3 * self.hidden * self.intermediate  # gate, up, down
        return attention + mlp

    @property
    def linear_params(self) -> int:
        """Matmul parameters of all decoder layers (what every token multiplies through)."""
        return self.layers * self.linear_params_per_layer

    @property
    def embedding_params(self) -> int:
        """One vocab x hidden table; Llama-3.1 has two (input embedding, untied lm_head)."""
        return self.vocab * self.hidden

    @property
    def total_params(self) -> int:
        return self.linear_params + 2 * self.embedding_params

    @property
    def weight_bytes(self) -> float:
        return (
            self.linear_params * self.linear_weight_bytes
            + 2 * self.embedding_params * self.embedding_weight_bytes
        )

    @property
    def step_weight_bytes(self) -> float:
        """Weights read by one forward pass: all but the embedding table (only B rows of it)."""
        return (
            self.linear_params * self.linear_weight_bytes
            + self.embedding_params * self.embedding_weight_bytes
        )

    @property
    def kv_bytes_per_token(self) -> int:
        return round(2 * self.layers * self.kv_heads * self.head_dim * self.kv_bytes_per_element)

    def token_flops(self) -> float:
        """Matmul FLOPs per token through the decoder layers (2 per multiply-add)."""
        return 2.0 * self.linear_params

    def lm_head_flops(self) -> float:
        """FLOPs of the output projection, paid once per sequence per forward pass."""
        return 2.0 * self.embedding_params

    def attention_flops_per_pair(self) -> float:
        """FLOPs of QK^T plus AV for one (query, key) pair summed over layers."""
        return 4.0 * self.layers * self.heads * self.head_dim


class GpuSpec(BaseModel):
    """One GPU: datasheet figures plus the throughputs the physics model runs at.

    `gemm_flops_per_s`, `read_bytes_per_s` and `attention_flops_per_s` are what the GPU achieved
    on the model's own shapes (calibration.md, "Sanity"); `measured` says whether they were
    timed on this GPU or derived from another one.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    hbm_bytes: float = Field(gt=0)
    hbm_bytes_per_s: float = Field(gt=0, description="datasheet HBM bandwidth")
    peak_flops: float = Field(gt=0, description="dense FP8 datasheet peak")
    gemm_flops_per_s: float = Field(gt=0, description="FP8 GEMMs on the model's shapes")
    read_bytes_per_s: float = Field(gt=0, description="streaming read (weights, KV)")
    attention_flops_per_s: float = Field(gt=0, description="bf16 cuDNN flash attention")
    measured: bool


# calibration.md: Llama-3.1-70B-Instruct, FP8 weights (TRT-LLM/vLLM FP8 checkpoints keep the
# embedding and lm_head in BF16), FP8 KV cache: 163,840 B/token.
LLAMA_31_70B_FP8 = ModelSpec(
    name="Llama-3.1-70B-Instruct (FP8 weights, FP8 KV)",
    layers=80,
    hidden=8192,
    heads=64,
    kv_heads=8,
    head_dim=128,
    intermediate=28672,
    vocab=128256,
    linear_weight_bytes=1.0,
    embedding_weight_bytes=2.0,
    kv_bytes_per_element=1.0,
)

# calibration.md: Llama-3.1-8B, 32 layers, hidden 4096, 32 heads, 8 KV heads, intermediate
# 14336. The dev cluster serves the FP8 checkpoint with an FP8 KV cache (k8s/dynamo/overlays/dev),
# the precision the 8B shapes were timed in on the H200: 65,536 KV bytes/token.
LLAMA_31_8B_FP8 = ModelSpec(
    name="Llama-3.1-8B-Instruct (FP8 weights, FP8 KV)",
    layers=32,
    hidden=4096,
    heads=32,
    kv_heads=8,
    head_dim=128,
    intermediate=14336,
    vocab=128256,
    linear_weight_bytes=1.0,
    embedding_weight_bytes=2.0,
    kv_bytes_per_element=1.0,
)

# calibration.md: H200 SXM 141 GB HBM3e at 4.8 TB/s, dense FP8 ~1979 TFLOP/s. Measured on it:
# the model's own FP8 GEMM shapes ~1,300 TFLOP/s, read-only 4.0 TB/s, cuDNN bf16 attention
# 580-630 TFLOP/s (600 taken).
H200_SXM = GpuSpec(
    name="H200 SXM",
    hbm_bytes=141e9,
    hbm_bytes_per_s=4.8e12,
    peak_flops=1979e12,
    gemm_flops_per_s=1300e12,
    read_bytes_per_s=4.0e12,
    attention_flops_per_s=600e12,
    measured=True,
)

# calibration.md: H100 SXM 80 GB HBM3 at 3.35 TB/s, same FP8 peak. Nothing was timed on it; the
# rule calibration.md gives: bandwidth-bound terms scale by 3.35/4.8, compute-bound terms stay.
H100_SXM = GpuSpec(
    name="H100 SXM",
    hbm_bytes=80e9,
    hbm_bytes_per_s=3.35e12,
    peak_flops=1979e12,
    gemm_flops_per_s=H200_SXM.gemm_flops_per_s,
    read_bytes_per_s=H200_SXM.read_bytes_per_s * 3.35 / 4.8,
    attention_flops_per_s=H200_SXM.attention_flops_per_s,
    measured=False,
)

# calibration.md, measured with vLLM 0.14.1 at gpu-memory-utilization 0.90 on one H200.
MEASURED_70B_WEIGHTS_BYTES = 67.7 * GIB
MEASURED_70B_KV_TOKENS_PER_H200 = 348_304
MEASURED_70B_WORKER_START_S = (205.0, 211.0)
