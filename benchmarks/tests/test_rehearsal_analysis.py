"""The rehearsal's arithmetic on synthetic series: phases, windows, effects, recovery, GPU-s."""

from __future__ import annotations

from demo_bench.rehearsal.analysis import (
    PoolSample,
    Sample,
    ScaleMark,
    gpu_seconds,
    kv_effect,
    phase_spans,
    slo_attainment,
    stress_effect,
    windows,
)
from demo_bench.rehearsal.report import _by_process
from demo_bench.rehearsal.run import _stack_part

TIMELINE = [
    {"t_s": 0.0, "kind": "mode", "phase": None, "message": "auto"},
    {"t_s": 0.0, "kind": "phase", "phase": "baseline", "message": "Baseline: calm"},
    {"t_s": 100.0, "kind": "phase", "phase": "kv-cache", "message": "KV Cache: chat"},
    {"t_s": 200.0, "kind": "phase", "phase": "prefill-stress", "message": "Prefill Stress: x"},
]


def pools(points: list[tuple[float, int, int, int]]) -> list[PoolSample]:
    """(t, prefill desired, prefill ready, decode desired); decode always ready."""
    return [
        PoolSample(t, {"prefill": d, "decode": dd}, {"prefill": r, "decode": dd}, {})
        for t, d, r, dd in points
    ]


def test_phase_spans_end_at_the_next_phase() -> None:
    spans = phase_spans(TIMELINE, end_s=400.0)
    assert [(s.id, s.name, s.start_s, s.end_s) for s in spans] == [
        ("baseline", "Baseline", 0.0, 100.0),
        ("kv-cache", "KV Cache", 100.0, 200.0),
        ("prefill-stress", "Prefill Stress", 200.0, 400.0),
    ]


def test_windows_take_percentiles_of_ok_requests_only() -> None:
    samples = [Sample("chat", 1, True, float(t), 0.1 * (t % 10 + 1)) for t in range(60)]
    samples.append(Sample("chat", 1, False, 5.0, 99.0))
    points = windows(samples, "chat", "ttft", 0.0, 60.0, window_s=30.0, step_s=30.0)
    assert [(p.t_s, p.n) for p in points] == [(30.0, 30), (60.0, 30)]
    assert points[0].p50 is not None
    assert abs(points[0].p50 - 0.55) < 1e-9
    assert points[0].p95 is not None
    assert points[0].p95 < 1.01


def test_slo_attainment_counts_failures_and_itl() -> None:
    samples = [
        Sample("chat", 1, True, 1.0, 0.2, (0.01, 0.02)),
        Sample("chat", 1, True, 2.0, 0.9, (0.01,)),  # TTFT over
        Sample("chat", 1, True, 3.0, 0.2, (0.5, 0.5)),  # ITL over
        Sample("chat", 1, False, 4.0, None),
    ]
    got = slo_attainment(samples, {"chat": (0.6, 0.06)}, 0.0, 10.0)
    expected = {"requests": 4, "errors": 1, "attainment": 0.25, "frozen_streams": 0, "frozen_s": 0}
    assert got == {"chat": expected}


def test_a_freeze_over_the_stall_bound_misses_the_slo_and_is_counted() -> None:
    # Mean ITL 30 ms, well within 60 ms: only the 0.8 s pause tells the two apart.
    smooth = Sample("chat", 1, True, 1.0, 0.2, (0.03,) * 40, max_gap_s=0.04)
    frozen = Sample("chat", 1, True, 2.0, 0.2, (0.03,) * 40, max_gap_s=0.8, frozen_s=0.8)
    within = Sample("chat", 1, True, 3.0, 0.2, (0.03,) * 40, max_gap_s=0.3, frozen_s=0.3)
    got = slo_attainment([smooth, frozen, within], {"chat": (0.6, 0.06, 0.5)}, 0.0, 10.0)
    assert got["chat"]["attainment"] == round(2 / 3, 4)
    assert (got["chat"]["frozen_streams"], got["chat"]["frozen_s"]) == (2, 1.1)
    # A record made before the stall bound existed judges TTFT and ITL only.
    assert slo_attainment([frozen], {"chat": (0.6, 0.06)}, 0.0, 10.0)["chat"]["attainment"] == 1


def test_kv_effect_ratio_and_turn2_hit_rate() -> None:
    spans = phase_spans(TIMELINE, end_s=400.0)
    samples = [Sample("chat", 1, True, 110.0 + i, 1.0, input_tokens=9000) for i in range(5)]
    samples += [Sample("chat", 2, True, 120.0 + i, 0.25, input_tokens=10_000) for i in range(10)]
    effect = kv_effect(samples, spans, "kv-cache", 90_000.0, 145_000.0)
    assert effect["ttft_ratio_turn2plus_vs_turn1"] == 0.25
    assert effect["prefill_hit_rate_turn2plus"] == 0.9  # 90k cached / 100k turn-2+ tokens
    assert effect["router_prefill_hit_rate_all_turns"] == 0.621


