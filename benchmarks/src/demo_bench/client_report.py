"""Verdicts and the markdown report of the client benchmark (pure: a results dict in, text out)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

MARKDOWN_NAME = "client-bench.md"
TARGETS: dict[str, float] = {
    "added_ttft_p50_ms": 2.0,
    "added_ttft_rate_rps": 100.0,
    "streams": 300.0,
    "events_per_s": 10_000.0,
    "schedule_lag_p99_ms": 10.0,
    "min_achieved_ratio": 0.95,
}


def _get(d: Mapping[str, Any] | None, *path: str) -> Any:
    cur: Any = d
    for key in path:
        if not isinstance(cur, Mapping):
            return None
        cur = cur.get(key)
    return cur


def step_holds(step: Mapping[str, Any]) -> bool:
    """The client kept up: schedule-lag p99 within the bound, what the schedule asked for in
    the window was sent (a Poisson draw, so measured against the arrivals due, not the mean
    rate), and nothing failed."""
    lag = _get(step, "schedule_lag_ms", "p99")
    sent = step.get("achieved_send_rps") or 0.0
    due = step.get("due_rps", step["target_rps"]) or 0.0
    return (
        lag is not None
        and lag <= TARGETS["schedule_lag_p99_ms"]
        and sent >= TARGETS["min_achieved_ratio"] * due
        and not step.get("errors")
    )


def capacity_verdict(steps: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Best step that held, whether it meets the stream and event targets, where it broke."""
    held = [s for s in steps if step_holds(s)]
    best = max(held, key=lambda s: s.get("events_per_s") or 0.0, default=None)
    broke = next((s for s in steps if not step_holds(s)), None)
    streams = _get(best, "in_flight", "mean") or 0.0
    events = (best or {}).get("events_per_s") or 0.0
    return {
        "met": bool(best) and streams >= TARGETS["streams"] and events >= TARGETS["events_per_s"],
        "best_streams_mean": streams,
        "best_events_per_s": events,
        "best_lag_p99_ms": _get(best, "schedule_lag_ms", "p99"),
        "first_failing_step_rps": None if broke is None else broke["target_rps"],
        "first_failing_step_streams": None if broke is None else _get(broke, "in_flight", "mean"),
    }


def verdicts(results: Mapping[str, Any]) -> dict[str, Any]:
    added_p50 = _get(results, "added_ttft_source", "client_added_ttft_ms", "p50")
    out: dict[str, Any] = {
        "added_ttft_p50_ms": added_p50,
        "added_ttft_met": added_p50 is not None and added_p50 <= TARGETS["added_ttft_p50_ms"],
    }
    if results.get("capacity_source"):
        out["capacity_source"] = capacity_verdict(results["capacity_source"])
    if results.get("capacity_stack"):
        out["capacity_stack"] = capacity_verdict(results["capacity_stack"])
    return out


# ----- markdown ----------------------------------------------------------------------------
def _f(value: Any, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, int | float):
        return f"{value:,.{digits}f}"
    return str(value)


def _pair(d: Any, a: str = "p50", b: str = "p95", digits: int = 2) -> str:
    return f"{_f(_get(d, a), digits)} / {_f(_get(d, b), digits)}"


def _minus(a: Any, b: Any) -> Any:
    return None if a is None or b is None else a - b


