"""Capacity at SLO: bisection, attainment, AIC's verdict, and one real tiny replay."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest

from demo_bench.capacity.__main__ import main
from demo_bench.capacity.aic import Shape, read_run
from demo_bench.capacity.attainment import StallUnmeasured, request_meets, score
from demo_bench.capacity.replay import Layout, Setup, at_rate, disagg_splits, replay_point
from demo_bench.capacity.search import highest_rate
from demo_common.corpus import load_corpus
from demo_testing.doubles import write_tiny_corpus
from loadgen.demo_script.loader import load_demo_script
from loadgen.demo_script.models import Slo
from localcluster.modeldir import write_model_dir
from localcluster.perfmodel import PROD_PROFILE, hardware_profile

SLOS = {
    "chat": Slo(ttft_p95_s=1.5, itl_p95_s=0.06, max_gap_p95_s=0.5),
    "summarization": Slo(ttft_p95_s=6.0, itl_p95_s=0.06, max_gap_p95_s=1.0),
    "reasoning": Slo(ttft_p95_s=1.5, itl_p95_s=0.06, max_gap_p95_s=0.5),
}


def _edge(edge: float, calls: list[float]) -> Any:
    def evaluate(rate: float) -> bool:
        calls.append(rate)
        return rate <= edge

    return evaluate


@pytest.mark.parametrize("start", [0.1, 1.0, 50.0])
def test_bisection_brackets_the_edge_within_tolerance(start: float) -> None:
    calls: list[float] = []
    found = highest_rate(_edge(3.3, calls), start, rel_tol=0.05)
    assert found.meets is not None
    assert found.fails is not None
    assert found.meets <= 3.3 < found.fails
    assert found.fails - found.meets <= 0.05 * found.meets
    assert found.evaluations == len(calls) <= 12


def test_bisection_reports_no_rate_when_even_the_floor_fails() -> None:
    found = highest_rate(lambda rate: False, 1.0, floor=0.1)
    assert found.meets is None
    assert found.fails is not None
    assert found.fails >= 0.1
    assert found.evaluations == 4  # 1, 0.5, 0.25, 0.125: the next would be under the floor


def test_bisection_stops_at_its_budget_when_nothing_fails() -> None:
    found = highest_rate(lambda rate: True, 1.0, max_evaluations=4)
    assert (found.meets, found.fails, found.evaluations) == (8.0, None, 4)


def test_bisection_refuses_a_non_positive_start() -> None:
    with pytest.raises(ValueError, match="positive"):
        highest_rate(lambda rate: True, 0.0)


def _record(session: str, ttft_ms: float, itl_ms: float, **extra: Any) -> dict[str, Any]:
    return {"session_id": session, "ttft_ms": ttft_ms, "itl_ms": itl_ms, "output_length": 100,
            "terminal_time_ms": 10_000.0, "terminal_status": "completed", **extra}  # fmt: skip


def test_attainment_counts_requests_meeting_all_their_workloads_slos() -> None:
    records = [
        _record("chat-1", 1400, 30),  # meets
        _record("chat-2", 1600, 30),  # TTFT over 1.5 s
        _record("summarization-1", 5000, 30),  # meets: documents have 6 s
        _record("reasoning-1", 100, 70),  # ITL over 60 ms
        _record("reasoning-2", 100, 25, terminal_status="cancelled"),  # never finished: a miss
    ]
    point = score(records, SLOS, rate_rps=2.0, offered=5, gpus=2)
    assert point.attainment == pytest.approx(2 / 5)
    assert point.workload_attainment == {"chat": 0.5, "reasoning": 0.0, "summarization": 1.0}
    assert not point.meets
    # 4 completed x 100 tokens over a 10 s makespan, on 2 GPUs.
    assert point.tokens_per_s_per_gpu == pytest.approx(400 / 10 / 2)
    assert point.tokens_per_s_per_user == pytest.approx(1e3 / 30)  # median of 1000/ITL


def test_ninety_percent_is_the_line() -> None:
    good = [_record(f"chat-{i}", 100, 20) for i in range(9)]
    assert score([*good, _record("chat-9", 9000, 20)], SLOS, rate_rps=1, offered=10, gpus=1).meets
    late = [_record("chat-9", 9000, 20), _record("chat-10", 9000, 20)]
    assert not score([*good, *late], SLOS, rate_rps=1, offered=11, gpus=1).meets


def test_a_stall_bound_needs_measured_gaps() -> None:
    slo = SLOS["reasoning"]
    assert request_meets(100, 25, slo, max_gap_ms=200, stall_bound_ms=250)
    assert not request_meets(100, 25, slo, max_gap_ms=1210, stall_bound_ms=250)
    with pytest.raises(StallUnmeasured):
        request_meets(100, 25, slo, stall_bound_ms=250)  # a replay record has no gaps


def test_layouts_are_aggregated_or_split() -> None:
    assert Layout(aggregated=5).name == "5 agg"
    assert Layout(prefill=2, decode=3).gpus == 5
    assert [lay.name for lay in disagg_splits(3)] == ["1P+2D", "2P+1D"]
    for bad in ({}, {"aggregated": 2, "prefill": 1, "decode": 1}, {"prefill": 2}):
        with pytest.raises(ValueError, match="layout"):
            Layout(**bad)


def test_the_preset_mix_is_kept_at_another_rate() -> None:
    load = load_demo_script().presets[0].load
    faster = at_rate(load, 7.5)
    assert faster.rps == 7.5
    assert faster.mix == load.mix


AGG_COLUMNS = ["parallel", "bs", "tp", "tokens/s/gpu_cluster", "request_rate"]
DISAGG_COLUMNS = ["(p)workers", "(p)parallel", "(p)tp", "(d)workers", "(d)parallel", "(d)tp",
                  "tokens/s/gpu_cluster", "request_rate"]  # fmt: skip


def _csv(path: Path, columns: list[str], rows: list[list[object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(columns)
        writer.writerows(rows)


def test_aic_verdict_is_read_twice_with_and_without_tp_above_one(tmp_path: Path) -> None:
    # The layout `aiconfigurator cli default --save-dir` writes: <model>/<run>/<mode>/...csv
    run = tmp_path / "nvidia" / "Llama-3.1-70B-Instruct-FP8_h200_sxm_trtllm_isl4500_osl300"
    _csv(
        run / "agg" / "best_config_topn.csv",
        AGG_COLUMNS,
        [["tp2pp1dp1etp1ep1", 40, 2, 420.0, 9.5], ["tp1pp1dp1etp1ep1", 24, 1, 377.0, 10.1]],
    )
    _csv(run / "disagg" / "best_config_topn.csv", DISAGG_COLUMNS,
         [[6, "tp1pp1dp1etp1ep1", 1, 1, "tp2pp1dp1etp1ep1", 2, 380.5, 10.2],
          [3, "tp1pp1dp1etp1ep1", 1, 1, "tp1pp1dp1etp1ep1", 1, 300.0, 8.0]])  # fmt: skip
    verdict = read_run(tmp_path, Shape("chat", 4500, 300, 1500, 60), 8)
    assert verdict.ratio(verdict.agg, verdict.disagg) == "agg 1.10x"
    assert verdict.agg_tp1 is not None
    assert verdict.agg_tp1.tokens_per_s_per_gpu == 377.0
    assert verdict.disagg_tp1 is not None
    assert verdict.disagg_tp1.config.startswith("3P")
    assert verdict.ratio(verdict.agg_tp1, verdict.disagg_tp1) == "agg 1.26x"


def test_real_replay_of_a_tiny_trace_meets_at_a_light_rate(tmp_path: Path) -> None:
    corpus = load_corpus(write_tiny_corpus(tmp_path / "corpus", passage_words=600))
    setup = Setup(
        load_demo_script(), corpus, hardware_profile(PROD_PROFILE),
        write_model_dir(tmp_path / "model", "70b"), tmp_path, seed=3, duration_s=10,
    )  # fmt: skip
    for layout in (Layout(aggregated=2), Layout(prefill=1, decode=1)):
        point = replay_point(setup, "baseline", layout, 0.5)
        assert point.offered >= 1
        assert point.attainment == 1.0  # an idle 70B H200 pair meets every SLO
        assert 20 <= 1e3 / point.tokens_per_s_per_user <= 60  # a decode step of 20-60 ms
    assert not list(tmp_path.glob("baseline-*.jsonl"))  # traces are cleaned up


def test_cli_refuses_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--duration-s", "0", "--corpus", str(tmp_path)]) == 2
    assert "--duration-s" in capsys.readouterr().err
    assert main(["--corpus", str(tmp_path)]) == 2
    assert "no corpus" in capsys.readouterr().err
