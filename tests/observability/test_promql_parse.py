"""Every shipped PromQL expression parses in Prometheus's own engine (promtool, Debian's
prometheus package), and the rules file passes `promtool check rules` and unit tests."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from demo_common.tools import find_tool
from demo_observability import rules as r
from demo_observability.catalogue import all_expressions
from demo_observability.paths import RULES_FILE

pytestmark = pytest.mark.integration  # spawns promtool


def promtool(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    binary = find_tool("promtool", "PROMTOOL")  # Debian's prometheus (`make system-deps`)
    return subprocess.run(
        [binary, *args], capture_output=True, text=True, timeout=120, check=False, cwd=cwd
    )


def test_rules_file_passes_promtool_check_rules():
    done = promtool("check", "rules", str(RULES_FILE))
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"SUCCESS: {len(r.recording_rules())} rules found" in done.stdout


def test_every_dashboard_rule_and_keda_expression_parses(tmp_path):
    expressions = all_expressions()
    sources = {e.source for e in expressions}
    assert {"dashboard audience", "dashboard operator", "rule", "keda"} <= sources
    # One recording rule per expression: promtool parses each and names the bad one.
    rules = [{"record": f"check:expr_{i}", "expr": e.expr} for i, e in enumerate(expressions)]
    doc = {"groups": [{"name": "every-shipped-expression", "rules": rules}]}
    path = tmp_path / "all.yaml"
    path.write_text(yaml.safe_dump(doc))
    done = promtool("check", "rules", str(path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"SUCCESS: {len(expressions)} rules found" in done.stdout


def test_a_broken_expression_is_caught(tmp_path):
    # The check above can fail: a typo'd expression makes promtool exit non-zero.
    path = tmp_path / "bad.yaml"
    bad = {"record": "check:bad", "expr": "sum(rate(x[1m])"}
    path.write_text(yaml.safe_dump({"groups": [{"name": "bad", "rules": [bad]}]}))
    assert promtool("check", "rules", str(path)).returncode != 0


def test_recorded_kv_hit_ratio_and_chat_turns_on_synthetic_series(tmp_path):
    """promtool's rule unit test: the prefill ratio ignores the decode phase; turns split 1/2+."""
    shutil.copy(RULES_FILE, tmp_path / "rules.yaml")
    sel = "dynamo_component_router_kv_selected_cached_prefix_tokens_total"
    isl = "dynamo_component_router_input_sequence_tokens_sum"
    ttft = "loadgen_ttft_seconds_bucket"
    series = [
        {"series": f'{sel}{{phase="prefill"}}', "values": "0+300x20"},
        {"series": f'{isl}{{phase="prefill"}}', "values": "0+400x20"},
        # decode-side numbers must not leak into the audience's hit rate
        {"series": f'{sel}{{phase="decode"}}', "values": "0+0x20"},
        {"series": f'{isl}{{phase="decode"}}', "values": "0+400x20"},
    ]
    for turn, per_bucket in (("1", (0, 10, 10)), ("2", (10, 10, 10)), ("3", (10, 10, 10))):
        for le, step in zip(("0.1", "1.0", "+Inf"), per_bucket, strict=True):
            series.append({
                "series": f'{ttft}{{workload="chat",turn="{turn}",le="{le}"}}',
                "values": f"0+{step}x20",
            })  # fmt: skip
    test = {
        "rule_files": ["rules.yaml"],
        "evaluation_interval": "15s",
        "tests": [
            {
                "interval": "15s",
                "input_series": series,
                "promql_expr_test": [
                    {"expr": r.KV_HIT_RATIO, "eval_time": "3m",
                     "exp_samples": [{"labels": f"{r.KV_HIT_RATIO}", "value": 0.75}]},
                    {"expr": f"round({r.CHAT_TTFT_P95_BY_TURNS}, 0.001)", "eval_time": "3m",
                     "exp_samples": [
                         # turn 1: all 10/s in (0.1, 1]: p95 = 0.1 + 0.9 * 0.95 = 0.955
                         {"labels": '{turns="1"}', "value": 0.955},
                         # turns 2+: every request under 0.1 s: p95 = 0.095
                         {"labels": '{turns="2+"}', "value": 0.095},
                     ]},
                ],
            }
        ],
    }  # fmt: skip
    (tmp_path / "test.yaml").write_text(yaml.safe_dump(test, sort_keys=False))
    done = promtool("test", "rules", "test.yaml", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr


def test_event_annotations_see_a_counter_born_at_its_first_event(tmp_path):
    """The controller's counters appear at 1 on their first event; increase() alone misses it."""
    from demo_observability.audience import new_events

    counter = "loadgen_scenario_scale_events_total"
    expr = new_events(counter, "pool")
    (tmp_path / "empty.yaml").write_text("groups: []\n")
    born = {"series": f'{counter}{{pool="prefill"}}', "values": "_x8 1x12"}  # first event at 2m
    test = {
        "rule_files": ["empty.yaml"],
        "evaluation_interval": "15s",
        "tests": [
            {
                "interval": "15s",
                "input_series": [born],
                "promql_expr_test": [
                    {"expr": f"sum by (pool) (increase({counter}[30s]) > 0)", "eval_time": "2m15s",
                     "exp_samples": []},  # the bug this guards against
                    {"expr": expr, "eval_time": "2m15s",
                     "exp_samples": [{"labels": '{pool="prefill"}', "value": 1}]},
                    {"expr": expr, "eval_time": "1m45s", "exp_samples": []},  # before: nothing
                    {"expr": expr, "eval_time": "4m", "exp_samples": []},  # long after: nothing
                ],
            }
        ],
    }  # fmt: skip
    (tmp_path / "test.yaml").write_text(yaml.safe_dump(test, sort_keys=False))
    done = promtool("test", "rules", "test.yaml", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
