"""The local workers run with the cluster's TRT-LLM engine limits (AIS timing).

Cluster: the engine configs (`--extra-engine-args`) rendered by `kubectl kustomize` from each
overlay. Local: the profile's per-role limits the mocker gets (--max-num-seqs,
--max-num-batched-tokens). Batch size and max_num_tokens decide queueing and chunking, so the
local stack times what the cluster would do only if they are equal. The decoding pools' batch
is the one the worker's KV capacity holds at the demo's shortest streams (profiles.kv_bound_batch).
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from localcluster.perfmodel import Role, hardware_profile
from localcluster.perfmodel.profiles import MAX_SEQ_LEN, kv_bound_batch
from tests.crosscheck.test_frontend_flags import render

pytestmark = pytest.mark.integration  # runs kubectl

# (overlay, engine-config key, local profile, worker role)
CASES = [
    ("prod", "prefill.yaml", "h200-70b-fp8", "prefill"),
    ("prod", "decode.yaml", "h200-70b-fp8", "decode"),
    ("prod-aggregated", "agg.yaml", "h200-70b-fp8", "aggregated"),
    ("dev", "prefill.yaml", "h100-8b", "prefill"),
    ("dev", "decode.yaml", "h100-8b", "decode"),
]


def engine_config(overlay: str, key: str) -> dict[str, Any]:
    (configmap,) = [
        d for d in render(overlay)  # type: ignore[arg-type]
        if d.get("kind") == "ConfigMap" and d["metadata"]["name"] == "gtc-demo-engine-configs"
    ]  # fmt: skip
    return dict(yaml.safe_load(configmap["data"][key]))


@pytest.mark.parametrize(("overlay", "key", "profile", "role"), CASES)
def test_local_engine_limits_are_the_clusters(
    overlay: str, key: str, profile: str, role: Role
) -> None:
    engine = engine_config(overlay, key)
    local = hardware_profile(profile)
    assert local.limits(role) == (engine["max_batch_size"], engine["max_num_tokens"])
    assert engine["max_seq_len"] == local.max_seq_len == MAX_SEQ_LEN
    assert engine["max_num_tokens"] >= engine["max_batch_size"], "one token per sequence a step"
    if role != "prefill":  # the decoding pools' batch is sized by the KV the worker holds
        assert engine["max_batch_size"] == kv_bound_batch(local.kv_capacity_tokens)
    cuda_graphs = engine.get("cuda_graph_config", {}).get("max_batch_size")
    assert cuda_graphs in (None, engine["max_batch_size"]), "graphs for every batch the engine runs"
