"""Load config validation/partial updates and the demo-script file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from loadgen.demo_script import default_script_path, load_demo_script, parse_demo_script
from loadgen.demo_script.load import LoadConfig, LoadConfigUpdate, Mix, MixUpdate
from loadgen.errors import DemoScriptError


def base() -> LoadConfig:
    return LoadConfig(rps=2.0, mix=Mix(chat=1, summarization=1, reasoning=2), max_in_flight=8)


def test_rates_split_by_mix() -> None:
    cfg = base()
    assert [cfg.rate_of(w) for w in ("chat", "summarization", "reasoning")] == [0.5, 0.5, 1.0]


def test_partial_update_keeps_other_fields() -> None:
    cfg = base().apply(LoadConfigUpdate(mix=MixUpdate(reasoning=0)))
    assert (cfg.rps, cfg.max_in_flight) == (2.0, 8)
    assert cfg.mix == Mix(chat=1, summarization=1, reasoning=0)


def test_update_leaving_all_weights_zero_names_mix() -> None:
    cfg = LoadConfig(rps=1, mix=Mix(chat=1), max_in_flight=1)
    with pytest.raises(ValidationError) as info:
        cfg.apply(LoadConfigUpdate(mix=MixUpdate(chat=0)))
    assert info.value.errors()[0]["loc"] == ("mix",)


@pytest.mark.parametrize(
    "body",
    [{"rps": -1}, {"rps": 1e9}, {"max_in_flight": 0}, {"mix": {"chat": -1}}, {"mix": {"x": 1}}],
)
def test_update_rejects_bad_values(body: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        LoadConfigUpdate.model_validate(body)


def test_packaged_script_has_the_five_presets_and_contract_slos() -> None:
    script = load_demo_script()
    assert [p.name for p in script.presets] == [
        "Baseline",
        "KV Cache",
        "Prefill Stress",
        "Decode Stress",
        "Full Load",
    ]
    assert script.slos["chat"].ttft_p95_s == 1.5
    assert script.slos["summarization"].ttft_p95_s == 6.0
    # 25 tokens/s per stream: ahead of a skimming reader (demo-script.yaml).
    assert all(s.itl_p95_s == 0.04 for s in script.slos.values())
    # Stall bounds above the freeze threshold (0.25 s): read as they stream, chat and reasoning
    # may pause two word fixations; a summary read once done, up to 1 s.
    assert {w: s.max_gap_p95_s for w, s in script.slos.items()} == {
        "chat": 0.5, "summarization": 1.0, "reasoning": 0.5,
    }  # fmt: skip
    assert script.preset("kv cache") is script.preset("kv-cache") is script.presets[1]
    assert script.preset("nope") is None


def edited(old: str, new: str) -> str:
    text = default_script_path().read_text()
    assert old in text
    return text.replace(old, new, 1)


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ("version: 1", "version: 2", "version"),
        ("chat: {ttft_p95_s: 1.5,", "chat: {ttft_p95_s: -1,", "slos.chat.ttft_p95_s"),
        ("max_gap_p95_s: 0.5}", "max_gap_p95_s: 0}", "slos.chat.max_gap_p95_s"),
        ("max_gap_p95_s: 1.0}", "max_gap_s: 1.0}", "slos.summarization.max_gap_p95_s"),  # missing
        ("turns_max: 5", "turns_max: 2", "workloads.chat"),
        ("rps: 0.5,", "rps: 0.5, burst: 2,", "presets.0.load.burst"),
        ("id: kv-cache", "id: baseline", "presets"),
        ("  {passage}\n", "  {passage} {other}\n", "workloads.chat.system_prompt"),
    ],
)
def test_bad_script_names_file_and_field(old: str, new: str, field: str) -> None:
    with pytest.raises(DemoScriptError) as info:
        parse_demo_script(edited(old, new), "demo.yaml")
    message = str(info.value)
    assert re.match(r"demo\.yaml:\d+: ", message)  # file and line
    assert f"'{field}" in message


def test_unreadable_and_non_mapping_scripts(tmp_path: Path) -> None:
    with pytest.raises(DemoScriptError, match="cannot read"):
        load_demo_script(tmp_path / "missing.yaml")
    with pytest.raises(DemoScriptError, match="mapping"):
        parse_demo_script("- a\n- b\n", "x.yaml")
    with pytest.raises(DemoScriptError, match="invalid YAML"):
        parse_demo_script("a: [1,\n", "x.yaml")
