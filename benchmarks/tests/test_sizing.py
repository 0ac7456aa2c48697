"""Unit tests of the sizing tool: trace from the load generator's code, demand, splits, replay."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from demo_bench.sizing.__main__ import main, splits
from demo_bench.sizing.demand import demand, drain_s
from demo_bench.sizing.replay import replay_split, run_split, summarize
from demo_bench.sizing.trace import build_trace, workload_of, write_trace
from demo_common.corpus import Corpus, load_corpus
from demo_testing.doubles import write_tiny_corpus
from loadgen.demo_script.load import LoadConfig, Mix
from loadgen.demo_script.loader import load_demo_script
from loadgen.engine.arrivals import PoissonArrivals
from localcluster.modeldir import write_model_dir
from localcluster.perfmodel import PROD_PROFILE, hardware_profile


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    return load_corpus(write_tiny_corpus(tmp_path_factory.mktemp("corpus"), passage_words=600))


LOAD = LoadConfig(rps=1.0, mix=Mix(chat=0.4, summarization=0.3, reasoning=0.3), max_in_flight=64)


def test_trace_follows_the_load_generators_arrivals_and_sessions(corpus: Corpus) -> None:
    script = load_demo_script()
    rows = build_trace(script, corpus, LOAD, seed=7, duration_s=60, block=32)
    assert rows == build_trace(script, corpus, LOAD, seed=7, duration_s=60, block=32)
    summaries = [r for r in rows if workload_of(r.session_id) == "summarization"]
    expected = PoissonArrivals("7:summarization:1:arrivals", 0.3, 0)
    assert summaries[0].timestamp == pytest.approx(expected.pop() / 1e6, abs=1e-3)
    assert all(r.output_length == script.workloads.summarization.max_tokens for r in summaries)
    chat = [r for r in rows if r.session_id == "chat-1"]
    shape = script.workloads.chat
    assert shape.turns_min <= len(chat) <= shape.turns_max
    assert chat[0].timestamp is not None
    assert chat[0].delay is None
    for before, after in itertools.pairwise(chat):
        assert after.timestamp is None
        assert after.delay is not None
        assert after.input_length > before.input_length + shape.max_tokens
        shared = before.input_length // 32
        assert after.hash_ids[:shared] == before.hash_ids[:shared]  # the history is reused
    # Salted summaries share nothing with each other.
    assert len({tuple(r.hash_ids[:1]) for r in summaries}) == len(summaries)


def test_trace_rows_are_mooncake_lines(corpus: Corpus, tmp_path: Path) -> None:
    rows = build_trace(load_demo_script(), corpus, LOAD, seed=1, duration_s=20, block=32)
    path = write_trace(rows, tmp_path / "t.jsonl")
    first = json.loads(path.read_text().splitlines()[0])
    assert {"session_id", "input_length", "output_length", "hash_ids", "timestamp"} <= set(first)
    assert len(first["hash_ids"]) * 32 >= first["input_length"]


def test_demand_prices_prefill_with_the_profile(corpus: Corpus) -> None:
    profile = hardware_profile(PROD_PROFILE)
    rows = build_trace(load_demo_script(), corpus, LOAD, seed=1, duration_s=120, block=32)
    need = demand(rows, profile, 120)
    uncached = sum(profile.prefill_ms(r.input_length) for r in rows) / 1e3 / 120
    assert 0 < need.prefill_gpu_s_per_s < uncached  # chat turns 2+ reuse their history
    assert need.decode_tokens_per_s == pytest.approx(sum(r.output_length for r in rows) / 120)


def test_drain_time_after_a_scale_out() -> None:
    assert drain_s(2.5, 2, 3, 200) == pytest.approx(0.5 * 200 / 0.5)
    assert drain_s(1.5, 2, 3, 200) == 0.0
    assert drain_s(3.5, 2, 3, 200) is None


def test_every_split_fits_the_node() -> None:
    assert (1, 7) in splits(8)
    assert (7, 1) in splits(8)
    assert all(p >= 1 and d >= 1 and p + d <= 8 for p, d in splits(8))
    assert splits(3) == [(1, 1), (1, 2), (2, 1)]


def test_replay_of_a_trace_is_summarised_per_workload(corpus: Corpus, tmp_path: Path) -> None:
    profile = hardware_profile(PROD_PROFILE)
    script = load_demo_script()
    rows = build_trace(script, corpus, LOAD, seed=2, duration_s=30, block=32)
    trace = write_trace(rows, tmp_path / "t.jsonl")
    records = replay_split(trace, profile, write_model_dir(tmp_path / "m", "70b"), 2, 2, block=32)
    assert len(records) == len(rows)
    stats = summarize(records, script.slos, 30)
    assert set(stats) == {"chat", "summarization", "reasoning"}
    for s in stats.values():
        assert s.ttft_p50_ms <= s.ttft_p95_ms
        assert 20 <= s.itl_p50_ms <= 60  # a 70B decode step on an H200
        assert 0 <= s.attainment <= 1


def test_cli_needs_a_corpus(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--corpus", str(tmp_path / "none")]) == 2
    assert "make corpus" in capsys.readouterr().err


def test_a_single_turn_trace_of_one_workload_is_summarised(corpus: Corpus, tmp_path: Path) -> None:
    # Without multi-turn sessions the replay hands requests back with no session id.
    profile = hardware_profile(PROD_PROFILE)
    script = load_demo_script()
    load = LoadConfig(
        rps=2.0, mix=Mix(chat=0.0, summarization=0.0, reasoning=1.0), max_in_flight=64
    )
    rows = build_trace(script, corpus, load, seed=2, duration_s=20, block=32)
    result = run_split("decode-stress", rows, write_trace(rows, tmp_path / "t.jsonl"), profile,
                       write_model_dir(tmp_path / "m", "70b"), (1, 1), script.slos, 20)  # fmt: skip
    assert set(result.workloads) == {"reasoning"}
    assert result.workloads["reasoning"].requests == len(rows) == result.completed
