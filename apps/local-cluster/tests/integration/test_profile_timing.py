"""The real mocker times requests by our profile: measured TTFT/ITL x speed match the model.

Starts a real Dynamo frontend plus one prefill and one decode mocker worker with the prod
profile (`h200-70b-fp8`), on free ports, in its own discovery folder and namespace.

The host's own overhead (HTTP, tokenising a 7k-token prompt: ~10–25 ms on a 2-core box) is
not divided by the speed factor, so prefill is checked differentially: the same long prompt
fresh, then fully cached, has the same overhead and KV transfer; the TTFT difference is
prefill(prompt) - prefill(uncached rest) / speed. ITL is the median gap of a 200-token stream.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from demo_common.net import free_port
from localcluster.modeldir import write_model_dir
from localcluster.perfmodel import PROD_PROFILE, HardwareProfile, hardware_profile

pytestmark = pytest.mark.integration

SPEED = 5.0  # high enough to be quick, low enough that host jitter stays small in model time
READY_TIMEOUT_S = 60.0
PREFILL_TOLERANCE = 0.20
ITL_TOLERANCE = 0.15
HOST_OVERHEAD_ALLOWANCE_MS = 60.0  # real (unscaled) ms a request may spend outside the model


@dataclass(frozen=True)
class Stack:
    url: str
    model_name: str
    profile: HardwareProfile


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    workdir = tmp_path_factory.mktemp("profile-timing")
    profile = hardware_profile(PROD_PROFILE)
    npz = profile.write_npz(workdir / "profile.npz")
    model_dir = write_model_dir(workdir / "model", "70b")
    planes = ["--discovery-backend", "file", "--request-plane", "tcp", "--event-plane", "zmq"]
    env = {
        **os.environ,
        "DYN_FILE_KV": str(workdir / "discovery"),
        "DYN_NAMESPACE": f"proftest-{uuid.uuid4().hex[:8]}",
        "DYN_EVENT_PLANE": "zmq",
    }
    port = free_port()
    commands: list[tuple[str, list[str], dict[str, str]]] = [
        ("frontend", [sys.executable, "-m", "dynamo.frontend", "--http-host", "127.0.0.1",
                      "--http-port", str(port), "--router-mode", "kv",
                      "--kv-cache-block-size", str(profile.block_size), *planes], env),
    ]  # fmt: skip
    for mode in ("prefill", "decode"):
        argv = [
            sys.executable, "-m", "dynamo.mocker", "--model-path", str(model_dir),
            "--model-name", profile.model_name, "--disaggregation-mode", mode,
            "--speedup-ratio", str(SPEED), *profile.mocker_args(npz, speedup_ratio=SPEED), *planes,
        ]  # fmt: skip
        commands.append((mode, argv, {**env, "DYN_SYSTEM_PORT": str(free_port())}))
    children: list[subprocess.Popen[bytes]] = []
    try:
        for name, argv, child_env in commands:
            log = (workdir / f"{name}.log").open("wb")
            children.append(
                subprocess.Popen(
                    argv, env=child_env, stdout=log, stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        asyncio.run(_wait_ready(url, children, workdir))
        yield Stack(url, profile.model_name, profile)
    finally:
        for child in children:
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGTERM)
        for child in children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()


def _log_tails(workdir: Path) -> dict[str, str]:
    return {p.name: p.read_text()[-2000:] for p in workdir.glob("*.log")}


async def _wait_ready(url: str, children: list[subprocess.Popen[bytes]], workdir: Path) -> None:
    """Until the frontend routes to a prefill worker (else it would prefill on the decoder)."""
    deadline_ns = time.perf_counter_ns() + int(READY_TIMEOUT_S * 1e9)
    async with aiohttp.ClientSession() as session:
        while time.perf_counter_ns() < deadline_ns:
            if any(child.poll() is not None for child in children):
                pytest.fail(f"a Dynamo process exited during start-up: {_log_tails(workdir)}")
            try:
                async with session.get(f"{url}/metrics") as resp:
                    text = await resp.text()
                async with session.get(f"{url}/v1/models") as resp:
                    models = await resp.json()
                if models.get("data") and 'worker_type="prefill"} 1' in text:
                    return
            except (aiohttp.ClientError, ValueError):
                pass
            await asyncio.sleep(0.25)
    pytest.fail(f"stack not ready within {READY_TIMEOUT_S} s")


@dataclass(frozen=True)
class Measured:
    ttft_ms: float
    gaps_ms: list[float]
    prompt_tokens: int
    cached_tokens: int


def _prompt(seed: int, words: int) -> list[dict[str, str]]:
    rnd = random.Random(seed)
    vocab = ["harbor", "lantern", "meadow", "copper", "violet", "summit", "orbit", "falcon"]
    text = " ".join(f"{rnd.choice(vocab)}{rnd.randint(0, 999)}" for _ in range(words))
    return [{"role": "user", "content": text}]


async def _stream(stack: Stack, messages: list[dict[str, str]], max_tokens: int) -> Measured:
    body = {
        "model": stack.model_name,
        "messages": messages,
        "max_tokens": max_tokens,
        "ignore_eos": True,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    stamps_ns: list[int] = []
    usage: dict[str, object] = {}
    async with aiohttp.ClientSession() as session:
        sent_ns = time.perf_counter_ns()
        async with session.post(f"{stack.url}/v1/chat/completions", json=body) as resp:
            assert resp.status == 200, await resp.text()
            async for raw in resp.content:
                line = raw.strip()
                if not line.startswith(b"data:") or line == b"data: [DONE]":
                    continue
                event = json.loads(line[5:])
                usage = event.get("usage") or usage
                choices = event.get("choices") or []
                if choices and choices[0].get("delta", {}).get("content"):
                    stamps_ns.append(time.perf_counter_ns())
    details = usage.get("prompt_tokens_details") or {}
    assert isinstance(details, dict)
    return Measured(
        ttft_ms=(stamps_ns[0] - sent_ns) / 1e6,
        gaps_ms=[(b - a) / 1e6 for a, b in itertools.pairwise(stamps_ns)],
        prompt_tokens=int(str(usage["prompt_tokens"])),
        cached_tokens=int(str(details.get("cached_tokens") or 0)),
    )


@pytest.fixture
async def warm(stack: Stack) -> Stack:
    await _stream(stack, _prompt(0, 20), 4)  # the first request of a stack pays one-off costs
    return stack


async def test_long_prompt_prefill_follows_profile(warm: Stack) -> None:
    profile = warm.profile
    measured_diffs, predicted_diffs = [], []
    for seed in (1, 2, 3):
        messages = _prompt(seed, 3100)  # ~7k Llama-3 tokens
        fresh = await _stream(warm, messages, 2)
        cached = await _stream(warm, messages, 2)
        assert fresh.cached_tokens == 0
        assert cached.cached_tokens > 0.9 * cached.prompt_tokens
        assert 6500 <= fresh.prompt_tokens <= 7500
        measured_diffs.append((fresh.ttft_ms - cached.ttft_ms) * SPEED)
        predicted_diffs.append(
            profile.idle_ttft_ms(fresh.prompt_tokens)
            - profile.idle_ttft_ms(cached.prompt_tokens, cached.cached_tokens)
        )
    measured = statistics.median(measured_diffs)
    predicted = statistics.median(predicted_diffs)
    print(f"prefill diff x speed: measured {measured_diffs} ms, predicted {predicted:.1f} ms")
    assert abs(measured / predicted - 1) <= PREFILL_TOLERANCE, (measured_diffs, predicted)


async def test_short_prompt_ttft_and_itl_follow_profile(warm: Stack) -> None:
    profile = warm.profile
    result = await _stream(warm, _prompt(7, 60), 200)
    assert len(result.gaps_ms) >= 150  # events may carry two tokens now and then
    itl_ms = statistics.median(result.gaps_ms) * SPEED
    predicted_itl = profile.itl_ms(1, result.prompt_tokens + 100)
    print(f"ITL x speed {itl_ms:.2f} ms vs {predicted_itl:.2f} ms predicted")
    assert abs(itl_ms / predicted_itl - 1) <= ITL_TOLERANCE, (itl_ms, predicted_itl)
    predicted_ttft = profile.idle_ttft_ms(result.prompt_tokens)
    ttft_ms = result.ttft_ms * SPEED
    upper = predicted_ttft * (1 + PREFILL_TOLERANCE) + HOST_OVERHEAD_ALLOWANCE_MS * SPEED
    assert predicted_ttft * (1 - PREFILL_TOLERANCE) <= ttft_ms <= upper, (ttft_ms, predicted_ttft)
