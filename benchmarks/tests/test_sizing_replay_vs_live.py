"""The sizing tool is honest: dynamo.replay and the live local stack agree on the same trace.

A short scaled-down trace (90 s of a summarization-led mix at ~25 % of one prefill worker, from
the load generator's own arrivals and workloads) is played against the real local stack (Dynamo
frontend + 1 prefill + 1 decode mocker, prod profile, SPEED=1) and replayed offline at the same
split. TTFT and ITL p50 over all requests must agree within 15 %, p95 within 30 % (~13
requests: their p95 lies between the two slowest, so one request moved by the host's overhead
shifts it by ~15 % alone). The mix keeps TTFT p50 on
long prompts, where the live host's own overhead (HTTP, tokenising: ~30-50 ms, plus ~100 ms the
live mocker adds per prefill) is small against the model's time; a light load keeps a queue
from amplifying it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from demo_bench.sizing.live import play
from demo_bench.sizing.replay import replay_split
from demo_bench.sizing.trace import build_trace, write_trace
from demo_common.corpus import load_corpus
from demo_common.percentile import percentile
from demo_testing.doubles import write_tiny_corpus
from demo_testing.stack import stack_settings
from loadgen.demo_script.load import LoadConfig, Mix
from loadgen.demo_script.loader import load_demo_script
from localcluster import LocalCluster
from localcluster.modeldir import write_model_dir
from localcluster.perfmodel import PROD_PROFILE, hardware_profile

pytestmark = pytest.mark.integration

# The median of ~13 requests is a middle order statistic: 15 % catches a replay that misprices
# prefill or decode. The p95 is the slowest requests': 30 % still catches a replay without the
# queue the live stack builds (which doubles the tail), not the noise of one request.
TOLERANCE = {"ttft_p50": 0.15, "itl_p50": 0.15, "ttft_p95": 0.30, "itl_p95": 0.30}
DURATION_S = 90.0


def _stats(records: Sequence[Mapping[str, Any]]) -> dict[str, float | None]:
    ttft = [float(r["ttft_ms"]) for r in records]
    itl = [float(r["itl_ms"]) for r in records]
    return {
        "ttft_p50": percentile(ttft, 50),
        "ttft_p95": percentile(ttft, 95),
        "itl_p50": percentile(itl, 50),
        "itl_p95": percentile(itl, 95),
    }


async def test_replay_matches_a_live_run_of_the_same_trace(tmp_path: Path) -> None:
    corpus = load_corpus(write_tiny_corpus(tmp_path / "corpus", passage_words=1000,
                                           document_words=3000))  # fmt: skip
    load = LoadConfig(rps=0.15, mix=Mix(summarization=0.85, reasoning=0.15), max_in_flight=64)
    profile = hardware_profile(PROD_PROFILE)
    rows = build_trace(load_demo_script(), corpus, load, seed=3, duration_s=DURATION_S,
                       block=profile.block_size)  # fmt: skip
    assert len(rows) >= 10
    trace = write_trace(rows, tmp_path / "trace.jsonl")
    replayed = replay_split(trace, profile, write_model_dir(tmp_path / "m", "70b"), 1, 1,
                            block=profile.block_size)  # fmt: skip
    settings = stack_settings(tmp_path / "stack", env="prod", speed=1.0, initial_prefill=1,
                              initial_decode=1)  # fmt: skip
    async with LocalCluster(settings) as cluster:
        live = await play(rows, cluster.frontend_url, cluster.model_name,
                          block=profile.block_size)  # fmt: skip
    assert len(live) == len(replayed) == len(rows)
    want, got = _stats(replayed), _stats(live)
    print({k: (want[k], got[k]) for k in want})
    for key, value in want.items():
        live_value = got[key]
        assert value is not None
        assert live_value is not None
        assert abs(live_value / value - 1) <= TOLERANCE[key], (key, value, live_value)
