"""Diagnostic harness (client-loop-lag record): the heavy phases of the demo on the real stack
through demo_bench.rehearsal, optionally with a stall sampler on the event loop. Run from the
repo root: python lagprobe.py OUT INSTRUMENT(0|1) PREFILL_S DECODE_S."""

import asyncio
import asyncio.events
import atexit
import collections
import gc
import json
import os
import sys
import threading
import time
import traceback
from pathlib import Path

import demo_bench.rehearsal.run as run_mod
from loadgen.demo_script import default_script_path

HEAVY = """
layout: {budget_gpus: 8, initial: {prefill: 2, decode: 2}}
phases:
  - {id: prefill-stress, name: Prefill Stress, caption: heavy, duration: PREFILLs,
     preset: prefill-stress}
  - {id: decode-stress, name: Decode Stress, caption: heavy, duration: DECODEs,
     preset: decode-stress}
"""

out = Path(sys.argv[1])
instrument = sys.argv[2] == "1"
prefill_s, decode_s = sys.argv[3], sys.argv[4]
out.mkdir(parents=True, exist_ok=True)
text = default_script_path().read_text(encoding="utf-8")
script = out / "heavy.yaml"
script.write_text(
    text[: text.index("\nlayout:")]
    + "\n"
    + HEAVY.replace("PREFILL", prefill_s).replace("DECODE", decode_s),
    encoding="utf-8",
)

state = {"start": 0.0}
slow: list[tuple[float, float, str]] = []
stacks: collections.Counter[str] = collections.Counter()
gcs: list[tuple[float, int, float]] = []
main_tid = threading.get_ident()

if instrument:
    _orig = asyncio.events.Handle._run

    def _run(self):  # type: ignore[no-untyped-def]
        t0 = time.perf_counter()
        c0 = time.thread_time()
        state["start"] = t0
        try:
            return _orig(self)
        finally:
            d = time.perf_counter() - t0
            state["start"] = 0.0
            if d > 0.02:
                slow.append((time.time(), d, repr(self)[:300], time.thread_time() - c0))

    asyncio.events.Handle._run = _run

    def watchdog() -> None:
        while True:
            time.sleep(0.004)
            s = state["start"]
            if s and time.perf_counter() - s > 0.02:
                frame = sys._current_frames().get(main_tid)
                if frame is None:
                    continue
                st = traceback.extract_stack(frame)
                key = " <- ".join(
                    f"{Path(f.filename).name}:{f.lineno}:{f.name}" for f in reversed(st[-14:])
                )
                stacks[key] += 1

    threading.Thread(target=watchdog, daemon=True).start()

    gc_t = {"t": 0.0}

    def gc_cb(phase: str, info: dict) -> None:  # type: ignore[type-arg]
        if phase == "start":
            gc_t["t"] = time.perf_counter()
        else:
            gcs.append((time.time(), info["generation"], time.perf_counter() - gc_t["t"]))

    gc.callbacks.append(gc_cb)

health: list[dict] = []  # type: ignore[type-arg]
_orig_sample = run_mod._Sampler.sample


async def sample(self):  # type: ignore[no-untyped-def]
    await _orig_sample(self)
    snap = self._runtime.engine.latest_snapshot
    if snap is not None:
        eng = self._runtime.engine
        lanes = {w: (ln.in_flight, ln.active) for w, ln in eng._lanes.items()}
        health.append(
            {
                "t": time.time(),
                "lag_ms": snap.client.event_loop_lag_ms,
                "dispatch_p99_ms": snap.client.dispatch_lag_p99_ms,
                "saturated": snap.client.saturated,
                "lanes": lanes,
                "cpu": self._raw.cpu[-1] if self._raw.cpu else None,
                "load": os.getloadavg(),
            }
        )


run_mod._Sampler.sample = sample


def dump_diag() -> None:
    (out / "health.json").write_text(json.dumps(health))
    if instrument:
        (out / "slow.json").write_text(json.dumps(slow))
        (out / "gc.json").write_text(json.dumps(gcs))
        (out / "stacks.txt").write_text("\n".join(f"{n:6d} {k}" for k, n in stacks.most_common(60)))


atexit.register(dump_diag)
t0 = time.time()
raw = asyncio.run(
    run_mod.rehearse(
        work=out / "work",
        speed=1.0,
        env="prod",
        script_path=script,
        corpus="build/corpus",
        cycles=1,
    )
)
n = len(raw.client_saturated)
summary = {
    "wall_s": time.time() - t0,
    "windows": n,
    "saturated_share": sum(raw.client_saturated) / n if n else None,
    "saturated_by_loop": sum(1 for h in health if h["lag_ms"] > 50) / max(1, len(health)),
    "saturated_by_dispatch": sum(1 for h in health if (h["dispatch_p99_ms"] or 0) > 50)
    / max(1, len(health)),
    "requests": len(raw.samples),
    "failed": sum(1 for s in raw.samples if not s.ok),
    "loadavg_end": os.getloadavg(),
}
print(json.dumps(summary, indent=1))
(out / "summary.json").write_text(json.dumps(summary, indent=1))
(out / "health.json").write_text(json.dumps(health))
if instrument:
    (out / "slow.json").write_text(json.dumps(slow))
    (out / "gc.json").write_text(json.dumps(gcs))
    (out / "stacks.txt").write_text("\n".join(f"{n:6d} {k}" for k, n in stacks.most_common(60)))
