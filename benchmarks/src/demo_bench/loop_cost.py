"""Event-loop CPU the load generator spends per finished answer and per 1 Hz tick (no network).

The client's saturation guard (docs/measurement-conventions.md) flags any loop stall over
50 ms; this measures the bookkeeping that runs in the loop for each record (Prometheus, live
window, session tally, JSONL log, the rehearsal's collector) and for each live snapshot, on
synthetic decode-stress records, so a regression shows as a number, not as an invalid run.
Usage: python -m demo_bench.loop_cost --out FILE.json [--answers N] [--tokens T]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from demo_bench.rehearsal.run import CollectSink
from loadgen.clock import NS_PER_S
from loadgen.demo_script import load_demo_script
from loadgen.metrics.live import LiveWindow
from loadgen.metrics.prometheus import LoadgenMetrics
from loadgen.metrics.recorder import JsonlLog
from loadgen.metrics.snapshot import build_snapshot, client_health
from loadgen.metrics.tally import Tally, latency_digest
from loadgen.records import WORKLOADS, RequestRecord, Workload

MS = 1_000_000


def answer(rng: random.Random, workload: Workload, tokens: int, turn: int = 1) -> RequestRecord:
    """A finished streamed answer: one token per event, 15-60 ms apart (decode stress)."""
    first = rng.randrange(100 * MS, 30_000 * MS)
    gaps = [(rng.randrange(15 * MS, 60 * MS), 1) for _ in range(tokens - 1)]
    return RequestRecord(
        request_id=f"r{rng.getrandbits(32)}", workload=workload, turn=turn,
        conversation_id=None, status="ok", reason="none", intended_ns=0, send_ns=MS,
        first_token_ns=first, second_token_ns=first + gaps[0][0] if gaps else None,
        last_token_ns=first + sum(g for g, _ in gaps), gaps=gaps, content_events=tokens,
        input_tokens=200, output_tokens=tokens, requested_output_tokens=tokens,
    )  # fmt: skip


def _cpu_ms(fn: Callable[[], None], repeat: int) -> float:
    """Best of `repeat` thread-CPU times (ms): other processes' load does not count."""
    best = float("inf")
    for _ in range(repeat):
        start = time.thread_time()
        fn()
        best = min(best, time.thread_time() - start)
    return best * 1000


def measure(answers: int = 60, tokens: int = 2000, repeat: int = 3) -> dict[str, Any]:
    rng = random.Random(0)
    records = [answer(rng, "reasoning", tokens) for _ in range(answers)]
    slos = load_demo_script(None).slos
    metrics = LoadgenMetrics(slos)
    live, session, collect = LiveWindow(30), Tally(), CollectSink()
    live.restart(0)
    with tempfile.TemporaryDirectory() as tmp:
        log = JsonlLog(Path(tmp) / "requests.jsonl")

        def record_path() -> None:  # what Engine._record does, with the rehearsal's sinks
            for record in records:
                metrics.observe(record)
                digest = latency_digest(record)
                live.add_record(record, 5 * NS_PER_S, digest)
                session.add_record(record, digest)
                log.write(record)
                collect.write(record)

        per_answer_ms = _cpu_ms(record_path, repeat) / answers
        log.close()
    # A full window: 30 one-second bins of decode-stress traffic (5 answers + 5 chat turns).
    window = LiveWindow(30)
    window.restart(0)
    for second in range(30):
        for _ in range(5):
            window.add_record(answer(rng, "reasoning", tokens // 2), second * NS_PER_S + 1)
        for turn in range(1, 6):
            window.add_record(answer(rng, "chat", 300, turn), second * NS_PER_S + 2)
        window.add_arrival("reasoning", MS, second * NS_PER_S + 3)

    def tick() -> None:  # what Engine.snapshot does once per second
        tally, span_s = window.tally(29 * NS_PER_S + 5)
        build_snapshot(
            at=datetime.now(UTC), state="running", tally=tally, span_s=span_s,
            targets=dict.fromkeys(WORKLOADS, 1.0), lanes=dict.fromkeys(WORKLOADS, (1, 1, 0)),
            slos=slos, client=client_health(0, tally.dispatch_lag, 50.0),
        )  # fmt: skip

    return {
        "answers": answers,
        "tokens_per_answer": tokens,
        "record_path_cpu_ms_per_answer": round(per_answer_ms, 3),
        "snapshot_tick_cpu_ms": round(_cpu_ms(tick, max(repeat, 5)), 3),
        "python": sys.version.split()[0],
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m demo_bench.loop_cost", description=__doc__)
    parser.add_argument("--out", type=Path, required=True, help="JSON result file")
    parser.add_argument("--answers", type=int, default=60)
    parser.add_argument("--tokens", type=int, default=2000)
    args = parser.parse_args(argv)
    if args.answers < 1 or args.tokens < 2:
        parser.error("--answers must be >= 1 and --tokens >= 2")
    result = measure(args.answers, args.tokens)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
