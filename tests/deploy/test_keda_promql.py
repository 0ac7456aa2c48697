"""The KEDA queries run in Prometheus's own engine (promtool) on synthetic load-generator
histograms: valid PromQL, per-workload SLO ratios, no traffic reads as 0."""

from __future__ import annotations

import math
import subprocess

import pytest
import yaml
from deploy_helpers import K8S

from demo_common.tools import find_tool

# promtool comes with Debian's prometheus (`make system-deps`): missing, the tests fail.
pytestmark = pytest.mark.integration

EDGES = [0.1, 0.3, 0.6, 1.0, 2.0, 3.0, 5.0, math.inf]
SLO_TTFT = {"chat": 0.6, "summarization": 3.0, "reasoning": 0.6}
SLO_ITL = {"chat": 0.06, "summarization": 0.06, "reasoning": 0.06}
ITL_EDGES = [0.01, 0.02, 0.04, 0.06, 0.1, 0.2, math.inf]


def base_query(name: str) -> str:
    (doc,) = yaml.safe_load_all((K8S / "keda/base" / f"scaledobject-{name}.yaml").read_text())
    return doc["spec"]["triggers"][0]["metadata"]["query"]


def histogram_quantile(q: float, edges: list[float], cumulative: list[float]) -> float:
    """Prometheus's interpolation over cumulative bucket rates (first bucket starts at 0)."""
    rank = q * cumulative[-1]
    for i, (edge, count) in enumerate(zip(edges, cumulative, strict=True)):
        if count >= rank:
            if math.isinf(edge):
                return edges[i - 1]
            lower = edges[i - 1] if i else 0.0
            before = cumulative[i - 1] if i else 0.0
            return lower + (edge - lower) * (rank - before) / (count - before)
    raise AssertionError("unreachable")


def series(
    metric: str, labels: dict[str, str], edges: list[float], per_step: list[int]
) -> list[dict]:
    out = []
    for edge, step in zip(edges, per_step, strict=True):
        le = "+Inf" if math.isinf(edge) else repr(edge)
        label_text = ",".join(f'{k}="{v}"' for k, v in {**labels, "le": le}.items())
        out.append({"series": f"{metric}_bucket{{{label_text}}}", "values": f"0+{step}x40"})
    return out


def slo_series(metric: str, slos: dict[str, float]) -> list[dict]:
    return [
        {"series": f'{metric}{{workload="{w}"}}', "values": f"{v}+0x40"} for w, v in slos.items()
    ]


def run_promtool(
    tmp_path, query: str, inputs: list[dict], expected: float
) -> subprocess.CompletedProcess:
    rules = {"groups": [{"name": "keda", "rules": [{"record": "keda:signal", "expr": query}]}]}
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump(rules))
    check = subprocess.run(
        [find_tool("promtool", "PROMTOOL"), "check", "rules", str(tmp_path / "rules.yaml")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    test = {
        "rule_files": ["rules.yaml"],
        "evaluation_interval": "15s",
        "tests": [
            {
                "interval": "15s",
                "input_series": inputs,
                "promql_expr_test": [
                    {
                        # Compared at 1e-3: Prometheus's round() is floor(v * 1000 + 0.5) / 1000.
                        "expr": f"round({query}, 0.001)",
                        "eval_time": "5m",
                        "exp_samples": [
                            {"labels": "{}", "value": math.floor(expected * 1000 + 0.5) / 1000}
                        ],
                    }
                ],
            }
        ],
    }
    (tmp_path / "test.yaml").write_text(yaml.safe_dump(test, sort_keys=False))
    return subprocess.run(
        [find_tool("promtool", "PROMTOOL"), "test", "rules", str(tmp_path / "test.yaml")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
    )


def test_prefill_signal_is_the_worst_per_workload_ttft_slo_ratio(tmp_path):
    # chat (two turns) p95 = 0.9 s against 0.6 s; summarization p95 = 2.875 s against 3.0 s;
    # reasoning idle. A plain max of p95s would say 2.875 / 0.6 = 4.8: summarization's
    # natural latency would dominate. The per-workload ratio says chat, at 1.5.
    chat_turn1 = [0, 30, 50, 60, 60, 60, 60, 60]
    chat_turn2 = [0, 20, 30, 40, 40, 40, 40, 40]
    summary = [0, 0, 0, 10, 60, 100, 100, 100]
    idle = [0] * len(EDGES)
    inputs = (
        series("loadgen_ttft_seconds", {"workload": "chat", "turn": "1"}, EDGES, chat_turn1)
        + series("loadgen_ttft_seconds", {"workload": "chat", "turn": "2"}, EDGES, chat_turn2)
        + series("loadgen_ttft_seconds", {"workload": "summarization", "turn": "1"}, EDGES, summary)
        + series("loadgen_ttft_seconds", {"workload": "reasoning", "turn": "1"}, EDGES, idle)
        + slo_series("loadgen_slo_ttft_seconds", SLO_TTFT)
    )
    chat = [a + b for a, b in zip(chat_turn1, chat_turn2, strict=True)]
    ratios = {
        "chat": histogram_quantile(0.95, EDGES, chat) / SLO_TTFT["chat"],
        "summarization": histogram_quantile(0.95, EDGES, summary) / SLO_TTFT["summarization"],
    }
    assert ratios["summarization"] < 1.0 < ratios["chat"]
    done = run_promtool(tmp_path, base_query("prefill"), inputs, max(ratios.values()))
    assert done.returncode == 0, done.stdout + done.stderr


def test_decode_signal_is_the_worst_per_workload_itl_slo_ratio(tmp_path):
    reasoning = [0, 10, 40, 80, 95, 100, 100]
    chat = [0, 60, 95, 100, 100, 100, 100]
    inputs = (
        series("loadgen_itl_seconds", {"workload": "reasoning"}, ITL_EDGES, reasoning)
        + series("loadgen_itl_seconds", {"workload": "chat"}, ITL_EDGES, chat)
        + slo_series("loadgen_slo_itl_seconds", SLO_ITL)
    )
    expected = max(
        histogram_quantile(0.95, ITL_EDGES, reasoning) / SLO_ITL["reasoning"],
        histogram_quantile(0.95, ITL_EDGES, chat) / SLO_ITL["chat"],
    )
    done = run_promtool(tmp_path, base_query("decode"), inputs, expected)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize(
    ("name", "metric"), [("prefill", "loadgen_ttft_seconds"), ("decode", "loadgen_itl_seconds")]
)
def test_no_traffic_reads_as_zero(tmp_path, name, metric):
    inputs = series(metric, {"workload": "chat"}, EDGES, [0] * len(EDGES)) + slo_series(
        metric.replace("loadgen_", "loadgen_slo_"), SLO_TTFT
    )
    done = run_promtool(tmp_path, base_query(name), inputs, 0.0)
    assert done.returncode == 0, done.stdout + done.stderr
