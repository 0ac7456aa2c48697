"""Builds the model directory the Dynamo frontend and mocker workers load (tokenizer + config).

No weights: the mocker only needs the tokenizer, the chat template, the architecture and, for
AISimulate timing, the FP8 quantization config. The architecture figures are calibration.md's
(Llama-3.1-70B and 8B Instruct); a unit test holds them equal to the configs aisimulate ships.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, Literal

from demo_common.tokenizer import EOS_TOKEN_IDS, LLAMA3_CHAT_TEMPLATE, tokenizer_files_dir
from localcluster.perfmodel.ais import write_quant_config

ModelSize = Literal["70b", "8b"]

_COMMON: dict[str, Any] = {
    "architectures": ["LlamaForCausalLM"],
    "model_type": "llama",
    "hidden_act": "silu",
    "num_key_value_heads": 8,
    "head_dim": 128,
    "vocab_size": 128256,
    "max_position_embeddings": 131072,
    "rope_theta": 500000.0,
    "rope_scaling": {
        "rope_type": "llama3",
        "factor": 8.0,
        "low_freq_factor": 1.0,
        "high_freq_factor": 4.0,
        "original_max_position_embeddings": 8192,
    },
    "rms_norm_eps": 1e-05,
    "bos_token_id": 128000,
    "eos_token_id": list(EOS_TOKEN_IDS),
    "tie_word_embeddings": False,
    "torch_dtype": "bfloat16",
    "attention_bias": False,
    "mlp_bias": False,
}

_ARCHITECTURES: dict[ModelSize, dict[str, Any]] = {
    "70b": {
        "num_hidden_layers": 80,
        "hidden_size": 8192,
        "num_attention_heads": 64,
        "intermediate_size": 28672,
    },
    "8b": {
        "num_hidden_layers": 32,
        "hidden_size": 4096,
        "num_attention_heads": 32,
        "intermediate_size": 14336,
    },
}


def model_config(size: ModelSize) -> dict[str, Any]:
    """HF-style config.json contents for a Llama-3.1 Instruct model of the given size."""
    return {**_COMMON, **_ARCHITECTURES[size]}


def write_model_dir(folder: Path, size: ModelSize) -> Path:
    """Write (or refresh) a model directory; idempotent and cheap (a copy of three files)."""
    folder.mkdir(parents=True, exist_ok=True)
    source = tokenizer_files_dir()
    shutil.copyfile(source / "tokenizer.json", folder / "tokenizer.json")
    tokenizer_config = json.loads((source / "tokenizer_config.json").read_text())
    tokenizer_config["chat_template"] = LLAMA3_CHAT_TEMPLATE
    # Llama-3.1 Instruct ends a turn with <|eot_id|>; the base config names <|end_of_text|>.
    tokenizer_config["eos_token"] = "<|eot_id|>"
    (folder / "tokenizer_config.json").write_text(json.dumps(tokenizer_config, indent=1))
    (folder / "config.json").write_text(json.dumps(model_config(size), indent=1))
    generation = {"bos_token_id": 128000, "eos_token_id": list(EOS_TOKEN_IDS)}
    (folder / "generation_config.json").write_text(json.dumps(generation, indent=1))
    write_quant_config(folder)  # both profiles serve FP8 checkpoints
    return folder
