"""Unit tests of the whole-cycle replay: pool changes, the scripted scaling policy, the report."""

from __future__ import annotations

from pathlib import Path

import pytest

from demo_bench.sizing.cycle import (
    Done,
    PoolChange,
    ScriptedScaling,
    cycle_trace,
    phase_spans,
    pool_changes,
    replay_cycle,
)
from demo_bench.sizing.cycle_report import green_tail_s, stress_effect, weighted_p95
from demo_common.corpus import Corpus, load_corpus
from demo_testing.doubles import write_tiny_corpus
from loadgen.demo_script.load import LoadConfig, Mix
from loadgen.demo_script.loader import load_demo_script
from loadgen.demo_script.models import DemoScript
from loadgen.demo_script.phases import CycleLayout, Phase, PoolLayout, ScaleStep
from localcluster.modeldir import write_model_dir
from localcluster.perfmodel import PROD_PROFILE, hardware_profile


def _script(phases: tuple[Phase, ...], prefill: int = 1, decode: int = 1) -> DemoScript:
    base = load_demo_script()
    layout = CycleLayout(budget_gpus=8, initial=PoolLayout(prefill=prefill, decode=decode))
    return base.model_copy(update={"layout": layout, "phases": phases})


def _phase(pid: str, duration: float, load: LoadConfig, *steps: ScaleStep) -> Phase:
    return Phase(id=pid, name=pid, caption=pid, duration=duration, load=load, scale=steps)


LIGHT = LoadConfig(rps=0.5, mix=Mix(chat=0.0, summarization=0.0, reasoning=1.0), max_in_flight=64)


def test_scale_outs_serve_a_worker_start_after_they_are_asked_scale_ins_at_once() -> None:
    script = _script(
        (
            _phase("a", 100, LIGHT, ScaleStep(at=10, pool="decode", replicas=3)),
            _phase("b", 100, LIGHT, ScaleStep(at=5, pool="decode", replicas=1),
                   ScaleStep(at=20, pool="prefill", replicas=2)),
        )
    )  # fmt: skip
    assert pool_changes(script, worker_start_s=208) == [
        PoolChange(t_s=105, issued_s=105, pool="decode", replicas=1),
        PoolChange(t_s=218, issued_s=10, pool="decode", replicas=3),
        PoolChange(t_s=328, issued_s=120, pool="prefill", replicas=2),
    ]
    assert phase_spans(script) == {"a": (0, 100), "b": (100, 200)}


def test_scripted_scaling_answers_each_tick_with_the_pools_then_stops() -> None:
    changes = [PoolChange(50, 50, "decode", 3), PoolChange(50, 0, "prefill", 2),
               PoolChange(90, 90, "decode", 1)]  # fmt: skip
    policy = ScriptedScaling(changes, prefill=1, decode=2)
    assert policy.initial_tick_ms() == 50_000
    assert policy.on_tick({}) == {"target_prefill": 2, "target_decode": 3, "next_tick_ms": 90_000}
    assert policy.on_tick({}) == {"target_prefill": 2, "target_decode": 1, "next_tick_ms": None}
    assert ScriptedScaling([], 1, 1).initial_tick_ms() == float("inf")


def test_itl_p95_counts_every_token_of_a_request() -> None:
    assert weighted_p95([0.02, 0.04], [95, 5]) == 0.02
    assert weighted_p95([0.02, 0.04], [94, 6]) == 0.04
    assert weighted_p95([], []) is None


def _done(workload: str, sent: float, ttft: float = 0.1, itl: float = 0.02) -> Done:
    return Done(workload, sent, sent + 20, ttft, itl, 1000)


def test_stress_effect_reads_the_peak_and_the_recovery_after_ready() -> None:
    phases = {"baseline": (0.0, 100.0), "decode-stress": (100.0, 300.0)}
    done = [_done("reasoning", t, itl=0.02) for t in range(0, 100, 2)]
    done += [_done("reasoning", t, itl=0.045) for t in range(100, 200, 2)]  # saturated
    done += [_done("reasoning", t, itl=0.023) for t in range(200, 300, 2)]  # new workers
    changes = [PoolChange(200, 0, "decode", 4)]
    e = stress_effect(done, phases, changes, phase_id="decode-stress", workload="reasoning",
                      metric="itl", pool="decode")  # fmt: skip
    assert e.baseline_p95_s == 0.02
    assert e.peak_p95_s == 0.045
    assert e.peak_vs_baseline == pytest.approx(2.25)
    assert e.recovered_after_ready_s == 30  # the first window holding only requests sent after
    assert e.meets
    stuck = [d if d.sent_s < 200 else _done("reasoning", d.sent_s, itl=0.04) for d in done]
    never = stress_effect(stuck, phases, changes, phase_id="decode-stress", workload="reasoning",
                          metric="itl", pool="decode")  # fmt: skip
    assert never.recovered_after_ready_s is None
    assert not never.meets


def test_green_tail_is_the_time_since_the_last_red_window() -> None:
    slos = load_demo_script().slos
    done = [_done("chat", t, ttft=3.0 if t < 40 else 0.5) for t in range(0, 200, 2)]
    green, worst = green_tail_s(done, slos, 20.0, 200.0)
    # Windows (by completion) are red while they hold a 3 s TTFT: those done before 60 s, so
    # the last red window is the one ending at 80 s.
    assert green == pytest.approx(200 - 80)
    assert worst["chat"] == (0.5, 0.02)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    return load_corpus(write_tiny_corpus(tmp_path_factory.mktemp("corpus"), passage_words=600))


def test_replayed_cycle_carries_its_pools_across_phases(corpus: Corpus, tmp_path: Path) -> None:
    """One decode worker saturated by reasoning, then three: ITL falls after they serve."""
    # Some chat: a trace without multi-turn sessions comes back without session ids.
    heavy = LoadConfig(rps=7.5, mix=Mix(chat=0.1, summarization=0.0, reasoning=0.9),
                       max_in_flight=512)  # fmt: skip
    script = _script(
        (_phase("busy", 240, heavy), _phase("more", 120, heavy,
                                            ScaleStep(at=0, pool="decode", replicas=3))),
        prefill=2,
    )  # fmt: skip
    profile = hardware_profile(PROD_PROFILE).model_copy(update={"worker_start_s": 1.0})
    rows = cycle_trace(script, corpus, seed=0, block=32)
    assert {r.session_id.split("-")[1] for r in rows} == {"p0", "p1"}
    done = replay_cycle(script, rows, tmp_path, profile, write_model_dir(tmp_path / "m", "70b"))
    assert len(done) == len(rows)
    before = weighted_p95([d.itl_s for d in done if 150 <= d.sent_s < 200],
                          [d.tokens for d in done if 150 <= d.sent_s < 200])  # fmt: skip
    after = weighted_p95([d.itl_s for d in done if d.sent_s >= 270],
                         [d.tokens for d in done if d.sent_s >= 270])  # fmt: skip
    assert before is not None
    assert after is not None
    assert after < 0.75 * before