def comparison_table(entry: Mapping[str, Any]) -> list[str]:
    a, lg = entry.get("aiperf") or {}, entry.get("loadgen") or {}
    sa, sl = _get(a, "server", "ttft") or {}, _get(lg, "server", "ttft") or {}
    c = entry["scenario"]
    bucket = sl.get("p50_bucket_ms")
    rows = [
        ("target rate (RPS)", _f(c["rate_rps"]), _f(c["rate_rps"]), ""),
        ("achieved send rate (RPS)", _f(a.get("achieved_send_rps"), 2),
         _f(lg.get("achieved_send_rps"), 2), ""),
        ("requests ok / errors", f"{_f(a.get('requests'), 0)} / {_f(a.get('errors'), 0)}",
         f"{_f(lg.get('ok'), 0)} / {sum((lg.get('errors') or {}).values())}",
         f"{_f(sl.get('count'), 0)} (loadgen run)"),
        ("input / output tokens, mean", f"{_f(a.get('input_tokens_mean'))} / "
         f"{_f(a.get('output_tokens_mean'))}", f"{_f(lg.get('input_tokens_mean'))} / "
         f"{_f(lg.get('output_tokens_mean'))}", ""),
        ("TTFT p50 / p95 (ms)", _pair(a.get("ttft_ms")), _pair(lg.get("ttft_ms")),
         f"{_pair(sl, 'p50_ms', 'p95_ms')} (interpolated; p50 bucket {bucket})"),
        ("TTFT mean (ms)", _f(_get(a, "ttft_ms", "mean"), 2), _f(_get(lg, "ttft_ms", "mean"), 2),
         f"{_f(sa.get('mean_ms'), 2)} (AIPerf run) / {_f(sl.get('mean_ms'), 2)} (loadgen run)"),
        ("TTFT added over the frontend's mean (ms)",
         _f(_minus(_get(a, "ttft_ms", "mean"), sa.get("mean_ms")), 2),
         _f(_minus(_get(lg, "ttft_ms", "mean"), sl.get("mean_ms")), 2), ""),
        ("ITL per request p50 / p95 (ms; AIPerf's definition)",
         _pair(a.get("itl_per_request_ms")), _pair(lg.get("itl_per_request_ms")), ""),
        ("ITL per chunk (AIPerf) / per token (loadgen) p50 / p95 (ms)",
         _pair(a.get("inter_chunk_ms")), _pair(lg.get("itl_per_token_ms")),
         f"mean {_f(_get(lg, 'server', 'itl_mean_ms'), 2)}"),
        ("schedule lag p50 / p99 (ms; AIPerf: credit to start)",
         _pair(a.get("credit_to_start_ms"), "p50", "p99"),
         _pair(lg.get("schedule_lag_ms"), "p50", "p99"), ""),
        ("CPU during the load (cores)", _f(a.get("client_cpu_cores"), 2),
         _f(lg.get("client_cpu_cores"), 2),
         f"stack {_f(a.get('stack_cpu_cores'), 2)} / {_f(lg.get('stack_cpu_cores'), 2)}"),
        ("client's CPU busy, all processes (of 1)", _f(a.get("client_cpus_busy"), 2),
         _f(lg.get("client_cpus_busy"), 2),
         f"stack's CPUs {_f(a.get('stack_cpus_busy'), 2)} / {_f(lg.get('stack_cpus_busy'), 2)}"),
    ]  # fmt: skip
    version = a.get("version") or "not run"
    lines = [
        f"| {c['name']}: ISL {c['isl']}, OSL {c['osl']}, speed {c['speed']:g} "
        f"| AIPerf {version} | loadgen | frontend (server's own view) |",
        "|---|---|---|---|",
    ]
    lines += [f"| {r[0]} | {r[1]} | {r[2]} | {r[3]} |" for r in rows]
    return lines


