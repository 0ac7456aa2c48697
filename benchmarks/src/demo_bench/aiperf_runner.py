"""AIPerf, the baseline of the client benchmark: its own pinned venv (its dependencies are not
ai-dynamo's), the command line of one offline run against the local stack, and the parsing of
its exports into the same terms as the load generator's results.

Offline: `--tokenizer` points at the model folder the stack writes (tokenizer.json + config);
HF_ENDPOINT points at a closed local port so any hub access fails at once and visibly.
HF_HUB_OFFLINE must stay unset: AIPerf 0.13.0 then treats a local path as a hub repo id.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from demo_bench.client_stats import describe
from demo_bench.procs import BenchError

AIPERF_VERSION = "0.13.0"
REQUIREMENTS = Path(__file__).with_name("aiperf-requirements.txt")
CLOSED_HUB_ENDPOINT = "http://127.0.0.1:9"  # discard port: nothing listens, refused at once
_STAMP = ".requirements-sha256"


class AiperfRun(BaseModel):
    """One AIPerf profile run: synthetic chat at a fixed ISL/OSL and Poisson rate."""

    model_config = ConfigDict(extra="forbid")

    url: str
    model: str
    tokenizer_dir: Path
    isl_tokens: int = Field(ge=1)
    osl_tokens: int = Field(ge=1)
    rate_rps: float = Field(gt=0)
    request_count: int = Field(ge=1)
    seed: int = 1
    artifact_dir: Path


def aiperf_argv(exe: Path, run: AiperfRun) -> list[str]:
    """The command line; the request body matches the load generator's (max_tokens,
    min_tokens + ignore_eos, include_usage + continuous_usage_stats, streaming)."""
    extra = {"ignore_eos": True, "min_tokens": run.osl_tokens}
    return [
        str(exe), "profile",
        "--model", run.model,
        "--url", run.url,
        "--endpoint-type", "chat",
        "--streaming",
        "--tokenizer", str(run.tokenizer_dir),
        "--synthetic-input-tokens-mean", str(run.isl_tokens),
        "--synthetic-input-tokens-stddev", "0",
        "--output-tokens-mean", str(run.osl_tokens),
        "--output-tokens-stddev", "0",
        "--extra-inputs", json.dumps(extra),
        "--use-legacy-max-tokens",
        "--use-server-token-count",
        "--per-chunk-usage",
        "--request-rate", f"{run.rate_rps:g}",
        "--arrival-pattern", "poisson",
        "--request-count", str(run.request_count),
        "--random-seed", str(run.seed),
        "--ui", "none",
        "--no-server-metrics",
        "--no-gpu-telemetry",
        "--output-artifact-dir", str(run.artifact_dir),
    ]  # fmt: skip


def offline_env(base: Mapping[str, str]) -> dict[str, str]:
    """`base` with the hub unreachable and telemetry off (see module docstring)."""
    env = {k: v for k, v in base.items() if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    env.update(HF_ENDPOINT=CLOSED_HUB_ENDPOINT, HF_HUB_DISABLE_TELEMETRY="1", DO_NOT_TRACK="1")
    return env


def ensure_venv(venv: Path, uv: str, log: Callable[[str], None]) -> Path:
    """The `aiperf` executable of a venv built from the pinned requirements (rebuilt only when
    they change)."""
    exe = venv / "bin" / "aiperf"
    wanted = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    stamp = venv / _STAMP
    if exe.exists() and stamp.exists() and stamp.read_text().strip() == wanted:
        return exe
    log(f"installing AIPerf {AIPERF_VERSION} into {venv} (pinned: {REQUIREMENTS.name}) ...")
    steps = [
        [uv, "venv", "--quiet", "--allow-existing", "--python", sys.executable, str(venv)],
        [uv, "pip", "sync", "--quiet", "--python", str(venv / "bin" / "python"), str(REQUIREMENTS)],
    ]
    for argv in steps:
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise BenchError(f"`{' '.join(argv[:3])} ...` failed: {done.stderr.strip()[-600:]}")
    stamp.write_text(wanted + "\n")
    return exe


def parse_aiperf(artifact_dir: Path) -> dict[str, Any]:
    """AIPerf's results in the benchmark's terms (ms; rates per second)."""
    summary = json.loads((artifact_dir / "profile_export_aiperf.json").read_text())
    starts: list[int] = []
    ends: list[int] = []
    ttft: list[float] = []
    errors = 0
    with (artifact_dir / "profile_export.jsonl").open() as rows:
        for line in rows:
            if not line.strip():
                continue
            row = json.loads(line)
            if row.get("error"):
                errors += 1
            meta = row.get("metadata") or {}
            if isinstance(meta.get("request_start_ns"), int):
                starts.append(meta["request_start_ns"])
            if isinstance(meta.get("request_end_ns"), int):
                ends.append(meta["request_end_ns"])
            value = ((row.get("metrics") or {}).get("time_to_first_token") or {}).get("value")
            if isinstance(value, int | float):
                ttft.append(float(value))
    starts.sort()
    span_s = (starts[-1] - starts[0]) / 1e9 if len(starts) > 1 else 0.0

    def stat(name: str) -> dict[str, float | None]:
        m = summary.get(name) or {}
        return {"mean": _r(m.get("avg"))} | {k: _r(m.get(k)) for k in ("p50", "p95", "p99", "max")}

    return {
        "version": summary.get("aiperf_version"),
        "requests": len(starts),
        # wall-clock ns (time.time_ns) of the first send and the last response end
        "load_window_wall_ns": [starts[0], max(ends)] if starts and ends else None,
        "errors": errors,
        "achieved_send_rps": round((len(starts) - 1) / span_s, 2) if span_s else None,
        "completed_rps": _r((summary.get("request_throughput") or {}).get("avg")),
        "ttft_ms": describe(ttft) if ttft else stat("time_to_first_token"),
        "itl_per_request_ms": stat("inter_token_latency"),
        "inter_chunk_ms": stat("inter_chunk_latency"),
        "credit_to_start_ms": stat("credit_to_start_latency"),
        "input_tokens_mean": _r((summary.get("usage_prompt_tokens") or {}).get("avg")),
        "output_tokens_mean": _r((summary.get("usage_completion_tokens") or {}).get("avg")),
    }


def _r(value: Any) -> float | None:
    return round(float(value), 3) if isinstance(value, int | float) else None


def main(argv: list[str] | None = None) -> int:
    """`python -m demo_bench.aiperf_runner [VENV]`: build (or check) AIPerf's venv."""
    args = sys.argv[1:] if argv is None else argv
    venv = Path(args[0] if args else "build/aiperf-venv")
    uv = os.environ.get("UV") or shutil.which("uv") or "uv"  # uv sets UV for `uv run`
    try:
        exe = ensure_venv(venv, uv, lambda m: print(m, flush=True))
    except BenchError as exc:
        print(f"aiperf: {exc}", file=sys.stderr)
        return 1
    print(f"AIPerf {AIPERF_VERSION}: {exe}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
