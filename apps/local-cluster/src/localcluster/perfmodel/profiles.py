"""Named hardware profiles for the local mocker workers: timing tables plus engine limits.

`hardware_profile("h200-70b-fp8")` is fitted to calibration.md's H200 figures; `h100-8b` reuses
those fitted efficiencies and overheads with the 8B architecture and H100 datasheet numbers
(nothing measured on H100 is available): it is an extrapolation, and says so in `.fitted`.
"""

from __future__ import annotations

import functools
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from localcluster.perfmodel import grid
from localcluster.perfmodel.calibration import fit_params, h200_70b_observations, kv_transfer_ms
from localcluster.perfmodel.errors import PerfModelError, UnknownProfileError
from localcluster.perfmodel.hardware import (
    GIB,
    H100_SXM_BF16,
    H200_SXM,
    LLAMA_31_8B_BF16,
    LLAMA_31_70B_FP8,
    MEASURED_70B_KV_TOKENS_PER_H200,
    MEASURED_70B_WEIGHTS_BYTES,
    MEASURED_70B_WORKER_START_S,
    GpuSpec,
    ModelSpec,
)
from localcluster.perfmodel.roofline import FloatArray, Roofline, RooflineParams

PROD_PROFILE = "h200-70b-fp8"
DEV_PROFILE = "h100-8b"
PROFILE_NAMES = (PROD_PROFILE, DEV_PROFILE)
BLOCK_SIZE = 32  # docs/contracts.md: KV block size 32 everywhere
MAX_PROMPT_TOKENS = 131_072  # Llama-3.1 max positions
GPU_MEMORY_UTILIZATION = 0.90  # the setting calibration.md's KV capacity was measured with
# Assumed, not measured: the part of a worker's start that does not scale with weight bytes
# (container start, CUDA init, engine warm-up). The rest is weights / load rate.
WORKER_FIXED_START_S = 60.0


