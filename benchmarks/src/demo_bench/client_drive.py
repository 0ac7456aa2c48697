"""The load generator under test, as its own process: the real Engine (Poisson arrivals,
in-flight caps, Prometheus metrics) and StreamingClient over aiohttp, offering a fixed-shape
request at a sequence of rates, then writing per-step statistics as JSON.

Running it as a separate process lets the benchmark pin it to one core and measure its CPU
apart from the stack's. Run: `python -m demo_bench.client_drive SPEC.json OUT.json`.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from demo_bench.client_stats import (
    Window,
    cores_used,
    describe,
    in_flight_stats,
    step_stats,
)
from demo_bench.client_tap import (
    CURRENT_SLOT,
    TIMING_EXTRA_BODY,
    EventCounter,
    ProbeTransport,
    TimingSlot,
)
from demo_common.tokenizer import count_chat_tokens, count_tokens
from loadgen.client.http import StreamingHttpTransport
from loadgen.client.stream import EventParsing, StreamingClient
from loadgen.client.transport import AiohttpTransport
from loadgen.clock import MonotonicClock
from loadgen.demo_script.load import LoadConfig, Mix
from loadgen.demo_script.models import Slo
from loadgen.engine import Engine
from loadgen.engine.settings import EngineSettings
from loadgen.metrics.prometheus import LoadgenMetrics
from loadgen.records import WORKLOADS, ChatRequest, Message, RequestRecord, Workload
from loadgen.runtime import settle_heap
from loadgen.workloads.base import Runner

_FILLER = (
    "The booth shows disaggregated inference: prefill and decode run on separate GPU pools, "
    "and the router sends each request where its prefix already sits in the KV cache. "
)


class DriveStep(BaseModel):
    """One load level: a target rate held for a while (the first `settle_s` not counted)."""

    model_config = ConfigDict(extra="forbid")

    rate_rps: float = Field(ge=0.0, le=1000.0)
    duration_s: float = Field(gt=0.0, le=3600.0)
    settle_s: float = Field(default=0.0, ge=0.0)


class DriveSpec(BaseModel):
    """What the driven load generator sends, and at which rates."""

    model_config = ConfigDict(extra="forbid")

    base_url: str
    model: str
    prompts_file: Path | None = Field(
        default=None, description="AIPerf's inputs.json: its messages are replayed in order"
    )
    isl_tokens: int = Field(default=200, ge=1, le=100_000, description="synthetic prompt size")
    max_tokens: int = Field(ge=1, le=100_000)
    ignore_eos: bool = True
    steps: list[DriveStep] = Field(min_length=1)
    seed: int = 1
    max_in_flight: int = Field(default=5000, ge=1)
    drain_s: float = Field(default=30.0, ge=0.0)
    server_timing: bool = Field(
        default=False, description="ask for nvext timing and read the server's per-request TTFT"
    )
    event_loop: Literal["asyncio", "uvloop"] = "uvloop"  # the app's loop (loadgen.cli)
    # The client under test: "aiohttp" + "full" is the path before 2026-12-07 (the baseline).
    transport: Literal["aiohttp", "streaming"] = "streaming"
    event_parsing: EventParsing = "fast"
    read_timeout_s: float = Field(default=120.0, gt=0.0)
    sample_interval_ms: float = Field(default=50.0, gt=0.0)


def load_prompts(spec: DriveSpec) -> list[tuple[Message, ...]]:
    """The message lists to send: AIPerf's (same workload) or one synthetic prompt."""
    if spec.prompts_file is not None:
        data = json.loads(spec.prompts_file.read_text())
        prompts: list[tuple[Message, ...]] = [
            tuple({"role": m["role"], "content": m["content"]} for m in payload["messages"])
            for session in data["data"]
            for payload in session["payloads"]
        ]
        if prompts:
            return prompts
    sentence = _FILLER.split()
    words: list[str] = []
    while count_tokens(" ".join(words)) < spec.isl_tokens:
        words += sentence
    while len(words) > 1 and count_tokens(" ".join(words[:-1])) >= spec.isl_tokens:
        words.pop()  # at most one sentence's worth
    return [({"role": "user", "content": " ".join(words)},)]


class FixedShapeWorkload:
    """Every arrival is one request: the next prompt, a unique first line (so nothing hits the
    prefix cache), `max_tokens` output tokens (with min_tokens/ignore_eos when asked)."""

    def __init__(self, spec: DriveSpec, prompts: Sequence[tuple[Message, ...]]) -> None:
        self._prompts = list(prompts)
        self._spec = spec
        self._ids = itertools.count(1)
        self._extra = TIMING_EXTRA_BODY if spec.server_timing else {}

    @property
    def name(self) -> Workload:
        return "reasoning"  # the single-request, fixed-output-length shape

    def build(self) -> ChatRequest:
        n = next(self._ids)
        messages = self._prompts[(n - 1) % len(self._prompts)]
        tag = f"[loadgen {self._spec.seed}-{n}] "
        first = {**messages[0], "content": tag + messages[0]["content"]}
        honour = self._spec.ignore_eos
        return ChatRequest(
            workload="reasoning",
            messages=(first, *messages[1:]),
            max_tokens=self._spec.max_tokens,
            min_tokens=self._spec.max_tokens if honour else None,
            ignore_eos=honour,
            extra_body=self._extra,
        )

    async def run_arrival(self, runner: Runner, intended_ns: int) -> None:
        await runner.send(self.build(), intended_ns)


