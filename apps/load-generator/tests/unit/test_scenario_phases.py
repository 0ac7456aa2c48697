"""The demo script's cycle: durations, layouts, and the errors that name the YAML line."""

from __future__ import annotations

import pytest

from loadgen.demo_script import default_script_path, load_demo_script, parse_demo_script
from loadgen.demo_script.phases import PoolLayout, layout_at_phase_start, parse_duration_s
from loadgen.errors import DemoScriptError

CYCLE = """
layout:
  budget_gpus: 8
  initial: {prefill: 2, decode: 3}
phases:
  - id: one
    name: One
    caption: first
    duration: 60s
    preset: baseline
    scale:
      - {at: +30s, pool: prefill, replicas: 3}
  - id: two
    name: Two
    caption: second
    duration: 1m
    load: {rps: 1, mix: {chat: 1}, max_in_flight: 4}
"""


def script_text(cycle: str = CYCLE) -> str:
    """The packaged file's SLOs/workloads/presets with `cycle` instead of its own."""
    text = default_script_path().read_text()
    return text[: text.index("\nlayout:")] + "\n" + cycle


def error_of(cycle: str) -> str:
    with pytest.raises(DemoScriptError) as info:
        parse_demo_script(script_text(cycle), "demo.yaml")
    return str(info.value)


def line_no(text: str, needle: str) -> int:
    return text.splitlines().index(next(line for line in text.splitlines() if needle in line)) + 1


@pytest.mark.parametrize(
    ("value", "seconds"),
    [(90, 90.0), (1.5, 1.5), ("90s", 90.0), ("+30s", 30.0), ("1.5m", 90.0), ("250ms", 0.25)],
)
def test_durations(value: object, seconds: float) -> None:
    assert parse_duration_s(value) == seconds


@pytest.mark.parametrize("value", ["-30s", -1, "soon", True, None])
def test_bad_durations(value: object) -> None:
    with pytest.raises(ValueError, match=r"negative|duration"):
        parse_duration_s(value)


def test_packaged_cycle_is_13_minutes_within_budget() -> None:
    script = load_demo_script()
    assert [p.id for p in script.phases] == [
        "baseline", "kv-cache", "prefill-stress", "decode-stress", "full-load"
    ]  # fmt: skip
    assert 12 * 60 <= sum(p.duration for p in script.phases) <= 14 * 60
    assert script.layout is not None
    end = layout_at_phase_start(script.layout.initial, script.phases, len(script.phases))
    assert end == PoolLayout(prefill=4, decode=4)  # Full Load: all 8 GPUs busy


def test_scale_outs_are_ready_inside_the_phase_they_serve() -> None:
    """Each scale-out, issued in the phase before, lands ≥ 60 s before its phase ends."""
    script = load_demo_script()
    starts, t = [], 0.0
    for phase in script.phases:
        starts.append(t)
        t += phase.duration
    assert script.layout is not None
    outs = 0
    for index, phase in enumerate(script.phases[:-1]):
        layout = layout_at_phase_start(script.layout.initial, script.phases, index)
        for step in phase.scale:
            scale_out = step.replicas > layout.of(step.pool)
            layout = layout.with_pool(step.pool, step.replicas)
            if not scale_out:
                continue
            outs += 1
            ready_s = starts[index] + step.at + 208.0
            served_end = starts[index + 1] + script.phases[index + 1].duration
            assert starts[index + 1] < ready_s <= served_end - 60, (phase.id, step)
    assert outs == 2


def test_custom_cycle_parses() -> None:
    script = parse_demo_script(script_text(), "demo.yaml")
    assert [p.duration for p in script.phases] == [60.0, 60.0]
    assert script.phases[0].scale[0].at == 30.0
    assert layout_at_phase_start(script.layout.initial, script.phases, 1).prefill == 3  # type: ignore[union-attr]


def test_unknown_preset_names_line_and_known_ids() -> None:
    cycle = CYCLE.replace("preset: baseline", "preset: turbo")
    message = error_of(cycle)
    line = line_no(script_text(cycle), "preset: turbo")
    assert f"demo.yaml:{line}: field 'phases.0.preset': unknown preset 'turbo'" in message
    assert "kv-cache" in message


def test_unknown_pool_names_line() -> None:
    cycle = CYCLE.replace("pool: prefill", "pool: embed")
    message = error_of(cycle)
    line = line_no(script_text(cycle), "pool: embed")
    assert f"demo.yaml:{line}: field 'phases.0.scale.0.pool'" in message
    assert "'prefill' or 'decode'" in message


def test_budget_exceeded_names_step() -> None:
    cycle = CYCLE.replace("replicas: 3}", "replicas: 6}")
    message = error_of(cycle)
    line = line_no(script_text(cycle), "replicas: 6}")
    assert f"demo.yaml:{line}: field 'phases.0.scale.0'" in message
    assert "6 prefill + 3 decode = 9 GPUs, over the GPU budget of 8" in message


def test_negative_time_names_line() -> None:
    cycle = CYCLE.replace("at: +30s", "at: -30s")
    message = error_of(cycle)
    assert f"demo.yaml:{line_no(script_text(cycle), 'at: -30s')}:" in message
    assert "negative time" in message


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (("replicas: 3}", "replicas: 0}"), "greater than or equal to 1"),
        (("at: +30s", "at: 60s"), "not inside the phase"),
        (("duration: 1m", "duration: 0s"), "longer than 0 s"),
        (("    preset: baseline\n", ""), "exactly one of `preset` or `load`"),
        (("id: two", "id: one"), "duplicate phase id"),
        (("initial: {prefill: 2, decode: 3}", "initial: {prefill: 4, decode: 5}"), "budget"),
        (("caption: second", "caption: second\n    show: 1"), "'live' or 'comparison'"),
    ],
)
def test_other_bad_cycles(change: tuple[str, str], reason: str) -> None:
    assert reason in error_of(CYCLE.replace(*change))


def test_phases_without_layout_rejected() -> None:
    cycle = CYCLE[CYCLE.index("phases:") :]
    assert "phases need a `layout`" in error_of(cycle)


def test_show_names_field_and_line() -> None:
    cycle = CYCLE.replace("caption: first", "caption: first\n    show: charts")
    message = error_of(cycle)
    line = line_no(script_text(cycle), "show: charts")
    assert f"demo.yaml:{line}: field 'phases.0.show'" in message
    assert "'live' or 'comparison'" in message
    assert "\n" not in message


def test_the_documented_why_segment_parses_and_shows_the_comparison() -> None:
    """The commented example at the end of the packaged script, appended to its cycle."""
    text = default_script_path().read_text()
    example = text[text.index("#  - id: why-disaggregation") :]
    phase = "\n".join(line.removeprefix("#") for line in example.splitlines())
    script = parse_demo_script(text + phase + "\n", "demo.yaml")
    assert script.phases[-1].id == "why-disaggregation"
    assert script.phases[-1].show == "comparison"
    assert {p.show for p in script.phases[:-1]} == {"live"}  # the default cycle stays live