class HardwareProfile(BaseModel):
    """Everything the local stack needs to time one kind of mocker worker like a real GPU."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    model_name: str
    description: str
    fitted: bool = Field(description="False when extrapolated from another profile's fit")
    model: ModelSpec
    gpu: GpuSpec
    params: RooflineParams
    block_size: int = Field(gt=0)
    num_gpu_blocks: int = Field(gt=0)
    max_num_seqs: int = Field(gt=0)
    max_num_batched_tokens: int = Field(gt=0)
    kv_transfer_bandwidth_gbps: float = Field(gt=0, description="decimal GB/s, mocker's unit")
    kv_bytes_per_token: int = Field(gt=0)
    worker_start_s: float = Field(gt=0, description="worker start to ready at speed 1")

    @property
    def roofline(self) -> Roofline:
        return Roofline(self.model, self.gpu, self.params)

    @property
    def kv_capacity_tokens(self) -> int:
        return self.num_gpu_blocks * self.block_size

    def idle_ttft_ms(self, prompt_tokens: int, cached_tokens: int = 0) -> float:
        """TTFT of one request on an idle disaggregated pair, as the mocker composes it:
        prefill pass(es) of the uncached tokens + KV transfer + the decode worker's first step."""
        new = prompt_tokens - cached_tokens
        chunks = [self.max_num_batched_tokens] * (new // self.max_num_batched_tokens)
        chunks += [new % self.max_num_batched_tokens] if new % self.max_num_batched_tokens else []
        prefill = sum(float(self.roofline.prefill_ms(c)) for c in chunks)
        transfer = kv_transfer_ms(
            prompt_tokens, self.kv_bytes_per_token, self.kv_transfer_bandwidth_gbps
        )
        return prefill + transfer + float(self.roofline.decode_ms(1, prompt_tokens))

    def itl_ms(self, batch: int, mean_context: float) -> float:
        """One decode step of `batch` sequences of `mean_context` tokens on average."""
        return float(self.roofline.decode_ms(batch, batch * mean_context))

    def mocker_args(self, npz_path: Path, speedup_ratio: float = 1.0) -> list[str]:
        """The profile's `python -m dynamo.mocker` flags (not discovery, ports, mode or speed).

        Pass the `--speedup-ratio` the worker runs at: ai-dynamo 1.6.1 divides prefill and
        decode times by it but not the KV transfer delay, so the link is sped up here instead.
        """
        if speedup_ratio < 0:
            raise PerfModelError(f"speedup_ratio must be >= 0, got {speedup_ratio}")
        # Speedup 0 means no simulated delay at all; bandwidth 0 turns the transfer delay off.
        bandwidth_gbps = self.kv_transfer_bandwidth_gbps * speedup_ratio
        return [
            "--planner-profile-data", str(npz_path),
            "--block-size", str(self.block_size),
            "--num-gpu-blocks-override", str(self.num_gpu_blocks),
            "--max-num-seqs", str(self.max_num_seqs),
            "--max-num-batched-tokens", str(self.max_num_batched_tokens),
            "--kv-transfer-bandwidth", f"{bandwidth_gbps:g}",
            "--kv-bytes-per-token", str(self.kv_bytes_per_token),
        ]  # fmt: skip

    def npz_arrays(self) -> dict[str, FloatArray]:
        return grid.tables(
            self.roofline,
            max_prompt=MAX_PROMPT_TOKENS,
            max_active=self.kv_capacity_tokens,
            max_batch=self.max_num_seqs,
        )

    def write_npz(self, path: Path) -> Path:
        """Write the mocker profile; same profile, same bytes."""
        return grid.write(Path(path), self.npz_arrays())


def _kv_blocks(gpu: GpuSpec, model: ModelSpec) -> int:
    """KV capacity in blocks at 90 % memory utilisation. The non-weight, non-KV reserve
    (activations, CUDA graphs) is taken from the H200 measurement; memory sizes in GiB, the
    unit of vLLM's report (with decimal GB the measured weights + KV would not fit in 90 %)."""
    measured_kv = MEASURED_70B_KV_TOKENS_PER_H200 * LLAMA_31_70B_FP8.kv_bytes_per_token
    reserve = GPU_MEMORY_UTILIZATION * H200_SXM.hbm_bytes / 1e9 * GIB
    reserve -= MEASURED_70B_WEIGHTS_BYTES + measured_kv
    usable = GPU_MEMORY_UTILIZATION * gpu.hbm_bytes / 1e9 * GIB - model.weight_bytes - reserve
    return int(usable // model.kv_bytes_per_token) // BLOCK_SIZE


def _start_s(model: ModelSpec) -> float:
    """Worker start: fixed part + weights at the load rate implied by the 70B measurement."""
    measured = sum(MEASURED_70B_WORKER_START_S) / 2
    rate = MEASURED_70B_WEIGHTS_BYTES / (measured - WORKER_FIXED_START_S)
    return round(WORKER_FIXED_START_S + model.weight_bytes / rate, 1)


# NVLink 4 (H100/H200 SXM): 900 GB/s per GPU both directions, 450 GB/s one way, between the
# prod node's GPUs. The real dev cluster's workers sit on separate single-GPU droplets, where
# KV would cross the VPC (likely TCP, a few GB/s at best, unmeasured): the dev profile keeps
# the NVLink figure so local dev runs show prefix-cache effects, not an unverified guess.
NVLINK_GBPS = 450.0


@functools.cache
def _h200_params() -> RooflineParams:
    return fit_params(LLAMA_31_70B_FP8, H200_SXM, h200_70b_observations(), NVLINK_GBPS)


def _h200_70b() -> HardwareProfile:
    return HardwareProfile(
        name=PROD_PROFILE,
        model_name="meta-llama/Llama-3.1-70B-Instruct",
        description="Llama-3.1-70B FP8 (FP8 KV), TP=1, one H200 per worker; fitted to "
        "calibration.md (vLLM ShareGPT, TRT-LLM ITL vs concurrency, 7k prefill)",
        fitted=True,
        model=LLAMA_31_70B_FP8,
        gpu=H200_SXM,
        params=_h200_params(),
        block_size=BLOCK_SIZE,
        num_gpu_blocks=MEASURED_70B_KV_TOKENS_PER_H200 // BLOCK_SIZE,
        max_num_seqs=64,  # calibration.md: TRT-LLM max batch 64
        # One pass holds a 16k summarization prompt whole, so its quadratic attention cost is
        # in the table lookup (the mocker looks chunks up one by one, missing cross-chunk terms).
        max_num_batched_tokens=16384,
        kv_transfer_bandwidth_gbps=NVLINK_GBPS,
        kv_bytes_per_token=LLAMA_31_70B_FP8.kv_bytes_per_token,
        worker_start_s=sum(MEASURED_70B_WORKER_START_S) / 2,
    )


def _h100_8b() -> HardwareProfile:
    return HardwareProfile(
        name=DEV_PROFILE,
        model_name="meta-llama/Llama-3.1-8B-Instruct",
        description="Llama-3.1-8B BF16 (BF16 KV), one H100 per worker; NOT fitted: the H200 "
        "fit's efficiencies and overheads applied to the 8B architecture and H100 datasheet",
        fitted=False,
        model=LLAMA_31_8B_BF16,
        gpu=H100_SXM_BF16,
        params=_h200_params(),
        block_size=BLOCK_SIZE,
        num_gpu_blocks=_kv_blocks(H100_SXM_BF16, LLAMA_31_8B_BF16),
        max_num_seqs=64,  # assumed: the same engine limits as prod
        max_num_batched_tokens=16384,
        kv_transfer_bandwidth_gbps=NVLINK_GBPS,
        kv_bytes_per_token=LLAMA_31_8B_BF16.kv_bytes_per_token,
        worker_start_s=_start_s(LLAMA_31_8B_BF16),
    )


_BUILDERS = {PROD_PROFILE: _h200_70b, DEV_PROFILE: _h100_8b}


def hardware_profile(name: str) -> HardwareProfile:
    """The named profile (`h200-70b-fp8` prod, `h100-8b` dev); fitted on first use (~50 ms)."""
    builder = _BUILDERS.get(name)
    if builder is None:
        raise UnknownProfileError(name, PROFILE_NAMES)
    return builder()
