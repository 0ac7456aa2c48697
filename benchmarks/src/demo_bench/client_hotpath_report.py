"""Verdicts and the markdown report of the client hot-path benchmark (results dict in, text out)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from demo_bench.client_report import _f, _get

MARKDOWN_NAME = "client-hotpath.md"
TARGETS: dict[str, float] = {
    "events_per_s": 20_000.0,
    "streams": 600.0,
    "loop_lag_p99_ms": 10.0,
    "ttft_p50_vs_aiperf_ms": 2.0,
    "cpu_vs_aiperf": 0.5,
}


def us_per_event(step: Mapping[str, Any]) -> float | None:
    """The client's own CPU per streamed event (microseconds)."""
    cores, events = step.get("client_cpu_cores"), step.get("events_per_s")
    return cores / events * 1e6 if cores is not None and events else None


def step_meets(step: Mapping[str, Any]) -> bool:
    lag = _get(step, "loop_lag_ms", "p99")
    return (
        (step.get("events_per_s") or 0.0) >= TARGETS["events_per_s"]
        and (_get(step, "in_flight", "mean") or 0.0) >= TARGETS["streams"]
        and lag is not None
        and lag <= TARGETS["loop_lag_p99_ms"]
        and not step.get("errors")
    )


def capacity_verdict(steps: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    best = max((s for s in steps if step_meets(s)), key=lambda s: s["events_per_s"], default=None)
    return {
        "met": best is not None,
        "best_events_per_s": None if best is None else best["events_per_s"],
        "best_streams_mean": _get(best, "in_flight", "mean"),
        "best_loop_lag_p99_ms": _get(best, "loop_lag_ms", "p99"),
        "us_per_event": [us_per_event(s) for s in steps],
    }


def verdicts(results: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        name: capacity_verdict(steps) for name, steps in results.get("capacity", {}).items()
    }
    ours, theirs = results.get("loadgen_like_aiperf"), results.get("aiperf")
    ttft_ours, ttft_theirs = _get(ours, "ttft_ms", "p50"), _get(theirs, "ttft_ms", "p50")
    cpu_ours, cpu_theirs = _get(ours, "client_tree_cpu_cores"), _get(theirs, "client_cpu_cores")
    if None not in (ttft_ours, ttft_theirs, cpu_ours, cpu_theirs):
        diff = ttft_ours - ttft_theirs
        ratio = cpu_ours / cpu_theirs if cpu_theirs else None
        out["vs_aiperf"] = {
            "ttft_p50_diff_ms": round(diff, 3),
            "cpu_ratio": None if ratio is None else round(ratio, 3),
            "met": abs(diff) <= TARGETS["ttft_p50_vs_aiperf_ms"]
            and ratio is not None
            and ratio <= TARGETS["cpu_vs_aiperf"],
        }
    return out


def _capacity_table(name: str, steps: Sequence[Mapping[str, Any]]) -> list[str]:
    lines = [
        f"### {name}",
        "",
        "| offered streams | streams mean / max | events/s | client CPU (cores) "
        "| CPU per event (µs) | loop lag p50 / p99 / max (ms) | schedule lag p99 (ms) "
        "| TTFT p50 (ms) | errors | source CPU | CPU 0 / CPU 1 busy, all processes "
        "| meets target |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for s in steps:
        lag = s.get("loop_lag_ms") or {}
        lines.append(
            f"| {s.get('offered_streams')} | {_f(_get(s, 'in_flight', 'mean'), 0)} / "
            f"{_f(_get(s, 'in_flight', 'max'), 0)} | {_f(s.get('events_per_s'), 0)} | "
            f"{_f(s.get('client_cpu_cores'), 2)} | {_f(us_per_event(s), 1)} | "
            f"{_f(lag.get('p50'), 1)} / {_f(lag.get('p99'), 1)} / {_f(lag.get('max'), 1)} | "
            f"{_f(_get(s, 'schedule_lag_ms', 'p99'), 1)} | {_f(_get(s, 'ttft_ms', 'p50'), 2)} | "
            f"{sum((s.get('errors') or {}).values())} | {_f(s.get('source_cpu_cores'), 2)} | "
            f"{_f(s.get('cpus-client_busy'), 2)} / {_f(s.get('cpus-source_busy'), 2)} | "
            f"{'yes' if step_meets(s) else 'no'} |"
        )
    return [*lines, ""]


def render_markdown(results: Mapping[str, Any]) -> str:
    t = TARGETS
    lines = [
        "# Client hot path: cost per streamed event on one core, and TTFT beside AIPerf",
        "",
        f"Mode: {results.get('mode')}. Pinning: {results.get('pinning')}. Source: "
        "`client_sse_source` (Dynamo-shaped compact chunks, cumulative usage, one token per "
        f"event every {_get(results, 'plan', 'interval_ms')} ms, "
        f"{_get(results, 'plan', 'osl')} events per stream). Autogroup nice of the measured "
        f"sessions: {results.get('autogroup_nice', 'not set')}.",
        f"Target: >= {t['events_per_s']:,.0f} events/s with >= {t['streams']:.0f} concurrent "
        f"streams and event-loop lag p99 <= {t['loop_lag_p99_ms']:g} ms (the drive's 50 ms "
        "sleeper), no errors. Variants: "
        + "; ".join(
            f"`{name}` = {v['transport']} transport, {v['event_parsing']} event parsing"
            for name, v in (results.get("variants") or {}).items()
        )
        + " (`baseline` is the client before 2026-12-07).",
        "",
        "## Capacity on one core",
        "",
    ]
    verdict = results.get("verdicts") or {}
    for name, steps in (results.get("capacity") or {}).items():
        lines += _capacity_table(name, steps)
        met = (verdict.get(name) or {}).get("met")
        lines += [f"Target {'**met**' if met else '**not met**'} by `{name}`.", ""]
    ours, theirs = results.get("loadgen_like_aiperf") or {}, results.get("aiperf") or {}
    lines += [
        "## TTFT beside AIPerf (same source, same prompts, same rate; one at a time on CPU 0)",
        "",
        "| | AIPerf | loadgen (streaming) |",
        "|---|---|---|",
        f"| requests | {theirs.get('requests', '–')} | {ours.get('ok', '–')} |",
        f"| TTFT p50 / p95 (ms) | {_f(_get(theirs, 'ttft_ms', 'p50'), 2)} / "
        f"{_f(_get(theirs, 'ttft_ms', 'p95'), 2)} | {_f(_get(ours, 'ttft_ms', 'p50'), 2)} / "
        f"{_f(_get(ours, 'ttft_ms', 'p95'), 2)} |",
        f"| CPU during the load (cores, whole process tree) | "
        f"{_f(theirs.get('client_cpu_cores'), 3)} | {_f(ours.get('client_tree_cpu_cores'), 3)} |",
        "",
    ]
    vs = verdict.get("vs_aiperf")
    if vs:
        lines.append(
            f"TTFT p50 difference {vs['ttft_p50_diff_ms']:+.2f} ms (target within "
            f"{t['ttft_p50_vs_aiperf_ms']:g}), CPU ratio {_f(vs['cpu_ratio'], 2)} (target <= "
            f"{t['cpu_vs_aiperf']:g}): {'**met**' if vs['met'] else '**not met**'}."
        )
    lines += [f"- {note}" for note in results.get("notes") or []]
    return "\n".join(lines) + "\n"