def capacity_table(steps: Sequence[Mapping[str, Any]], other: str) -> list[str]:
    lines = [
        "| target streams | target / due RPS | sent RPS | streams mean / max | events/s "
        "| tokens/s | schedule lag p50 / p99 (ms) | loop lag p99 (ms) | TTFT p50 (ms) | errors "
        f"| loadgen CPU | {other} CPU | client's CPU busy | other CPUs busy | held |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for s in steps:
        lines.append(
            f"| {_f(s.get('target_streams'), 0)} | {_f(s['target_rps'])} / {_f(s.get('due_rps'))} "
            f"| {_f(s.get('achieved_send_rps'))} "
            f"| {_pair(s.get('in_flight'), 'mean', 'max', 0)} | {_f(s.get('events_per_s'), 0)} "
            f"| {_f(s.get('tokens_per_s'), 0)} | {_pair(s.get('schedule_lag_ms'), 'p50', 'p99')} "
            f"| {_f(_get(s, 'loop_lag_ms', 'p99'), 2)} | {_f(_get(s, 'ttft_ms', 'p50'), 2)} "
            f"| {sum((s.get('errors') or {}).values())} | {_f(s.get('client_cpu_cores'), 2)} "
            f"| {_f(s.get('stack_cpu_cores'), 2)} | {_f(s.get('client_cpus_busy'), 2)} "
            f"| {_f(s.get('stack_cpus_busy'), 2)} | {'yes' if step_holds(s) else 'no'} |"
        )
    return lines


def render_markdown(results: Mapping[str, Any]) -> str:
    v = results.get("verdicts") or {}
    lines = [
        "# Client benchmark: the load generator vs AIPerf on the local stack",
        "",
        f"Mode: {results.get('mode')}. Pinning: {results.get('pinning')}. Stack: dev layout "
        "(Dynamo frontend + 1 prefill + 1 decode mocker), one client at a time.",
        "Numbers from a busy machine are noise: take the final figures from `make bench` run "
        "on a quiet one. The 'CPU busy' figures count every process on those CPUs: when the "
        "client's CPU is busy well beyond the client's own use, something else was competing.",
        "",
        "## Same endpoint, same workload: AIPerf (baseline) and the load generator",
        "",
    ]
    for entry in (results.get("comparisons") or {}).values():
        lines += [*comparison_table(entry), ""]
    added = results.get("added_ttft_source") or {}
    lines += [
        "## TTFT the client adds",
        "",
        f"Target: p50 <= {TARGETS['added_ttft_p50_ms']:g} ms at "
        f"{TARGETS['added_ttft_rate_rps']:g} RPS. Exact per request against the SSE source "
        "(its own receive-to-first-write time, reported in `nvext.timing` as Dynamo does, "
        "subtracted from the client's TTFT; same monotonic clock): "
        f"p50 {_f(_get(added, 'client_added_ttft_ms', 'p50'), 3)} ms, "
        f"p95 {_f(_get(added, 'client_added_ttft_ms', 'p95'), 3)} ms, "
        f"p99 {_f(_get(added, 'client_added_ttft_ms', 'p99'), 3)} ms over "
        f"{_f(_get(added, 'client_added_ttft_ms', 'count'), 0)} requests at "
        f"{_f(added.get('achieved_send_rps'))} RPS — "
        f"**{'met' if v.get('added_ttft_met') else 'NOT met'}**.",
        "Against the real frontend only means are exact (its TTFT histogram buckets are ~2x "
        "apart): see the 'TTFT added over the frontend's mean' rows above, which also include "
        "the frontend's own HTTP handling before its timer starts.",
        "",
        "## Capacity on one core",
        "",
        f"Target: >= {TARGETS['streams']:g} concurrent streams and >= "
        f"{TARGETS['events_per_s']:,.0f} SSE events/s with schedule-lag p99 <= "
        f"{TARGETS['schedule_lag_p99_ms']:g} ms. A step holds when the lag p99 is within the "
        "bound, >= 95 % of the arrivals the Poisson schedule made due in the window are sent, "
        "and nothing fails.",
        "",
    ]
    for key, title, other in (
        ("capacity_source", "Against the SSE source (the client's own ceiling)", "source"),
        ("capacity_stack", "Against the real stack at speed 0", "stack"),
    ):
        steps = results.get(key) or []
        if not steps:
            continue
        verdict = v.get(key) or {}
        best = (
            f"Best held step: {_f(verdict.get('best_streams_mean'), 0)} streams, "
            f"{_f(verdict.get('best_events_per_s'), 0)} events/s, lag p99 "
            f"{_f(verdict.get('best_lag_p99_ms'), 2)} ms"
            if verdict.get("best_events_per_s")
            else "No step held"
        )
        broke = verdict.get("first_failing_step_rps")
        lines += [
            f"### {title}",
            "",
            *capacity_table(steps, other),
            "",
            f"{best}; first step that did not hold: "
            f"{'none' if broke is None else _f(broke) + ' RPS'}. Target "
            f"**{'met' if verdict.get('met') else 'not met'}** here.",
            "",
        ]
    for note in results.get("notes") or []:
        lines.append(f"- {note}")
    return "\n".join(lines) + "\n"
