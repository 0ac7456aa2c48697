"""AIPerf baseline plumbing: the command line (same request body as the load generator,
offline tokenizer), its environment, and the parsing of its export files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from demo_bench.aiperf_runner import (
    AIPERF_VERSION,
    CLOSED_HUB_ENDPOINT,
    REQUIREMENTS,
    AiperfRun,
    aiperf_argv,
    offline_env,
    parse_aiperf,
)


def make_run(tmp_path: Path) -> AiperfRun:
    return AiperfRun(
        url="http://127.0.0.1:1234", model="meta-llama/Llama-3.1-8B-Instruct",
        tokenizer_dir=tmp_path / "model", isl_tokens=200, osl_tokens=16, rate_rps=100.0,
        request_count=3000, artifact_dir=tmp_path / "out",
    )  # fmt: skip


def flag(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


def test_argv_matches_the_load_generators_request(tmp_path: Path) -> None:
    argv = aiperf_argv(Path("/venv/bin/aiperf"), make_run(tmp_path))
    assert argv[:2] == ["/venv/bin/aiperf", "profile"]
    assert flag(argv, "--tokenizer") == str(tmp_path / "model")  # local, never the hub
    assert json.loads(flag(argv, "--extra-inputs")) == {"ignore_eos": True, "min_tokens": 16}
    # max_tokens (not max_completion_tokens), cumulative usage on every chunk, like loadgen
    for name in ("--streaming", "--use-legacy-max-tokens", "--use-server-token-count",
                 "--per-chunk-usage", "--no-server-metrics"):  # fmt: skip
        assert name in argv
    assert flag(argv, "--request-rate") == "100"
    assert flag(argv, "--arrival-pattern") == "poisson"
    assert flag(argv, "--request-count") == "3000"
    assert flag(argv, "--output-artifact-dir") == str(tmp_path / "out")


def test_offline_env_closes_the_hub_and_keeps_local_paths_usable() -> None:
    env = offline_env({"PATH": "/bin", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"})
    assert env["HF_ENDPOINT"] == CLOSED_HUB_ENDPOINT
    assert env["HF_HUB_DISABLE_TELEMETRY"] == "1"
    assert "HF_HUB_OFFLINE" not in env
    assert "TRANSFORMERS_OFFLINE" not in env
    assert env["PATH"] == "/bin"


def test_requirements_pin_aiperf_exactly() -> None:
    pins = [line for line in REQUIREMENTS.read_text().splitlines() if "==" in line]
    assert f"aiperf=={AIPERF_VERSION}" in pins
    assert all(not line.startswith("-e") for line in pins)


def write_exports(folder: Path, rows: list[dict[str, object]]) -> None:
    folder.mkdir(parents=True)
    summary = {
        "aiperf_version": "0.13.0",
        "request_throughput": {"unit": "requests/sec", "avg": 98.7},
        "time_to_first_token": {"unit": "ms", "avg": 90.0, "p50": 88.0, "p95": 120.0},
        "inter_token_latency": {"unit": "ms", "avg": 9.3, "p50": 9.2, "p95": 11.4, "p99": 12.0},
        "inter_chunk_latency": {"unit": "ms", "avg": 9.3, "p50": 9.3, "p95": 16.7},
        "credit_to_start_latency": {"unit": "ms", "avg": 3.0, "p50": 0.8, "p99": 25.6},
        "usage_prompt_tokens": {"avg": 209.0},
        "usage_completion_tokens": {"avg": 16.0},
    }
    (folder / "profile_export_aiperf.json").write_text(json.dumps(summary))
    with (folder / "profile_export.jsonl").open("w") as out:
        for row in rows:
            out.write(json.dumps(row) + "\n")


def row(start_ns: int, ttft_ms: float | None, error: object = None) -> dict[str, object]:
    metrics = {} if ttft_ms is None else {"time_to_first_token": {"value": ttft_ms}}
    return {
        "metadata": {"request_start_ns": start_ns, "request_end_ns": start_ns + 500_000_000},
        "metrics": metrics,
        "error": error,
    }


def test_parse_exports(tmp_path: Path) -> None:
    second = 1_000_000_000
    rows = [row(i * second // 100, 80.0 + i) for i in range(101)]  # 101 sends over 1 s
    rows.append(row(second // 2, None, error={"code": 500, "message": "boom"}))
    write_exports(tmp_path / "out", rows)
    parsed = parse_aiperf(tmp_path / "out")
    assert parsed["version"] == "0.13.0"
    assert parsed["requests"] == 102
    assert parsed["errors"] == 1
    assert parsed["achieved_send_rps"] == pytest.approx(101.0)
    assert parsed["ttft_ms"]["p50"] == pytest.approx(130.0)  # exact, from the rows
    assert parsed["ttft_ms"]["count"] == 101
    assert parsed["itl_per_request_ms"] == {
        "mean": 9.3, "p50": 9.2, "p95": 11.4, "p99": 12.0, "max": None,
    }  # fmt: skip
    assert parsed["credit_to_start_ms"]["p99"] == 25.6
    assert parsed["load_window_wall_ns"] == [0, second + second // 2]
    assert parsed["output_tokens_mean"] == 16.0