class RecordingSender:
    """Wraps the streaming client: keeps every record, the in-flight count, and (with the
    timing tap) the server's own TTFT of each request."""

    def __init__(self, client: StreamingClient, server_timing: bool) -> None:
        self._client = client
        self._server_timing = server_timing
        self.records: list[RequestRecord] = []
        self.starts: list[tuple[int, int]] = []  # (intended, handed to the client), all
        self.server_ttft_ms: dict[str, float] = {}
        self.in_flight = 0

    async def send(self, request: ChatRequest, *, intended_ns: int | None = None) -> RequestRecord:
        now = time.perf_counter_ns()
        self.starts.append((now if intended_ns is None else intended_ns, now))
        slot = TimingSlot() if self._server_timing else None
        token = CURRENT_SLOT.set(slot)
        self.in_flight += 1
        try:
            record = await self._client.send(request, intended_ns=intended_ns)
        finally:
            self.in_flight -= 1
            CURRENT_SLOT.reset(token)
        self.records.append(record)
        if slot is not None and (ttft := slot.server_ttft_ms()) is not None:
            self.server_ttft_ms[record.request_id] = ttft
        return record


class _Sampler:
    """Every interval: in-flight count, this process's CPU seconds, and its own wake-up
    lateness (the event loop's lag)."""

    def __init__(self, sender: RecordingSender, interval_s: float) -> None:
        self._sender = sender
        self._interval_s = interval_s
        self.in_flight: list[tuple[int, int]] = []
        self.cpu: list[tuple[int, float]] = []
        self.lateness: list[tuple[int, float]] = []

    def take(self) -> None:
        now = time.perf_counter_ns()
        self.in_flight.append((now, self._sender.in_flight))
        self.cpu.append((now, time.process_time()))

    async def run(self) -> None:
        interval_ns = int(self._interval_s * 1e9)
        while True:
            due = time.perf_counter_ns() + interval_ns
            await asyncio.sleep(self._interval_s)
            now = time.perf_counter_ns()
            self.lateness.append((now, (now - due) / 1e6))
            self.take()
            # The drive keeps every record for its statistics, which the app never does: out
            # of the collector's scans (O(1)), or its full collections grow with the run
            # (measured: 254 ms pauses after 15 s at 660 streams).
            gc.freeze()


async def drive(spec: DriveSpec) -> dict[str, Any]:
    slos = {w: Slo(ttft_p95_s=0.6, itl_p95_s=0.06, max_gap_p95_s=0.5) for w in WORKLOADS}
    workload = FixedShapeWorkload(spec, load_prompts(spec))
    windows: list[tuple[Window, float]] = []
    counter = EventCounter()
    transport = (
        AiohttpTransport(read_timeout_s=spec.read_timeout_s)
        if spec.transport == "aiohttp"
        else StreamingHttpTransport(read_timeout_s=spec.read_timeout_s)
    )
    async with transport as base:
        client = StreamingClient(
            ProbeTransport(base, counter), base_url=spec.base_url, model=spec.model,
            count_tokens=count_tokens, count_chat_tokens=count_chat_tokens,
            request_timeout_s=spec.read_timeout_s * 2, event_parsing=spec.event_parsing,
        )  # fmt: skip
        sender = RecordingSender(client, spec.server_timing)
        sampler = _Sampler(sender, spec.sample_interval_ms / 1000)

        def config(rate: float) -> LoadConfig:
            return LoadConfig(rps=rate, mix=Mix(reasoning=1), max_in_flight=spec.max_in_flight)

        engine = Engine(
            sender=sender,
            drivers=dict.fromkeys(WORKLOADS, workload),
            config=config(spec.steps[0].rate_rps),
            slos=slos,
            clock=MonotonicClock(),
            settings=EngineSettings(seed=spec.seed, drain_s=spec.drain_s),
            metrics=LoadgenMetrics(slos),  # the app's per-request cost is part of the client's
        )
        async with engine, asyncio.TaskGroup() as group:
            sampler.take()
            sampling = group.create_task(sampler.run())
            await engine.start()
            for index, step in enumerate(spec.steps):
                if index:
                    engine.configure(config(step.rate_rps))
                start = time.perf_counter_ns()
                await asyncio.sleep(step.duration_s)
                settle = int(step.settle_s * 1e9)
                windows.append((Window(start + settle, time.perf_counter_ns()), step.rate_rps))
            summary = await engine.stop()
            sampler.take()
            sampling.cancel()
    steps = []
    for window, rate in windows:
        stats = step_stats(
            sender.records,
            sender.starts,
            window,
            rate,
            sse_events=counter.between(window.start_ns, window.end_ns),
            server_ttft_ms=sender.server_ttft_ms if spec.server_timing else None,
        )
        stats["in_flight"] = in_flight_stats(sampler.in_flight, window)
        stats["client_cpu_cores"] = cores_used(sampler.cpu, window)
        stats["loop_lag_ms"] = describe([v for at, v in sampler.lateness if window.holds(at)])
        stats["window_ns"] = [window.start_ns, window.end_ns]
        steps.append(stats)
    return {
        "steps": steps,
        "requests": len(sender.records),
        "server_timing_found": len(sender.server_ttft_ms),
        "engine": {"dispatch_lag_ms": summary["client"]["dispatch_lag_ms"]},
        "event_loop": spec.event_loop,
    }


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 2:
        print("usage: client_drive SPEC.json OUT.json", file=sys.stderr)
        return 2
    try:
        spec = DriveSpec.model_validate_json(Path(args[0]).read_text())
    except (OSError, ValidationError) as exc:
        print(f"client_drive: bad spec {args[0]}: {exc}", file=sys.stderr)
        return 2
    settle_heap()  # as the app does at start
    if spec.event_loop == "uvloop":
        import uvloop

        result = uvloop.run(drive(spec))
    else:
        result = asyncio.run(drive(spec))
    Path(args[1]).write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