def test_stress_effect_peak_end_and_recovery_after_ready() -> None:
    spans = phase_spans(TIMELINE, end_s=400.0)
    samples = [Sample("summarization", 1, True, float(t), 1.0) for t in range(0, 100, 2)]
    # Prefill Stress: TTFT 4 s until the new worker is ready at 300 s, back to 1 s by 320 s.
    for t in range(200, 400, 2):
        samples.append(Sample("summarization", 1, True, float(t), 4.0 if t < 310 else 1.0))
    marks = [ScaleMark(150.0, "prefill", 2, 3, "script")]
    series = pools(
        [(float(t), 3 if t >= 150 else 2, 3 if t >= 300 else 2, 3) for t in range(0, 400, 5)]
    )
    effect = stress_effect(
        samples, spans, series, marks, phase_id="prefill-stress", baseline_id="baseline",
        workload="summarization", metric="ttft", pool="prefill",
    )  # fmt: skip
    assert effect["peak_vs_baseline"] == 4.0
    assert effect["end_vs_baseline"] == 1.0
    scale_out = effect["scale_out"]
    assert isinstance(scale_out, dict)
    assert scale_out["ready_s"] == 300.0
    assert scale_out["details"]["launch_to_ready_s"] == 150.0
    # The first 30 s window (10 s steps) that is all recovered ends at 340 s.
    assert scale_out["recovered_s"] == 340.0
    assert scale_out["recovery_after_ready_s"] == 40.0


def test_missing_phase_is_reported() -> None:
    spans = phase_spans(TIMELINE[:2], end_s=50.0)
    effect = stress_effect(
        [], spans, [], [], phase_id="decode-stress", baseline_id="baseline",
        workload="reasoning", metric="itl", pool="decode",
    )  # fmt: skip
    assert "did not run" in str(effect["missing"])


def test_gpu_seconds_integrates_desired() -> None:
    series = pools([(0.0, 2, 2, 3), (100.0, 3, 2, 3), (200.0, 3, 3, 5)])
    # 5 GPUs for 100 s, 6 for 100 s, 8 for 100 s.
    assert gpu_seconds(series, 0.0, 300.0) == 1900.0


def test_the_cpu_table_names_each_part_of_the_stack() -> None:
    mocker = ["python", "-m", "dynamo.mocker", "--model-path", "m", "--disaggregation-mode"]
    assert _stack_part([*mocker, "decode"]) == "decode"
    assert _stack_part([*mocker, "agg"]) == "aggregated"
    assert _stack_part(["python", "-m", "dynamo.frontend", "--http-port", "1"]) == "frontend"
    assert _stack_part(["/usr/bin/prometheus", "--config.file=x"]) == "prometheus"
    assert _stack_part(["python", "-m", "localcluster", "up"]) == "other"
    samples = [
        {"machine": 50.0, "client": 20.0, "stack": 30.0, "proc:decode": 30.0},
        {"machine": 60.0, "client": 40.0, "stack": 10.0, "proc:frontend": 10.0},
    ]
    table = _by_process(samples)
    assert list(table) == ["client", "decode", "frontend"]
    assert table["decode"] == {"p50": 15.0, "p90": 27.0, "peak": 30.0}  # absent = 0
    assert table["client"]["peak"] == 40.0


def test_the_manual_presenter_hands_back_the_scripts_scale_ins_only() -> None:
    from demo_bench.rehearsal.run import presenter_scale_ins
    from loadgen.demo_script import load_demo_script
    from loadgen.demo_script.loader import default_script_path, parse_demo_script

    packaged = load_demo_script()
    # KV Cache (skipped) takes decode 3 -> 1: the presenter does it when Prefill Stress starts;
    # the scale-outs (prefill -> 4, decode -> 4) are left to KEDA.
    assert presenter_scale_ins(packaged, ("baseline", "prefill-stress", "decode-stress")) == {
        "baseline": [], "prefill-stress": [("decode", 1)], "decode-stress": []
    }  # fmt: skip
    head = default_script_path().read_text(encoding="utf-8").split("\nlayout:")[0]
    text = (
        head
        + """
layout: {budget_gpus: 8, initial: {prefill: 3, decode: 3}}
phases:
  - {id: a, name: A, caption: a, duration: 10s, preset: baseline,
     scale: [{at: +0s, pool: decode, replicas: 2}, {at: +5s, pool: decode, replicas: 1},
             {at: +6s, pool: prefill, replicas: 4}]}
  - {id: b, name: B, caption: b, duration: 10s, preset: baseline,
     scale: [{at: +0s, pool: prefill, replicas: 2}, {at: +1s, pool: decode, replicas: 5}]}
  - {id: c, name: C, caption: c, duration: 10s, preset: baseline}
"""
    )
    script = parse_demo_script(text, "inline")
    # Every phase played: each phase's scale-ins wait for the next phase's start.
    assert presenter_scale_ins(script, None) == {
        "a": [], "b": [("decode", 1)], "c": [("prefill", 2)]
    }  # fmt: skip
    # A skipped phase's scale-ins are handed back at the next played phase; the last word wins.
    assert presenter_scale_ins(script, ("a", "c")) == {
        "a": [],
        "c": [("decode", 1), ("prefill", 2)],
    }
