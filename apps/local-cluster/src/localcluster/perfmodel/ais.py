"""AISimulate timing: NVIDIA's TRT-LLM kernel measurements, as ai-dynamo's mocker reads them.

`aisimulate` ships the AIConfigurator perf database (GEMM, attention, communication timed on real
GPUs per backend) and the Rust engine the 1.6.1 mocker calls for every step. The mocker takes it
with `--ais-perf-model`; `dynamo.replay` with a `timing_model` of provider `ais` in each worker's
engine args (what the mocker's own CLI builds; an `ais_perf_config` dict is refused). AIS reads
the model's architecture from `config.json` and its precision from `hf_quant_config.json` (without
it the 70B is timed as BF16: 2.25 s instead of 1.24 s for a 10k prompt).
"""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from localcluster.perfmodel.errors import PerfModelError

AisRole = Literal["prefill", "decode", "aggregated"]
# ModelOpt's FP8 recipe as NVIDIA's FP8 Llama-3.1 checkpoints carry it (FP8 weights and KV cache,
# lm_head kept in BF16); aisimulate ships it beside the 70B-FP8 config. The 8B-FP8 checkpoint
# uses the same recipe, so the dev model dir gets the same file.
QUANT_CONFIG_NAME = "nvidia--Llama-3.1-70B-Instruct-FP8_hf_quant_config.json"
ARCH_CONFIG_NAMES = {
    "70b": "nvidia--Llama-3.1-70B-Instruct-FP8_config.json",
    "8b": "meta-llama--Meta-Llama-3.1-8B_config.json",
}


class AisTiming(BaseModel):
    """Which AIS data times a worker: the GPU system and the serving backend."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    system: str  # aisimulate_core/systems/<system>.yaml
    backend: Literal["trtllm"] = "trtllm"

    def mocker_args(self) -> list[str]:
        """The mocker's AIS flags; the engine type follows the backend (TRT-LLM's scheduler)."""
        return [
            "--ais-perf-model", "--ais-system", self.system, "--ais-backend", self.backend,
            "--engine-type", self.backend,
        ]  # fmt: skip

    def timing_model(self, model_dir: Path, role: AisRole) -> dict[str, object]:
        """dynamo.replay's `timing_model` entry for a worker of `role`."""
        config = {"model": str(model_dir), "backend": self.backend, "system": self.system}
        return {"type": "external", "provider": "ais", "config": {**config, "worker_type": role}}


def model_configs_dir() -> Path:
    """aisimulate's model configs; a clear error when the package is not installed."""
    try:
        root = resources.files("aisimulate_core") / "model_configs"
    except ModuleNotFoundError as exc:
        raise PerfModelError("aisimulate is not installed (uv sync --frozen installs it)") from exc
    return Path(str(root))


def write_quant_config(model_dir: Path) -> Path:
    """Put the FP8 checkpoint's hf_quant_config.json into a model dir (AIS times FP8 from it)."""
    target = model_dir / "hf_quant_config.json"
    shutil.copyfile(model_configs_dir() / QUANT_CONFIG_NAME, target)
    return target
