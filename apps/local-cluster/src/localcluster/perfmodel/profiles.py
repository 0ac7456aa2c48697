"""Named hardware profiles for the local mocker workers: timing source plus engine limits.

Timing: AISimulate (ais.py), NVIDIA's TRT-LLM kernel measurements on the profile's GPU,
is what the workers and the sizing replay run on. The physics model below stays as the
cross-check (the fidelity table) and as the NPZ timing a stack can still be run on (`npz`),
to compare against.

`h200-70b-fp8` (prod): the physics model on the measured H200 throughputs, its unfused costs
from the 70B tables and its fusion fitted to the engine figures (fit.py). `h100-8b` (dev): the
same physics and fusion with the 8B shapes (whose band was measured on the H200 and holds) on the
H100's datasheet bandwidth: derived, nothing timed on an H100. `measured` / `derived` say which
number is which.

Engine limits: under AIS, the cluster's own (k8s/dynamo engine configs: batch, max_num_tokens
chunking; tests/crosscheck keeps them equal), since AIS prices a chunk with its prefix attention.
Under the NPZ, how the profile keeps a prompt's whole attention cost: the mocker looks
a prefill pass up by its token count alone (grid.py), so a prefill worker runs one prompt per pass
(--max-num-seqs 1) and never chunks it (--max-num-batched-tokens = the engine's max_seq_len).
Prefill from ~512 tokens is compute-bound (calibration.md: 4 x 2048 batched took 3.9x one 2048
pass), so serial passes cost what a batched pass would; the table then prices each pass as the
one whole sequence it is. The cached-prefix attention (13-47 % at 4-16k cached) is the one term
the NPZ cannot carry: the fidelity table shows it, `prefill_ms(new, cached)` models it.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from localcluster.perfmodel import grid
from localcluster.perfmodel.ais import AisTiming
from localcluster.perfmodel.errors import PerfModelError, UnknownProfileError
from localcluster.perfmodel.fit import (
    NVLINK_GBPS,
    h200_70b_unfused,
    h200_engine,
    idle_ttft_ms,
    physics_for,
)
from localcluster.perfmodel.hardware import (
    GIB,
    H100_SXM,
    H200_SXM,
    LLAMA_31_8B_FP8,
    LLAMA_31_70B_FP8,
    MEASURED_70B_KV_TOKENS_PER_H200,
    MEASURED_70B_WEIGHTS_BYTES,
    MEASURED_70B_WORKER_START_S,
    GpuSpec,
    ModelSpec,
)
from localcluster.perfmodel.physics import EngineModel, EngineParams, FloatArray, UnfusedCosts

PROD_PROFILE = "h200-70b-fp8"
DEV_PROFILE = "h100-8b"
PROFILE_NAMES = (PROD_PROFILE, DEV_PROFILE)
BLOCK_SIZE = 32  # docs/contracts.md: KV block size 32 everywhere
MAX_SEQ_LEN = 32_768  # k8s/dynamo/base/engine-configs.yaml: TRT-LLM max_seq_len, both pools
MAX_NUM_TOKENS = 8192  # engine-configs.yaml max_num_tokens: every pool, aggregated too
PREFILL_MAX_BATCH = 16  # engine-configs.yaml prefill max_batch_size
# The decode batch limit is sized by KV memory: TRT-LLM's default capacity policy
# (GUARANTEED_NO_EVICT) admits a sequence only with KV for its prompt + max_tokens, and the
# demo's shortest streams are reasoning's (~150-token prompt, 500-2000 tokens asked for: 1,384
# reserved on average, demo-script.yaml). The limit is the CUDA-graph bucket (multiple of 64) at
# or just above the count the KV holds, so KV memory, not the batch limit, stops admission:
# prod 348,288 / 1,384 = 252 -> 256, dev 941,888 / 1,384 = 681 -> 704. Longer streams (chat's
# 4-6k contexts, a summary's 10-20k) fill the KV with fewer sequences.
DECODE_STREAM_RESERVED_TOKENS = 1_384
CUDA_GRAPH_BUCKET = 64
GPU_MEMORY_UTILIZATION = 0.90  # the setting calibration.md's KV capacity was measured with
# Assumed, not measured: the part of a worker's start that does not scale with weight bytes
# (container start, CUDA init, engine warm-up). The rest is weights / load rate.
WORKER_FIXED_START_S = 60.0

Role = Literal["prefill", "decode", "aggregated"]
Timing = Literal["ais", "npz"]  # AISimulate (the default) or the physics model's NPZ


class HardwareProfile(BaseModel):
    """Everything the local stack needs to time one kind of mocker worker like a real GPU."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    model_name: str
    description: str
    measured: tuple[str, ...] = Field(description="figures timed on this hardware and model")
    derived: tuple[str, ...] = Field(description="figures derived, with the rule used")
    model: ModelSpec
    gpu: GpuSpec
    unfused: UnfusedCosts
    engine_params: EngineParams
    block_size: int = Field(gt=0)
    num_gpu_blocks: int = Field(gt=0)
    decode_max_batch: int = Field(gt=0, description="TRT-LLM max_batch_size of the decode pool")
    ais: AisTiming = Field(description="the AISimulate data that times this worker")
    max_seq_len: int = Field(gt=0)
    kv_transfer_bandwidth_gbps: float = Field(gt=0, description="decimal GB/s, mocker's unit")
    worker_start_s: float = Field(gt=0, description="worker start to ready at speed 1")

    @property
    def engine(self) -> EngineModel:
        return EngineModel(physics_for(self.model, self.gpu, self.unfused), self.engine_params)

    @property
    def kv_bytes_per_token(self) -> int:
        return self.model.kv_bytes_per_token

    @property
    def kv_capacity_tokens(self) -> int:
        return self.num_gpu_blocks * self.block_size

    def prefill_ms(self, new_tokens: float, cached_tokens: float = 0.0) -> float:
        """The physics' prefill pass, with the attention over cached keys the NPZ cannot hold."""
        return float(self.engine.prefill_ms(new_tokens, cached_tokens))

    def idle_ttft_ms(self, prompt_tokens: int, cached_tokens: int = 0) -> float:
        """TTFT of one request on an idle disaggregated pair, as the mocker composes it:
        the prefill pass of the uncached tokens + KV transfer + the decode worker's first step."""
        if prompt_tokens > self.max_seq_len:
            raise PerfModelError(f"{prompt_tokens} tokens exceed max_seq_len {self.max_seq_len}")
        return idle_ttft_ms(
            self.engine, prompt_tokens, cached_tokens, self.kv_transfer_bandwidth_gbps
        )

    def itl_ms(self, batch: float, mean_context: float) -> float:
        """One decode step of `batch` sequences of `mean_context` tokens on average."""
        return float(self.engine.decode_ms(batch, batch * mean_context))

    def limits(self, role: Role, timing: Timing = "ais") -> tuple[int, int]:
        """(max sequences per pass, max tokens per pass) of a worker in `role`."""
        if role == "prefill":
            if timing == "npz":
                return 1, self.max_seq_len  # one whole prompt per pass (module docstring)
            return PREFILL_MAX_BATCH, MAX_NUM_TOKENS
        if role == "decode" and timing == "npz":
            return self.decode_max_batch, self.max_seq_len
        return self.decode_max_batch, MAX_NUM_TOKENS

    def mocker_args(
        self,
        npz_path: Path,
        speedup_ratio: float = 1.0,
        role: Role = "decode",
        timing: Timing = "ais",
    ) -> list[str]:
        """The profile's `python -m dynamo.mocker` flags (not discovery, ports, mode or speed).

        Pass the `--speedup-ratio` the worker runs at: ai-dynamo 1.6.1 divides prefill and
        decode times by it but not the KV transfer delay, so the link is sped up here instead.
        AIS timing reads the model from the worker's `--model-path` (modeldir.py writes it).
        """
        if speedup_ratio < 0:
            raise PerfModelError(f"speedup_ratio must be >= 0, got {speedup_ratio}")
        # Speedup 0 means no simulated delay at all; bandwidth 0 turns the transfer delay off.
        bandwidth_gbps = self.kv_transfer_bandwidth_gbps * speedup_ratio
        seqs, tokens = self.limits(role, timing)
        source = (
            self.ais.mocker_args() if timing == "ais" else ["--planner-profile-data", str(npz_path)]
        )
        return [
            *source,
            "--block-size", str(self.block_size),
            "--num-gpu-blocks-override", str(self.num_gpu_blocks),
            "--max-num-seqs", str(seqs),
            "--max-num-batched-tokens", str(tokens),
            "--kv-transfer-bandwidth", f"{bandwidth_gbps:g}",
            "--kv-bytes-per-token", str(self.kv_bytes_per_token),
        ]  # fmt: skip

    def replay_engine_args(
        self, model_dir: Path, role: Role, npz_path: Path | None = None
    ) -> dict[str, object]:
        """The same worker as `mocker_args`, as dynamo.replay's engine-args mapping: AIS timing
        read from `model_dir`, or the NPZ at `npz_path` when one is given."""
        timing: Timing = "ais" if npz_path is None else "npz"
        seqs, tokens = self.limits(role, timing)
        source = (
            self.ais.timing_model(model_dir, role)
            if npz_path is None
            else {
                "type": "external",
                "provider": "dynamo_profile",
                "config": {"path": str(npz_path)},
            }
        )
        return {
            "engine": {
                "block_size": self.block_size,
                "num_gpu_blocks": self.num_gpu_blocks,
                "max_num_seqs": seqs,
                "max_num_batched_tokens": tokens,
                "worker_type": role,
                "kv_transfer_bandwidth": self.kv_transfer_bandwidth_gbps,
                "kv_transfer_bytes_per_token": self.kv_bytes_per_token,
                "timing_model": source,
                **({"backend": self.ais.backend} if timing == "ais" else {}),
            }
        }

    def npz_arrays(self) -> dict[str, FloatArray]:
        return grid.tables(
            self.engine,
            max_prompt=self.max_seq_len,
            max_active=self.kv_capacity_tokens,
            max_batch=self.decode_max_batch,
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


def kv_bound_batch(kv_tokens: int) -> int:
    """The decode max_batch_size the KV capacity supports at the demo's shortest streams,
    rounded up to a CUDA-graph bucket (the DECODE_STREAM_RESERVED_TOKENS comment)."""
    streams = kv_tokens / DECODE_STREAM_RESERVED_TOKENS
    return -(-int(streams) // CUDA_GRAPH_BUCKET) * CUDA_GRAPH_BUCKET


def _start_s(model: ModelSpec) -> float:
    """Worker start: fixed part + weights at the load rate implied by the 70B measurement."""
    measured = sum(MEASURED_70B_WORKER_START_S) / 2
    rate = MEASURED_70B_WEIGHTS_BYTES / (measured - WORKER_FIXED_START_S)
    return round(WORKER_FIXED_START_S + model.weight_bytes / rate, 1)


def _h200_70b() -> HardwareProfile:
    return HardwareProfile(
        name=PROD_PROFILE,
        model_name="meta-llama/Llama-3.1-70B-Instruct",
        description="Llama-3.1-70B FP8 (FP8 KV), TP=1, one H200 per worker: physics model on "
        "measured H200 throughputs, fusion fitted to the engine figures inside the band",
        measured=(
            "H200 FP8 GEMM 1,300 TFLOP/s, read 4.0 TB/s, cuDNN attention 600 TFLOP/s",
            "unfused costs: 70B torch - floor",
            "band: 70B prefill sweep and decode grid (floor..torch)",
            "fusion: vLLM ShareGPT and TRT-LLM figures",
            "KV capacity 348,304 tokens; worker start 205-211 s",
        ),
        derived=("KV link: NVLink 4 datasheet, 450 GB/s one way",),
        model=LLAMA_31_70B_FP8,
        gpu=H200_SXM,
        unfused=h200_70b_unfused(),
        engine_params=h200_engine(),
        block_size=BLOCK_SIZE,
        num_gpu_blocks=MEASURED_70B_KV_TOKENS_PER_H200 // BLOCK_SIZE,
        decode_max_batch=kv_bound_batch(MEASURED_70B_KV_TOKENS_PER_H200),  # 256
        ais=AisTiming(system="h200_sxm"),
        max_seq_len=MAX_SEQ_LEN,
        kv_transfer_bandwidth_gbps=NVLINK_GBPS,
        worker_start_s=sum(MEASURED_70B_WORKER_START_S) / 2,
    )


def _h100_8b() -> HardwareProfile:
    return HardwareProfile(
        name=DEV_PROFILE,
        model_name="meta-llama/Llama-3.1-8B-Instruct",
        description="Llama-3.1-8B FP8 (FP8 KV), one H100 per worker: the prod physics with "
        "the 8B shapes, bandwidth terms scaled to the H100 (derived, not timed on an H100)",
        measured=(
            "8B shapes on the H200: band checked (prefill sweep, decode grid)",
            "fusion and unfused costs: from the 70B (same engine, same kernels per layer)",
        ),
        derived=(
            "H100 read bandwidth = H200's 4.0 TB/s x 3.35/4.8; GEMM and attention throughput "
            "kept (same FP8 peak), calibration.md's rule",
            "KV capacity: 80 GB x 0.9 - weights - the reserve measured on the H200",
            "worker start: 60 s fixed (assumed) + weights at the 70B's measured load rate",
            "KV link: NVLink figure kept (dev workers sit on separate droplets, unmeasured)",
        ),
        model=LLAMA_31_8B_FP8,
        gpu=H100_SXM,
        unfused=h200_70b_unfused(),
        engine_params=h200_engine(),
        block_size=BLOCK_SIZE,
        num_gpu_blocks=_kv_blocks(H100_SXM, LLAMA_31_8B_FP8),
        decode_max_batch=kv_bound_batch(_kv_blocks(H100_SXM, LLAMA_31_8B_FP8) * BLOCK_SIZE),  # 704
        ais=AisTiming(system="h100_sxm"),  # aisimulate has TRT-LLM kernels timed on the H100 too
        max_seq_len=MAX_SEQ_LEN,
        kv_transfer_bandwidth_gbps=NVLINK_GBPS,
        worker_start_s=_start_s(LLAMA_31_8B_FP8),
    )


_BUILDERS = {PROD_PROFILE: _h200_70b, DEV_PROFILE: _h100_8b}


@functools.cache
def hardware_profile(name: str) -> HardwareProfile:
    """The named profile (`h200-70b-fp8` prod, `h100-8b` dev); fitted on first use."""
    builder = _BUILDERS.get(name)
    if builder is None:
        raise UnknownProfileError(name, PROFILE_NAMES)
    return builder()
