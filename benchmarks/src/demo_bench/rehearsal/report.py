"""The rehearsal report: JSON (every number) and Markdown (the story), from one raw run."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from demo_bench.rehearsal.analysis import (
    PEAK_MIN,
    RECOVERY_MAX_S,
    ScaleMark,
    first_cycle,
    gpu_seconds,
    kv_effect,
    phase_spans,
    slo_attainment,
    stress_effect,
    without_cut,
)
from demo_bench.rehearsal.run import RawRun
from demo_common.percentile import percentile

MACHINE_BUSY_MAX = 95.0  # % of all cores, p90 over the run
CLIENT_BUSY_MAX = 90.0  # % of one core (the client is one event loop), p90 over the run
STATIC_GPUS = 8


def build_report(raw: RawRun) -> dict[str, Any]:
    samples, cut = without_cut(raw.samples)
    raw = dataclasses.replace(raw, samples=samples)
    end_s = max([s.t_s for s in raw.samples] + [p.t_s for p in raw.pools] + [0.0])
    spans = first_cycle(phase_spans(raw.timeline, end_s))
    marks = [
        ScaleMark(e["t_s"], e["pool"], e["from_replicas"], e["to_replicas"], e["source"])
        for e in raw.timeline
        if e["kind"] == "scale" and e["pool"] is not None
    ]
    phases = []
    for s in spans:
        phases.append(
            {
                "id": s.id,
                "name": s.name,
                "start_s": round(s.start_s, 1),
                "end_s": round(s.end_s, 1),
                "slo_attainment": slo_attainment(raw.samples, raw.slos, s.start_s, s.end_s),
                "router_prefill_tokens": raw.router.get(s.id),
            }
        )
    cycle_start = spans[0].start_s if spans else 0.0
    cycle_end = spans[-1].end_s if spans else end_s
    used = gpu_seconds(raw.pools, cycle_start, cycle_end)
    static = STATIC_GPUS * (cycle_end - cycle_start)
    kv_router = raw.router.get("kv-cache", {})
    cpu = cpu_guard(raw)
    scaler = "keda" if raw.mode == "manual" else "script"
    return {
        "what": (
            "one auto-mode cycle of the demo script against the local stack (real Dynamo "
            "frontend + mocker workers on the H200 70B profile), driven by the scenario controller"
            if raw.mode == "auto"
            else "manual mode (KEDA resumed, the local KEDA on k8s/keda) through Baseline and the "
            "two stress phases' load against the local stack (H200 70B profile); the presenter "
            "hands GPUs back as the script does (source presenter), every scale-out is KEDA's"
        ),
        "mode": raw.mode,
        "time_base": "demo seconds since the controller started (SPEED scales wall time)",
        "speed": raw.speed,
        "env": raw.env,
        "script": raw.script,
        "started_at": raw.started_at,
        "wall_s": round(raw.wall_s, 1),
        "requests": len(raw.samples),
        "errors": sum(1 for s in raw.samples if not s.ok),
        "cut_at_stop": cut,
        "valid": cpu["valid"],
        "cpu": cpu,
        "phases": phases,
        "effects": {
            "kv_cache": kv_effect(
                raw.samples, spans, "kv-cache", kv_router.get("cached"), kv_router.get("input")
            ),
            "prefill_stress": stress_effect(
                raw.samples,
                spans,
                raw.pools,
                marks,
                phase_id="prefill-stress",
                baseline_id="baseline",
                workload="summarization",
                metric="ttft",
                pool="prefill",
                source=scaler,
            ),
            # `make sizing`: a saturated decode pool shows as requests waiting for a batch
            # slot (TTFT), ITL rising only to ~30 ms; both are reported.
            "decode_stress_ttft": stress_effect(
                raw.samples,
                spans,
                raw.pools,
                marks,
                phase_id="decode-stress",
                baseline_id="baseline",
                workload="reasoning",
                metric="ttft",
                pool="decode",
                source=scaler,
            ),
            "decode_stress": stress_effect(
                raw.samples,
                spans,
                raw.pools,
                marks,
                phase_id="decode-stress",
                baseline_id="baseline",
                workload="reasoning",
                metric="itl",
                pool="decode",
                source=scaler,
            ),
        },
        "gpu_seconds": {
            "used": used,
            "static_8_gpus": round(static, 1),
            "share_of_static": round(used / static, 3) if static else None,
        },
        "scale_events": [m.__dict__ for m in marks],
        "timeline": raw.timeline,
    }


def cpu_guard(raw: RawRun) -> dict[str, Any]:
    machine = [c["machine"] for c in raw.cpu]
    client = [c["client"] for c in raw.cpu]
    stack = [c["stack"] for c in raw.cpu]
    m90, c90 = percentile(machine, 90), percentile(client, 90)
    lagged = sum(raw.client_saturated) / len(raw.client_saturated) if raw.client_saturated else 0
    reasons = []
    if m90 is not None and m90 > MACHINE_BUSY_MAX:
        reasons.append(f"machine CPU p90 {m90:.0f}% > {MACHINE_BUSY_MAX:.0f}% of all cores")
    if c90 is not None and c90 > CLIENT_BUSY_MAX:
        reasons.append(f"client CPU p90 {c90:.0f}% > {CLIENT_BUSY_MAX:.0f}% of one core")
    if lagged > 0.05:
        reasons.append(f"client loop lag over its bound in {lagged:.0%} of live windows")
    return {
        "cores": __import__("os").cpu_count(),
        "machine_busy_pct": {"p50": _r(percentile(machine, 50)), "p90": _r(m90)},
        "client_pct_of_one_core": {"p50": _r(percentile(client, 50)), "p90": _r(c90)},
        "stack_pct_of_one_core": {
            "p50": _r(percentile(stack, 50)),
            "p90": _r(percentile(stack, 90)),
        },
        "client_lag_saturated_share": round(lagged, 3),
        "by_process_pct_of_one_core": _by_process(raw.cpu),
        "valid": not reasons,
        "invalid_because": reasons,
        "note": "the machine is shared: machine-wide CPU includes other work running beside",
    }


def _by_process(samples: list[dict[str, float]]) -> dict[str, dict[str, float | None]]:
    """Where the CPU goes: the app (client, API, UI, controller: one process) and each part of
    the stack, p50 / p90 / peak over the run's samples (a part absent from a sample used none)."""
    parts = ["client", *sorted({k for c in samples for k in c if k.startswith("proc:")})]
    table = {}
    for part in parts:
        xs = [c.get(part, 0.0) for c in samples]
        table[part.removeprefix("proc:")] = {
            "p50": _r(percentile(xs, 50)), "p90": _r(percentile(xs, 90)),
            "peak": _r(max(xs)) if xs else None,
        }  # fmt: skip
    return table


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def write_report(report: dict[str, Any], out: Path) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    json_path = out / "rehearsal.json"
    json_path.write_text(json.dumps(report, indent=2, default=str) + "\n")
    md_path = out / "rehearsal.md"
    md_path.write_text(markdown(report))
    return json_path, md_path


def _fmt(value: Any, suffix: str = "") -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.3g}{suffix}"
    return f"{value}{suffix}"


def _verdict(
    value: float | None, *, at_most: float | None = None, at_least: float | None = None
) -> str:
    if value is None:
        return "n/a"
    if at_most is not None:
        return "met" if value <= at_most else "MISSED"
    assert at_least is not None
    return "met" if value >= at_least else "MISSED"


def markdown(r: dict[str, Any]) -> str:
    kv, pf, dc = (r["effects"][k] for k in ("kv_cache", "prefill_stress", "decode_stress"))
    lines = [
        f"# Rehearsal ({r.get('mode', 'auto')} mode) on the local stack",
        "",
        f"{r['what']}. Started {r['started_at']}, speed {r['speed']:g}, env {r['env']}, "
        f"script {r['script']}; {r['requests']} requests ({r['errors']} failed, "
        f"{r.get('cut_at_stop', 0)} more cut by the stop and left out); "
        f"{r['wall_s']:.0f} s of wall time. **All times are demo seconds** "
        "(since the controller started).",
        "",
        f"**Run valid: {'yes' if r['valid'] else 'NO'}**"
        + ("" if r["valid"] else f" ({'; '.join(r['cpu']['invalid_because'])})"),
        "",
        "## Effect sizes",
        "",
        "| effect | measured | target | verdict |",
        "|---|---|---|---|",
    ]
    ratio_kv = kv.get("ttft_ratio_turn2plus_vs_turn1")
    hit = kv.get("prefill_hit_rate_turn2plus")
    lines.append(
        f"| KV Cache: chat TTFT p50 turn 2+ / turn 1 | {_fmt(ratio_kv)} "
        f"({_fmt(kv.get('turn2plus_ttft_p50_s'), ' s')} / {_fmt(kv.get('turn1_ttft_p50_s'), ' s')})"
        f" | <= 0.35 | {_verdict(ratio_kv, at_most=0.35)} |"
    )
    lines.append(
        f"| KV Cache: prefill-side hit rate, turns 2+ (router) | {_fmt(hit)} | >= 0.85 | "
        f"{_verdict(hit, at_least=0.85)} |"
    )
    stresses = (
        ("Prefill Stress: summarization TTFT", pf),
        ("Decode Stress: reasoning ITL", dc),
        ("Decode Stress: reasoning TTFT", r["effects"]["decode_stress_ttft"]),
    )
    for label, e in stresses:
        if "missing" in e:
            lines.append(f"| {label} | {e['missing']} | | |")
            continue
        peak, end = e["peak_vs_baseline"], e["end_vs_baseline"]
        lines.append(
            f"| {label} p95 peak / baseline | {_fmt(peak)} ({_fmt(e['peak_window_p95_s'], ' s')} / "
            f"{_fmt(e['baseline_p95_s'], ' s')}) | >= {PEAK_MIN:g} | "
            f"{_verdict(peak, at_least=PEAK_MIN)} |"
        )
        lines.append(
            f"| {label} p95 last 60 s / baseline | {_fmt(end)} ({_fmt(e['last_60s_p95_s'], ' s')})"
            f" | <= 1.2 | {_verdict(end, at_most=1.2)} |"
        )
        so = e["scale_out"]
        if so is not None:
            rec = so["recovery_after_ready_s"]
            lines.append(
                f"| {label}: scale-out {so['pool']} -> {so['to_replicas']} issued at "
                f"{so['issued_s']:.0f} s, ready at {_fmt(so['ready_s'], ' s')}; recovered "
                f"(p95 <= 1.2x baseline) after ready | {_fmt(rec, ' s')} | <= 60 s | "
                f"{_verdict(rec, at_most=RECOVERY_MAX_S)} |"
            )
    g = r["gpu_seconds"]
    lines += [
        "",
        f"GPU-seconds used over the cycle: {g['used']:.0f} vs {g['static_8_gpus']:.0f} for a "
        f"static 8-GPU allocation ({_fmt(g['share_of_static'])} of it).",
        "",
        "## Per phase: SLO attainment and streams that froze",
        "",
        "Attainment: share of requests within every SLO of their workload (TTFT, mean ITL, "
        "longest pause); froze: streams that paused longer than 250 ms at least once.",
        "",
        "| phase | start–end (s) | chat | summarization | reasoning "
        "| router prefill cached / input tokens |",
        "|---|---|---|---|---|---|",
    ]
    for p in r["phases"]:
        cells = []
        for w in ("chat", "summarization", "reasoning"):
            a = p["slo_attainment"].get(w, {})
            cells.append(
                f"{_fmt(a.get('attainment'))} (n={a.get('requests', 0)}, "
                f"froze {a.get('frozen_streams', 'n/a')})"
            )
        rt = p.get("router_prefill_tokens") or {}
        lines.append(
            f"| {p['name']} | {p['start_s']:.0f}–{p['end_s']:.0f} | {' | '.join(cells)} | "
            f"{_fmt(rt.get('cached'))} / {_fmt(rt.get('input'))} |"
        )
    c = r["cpu"]
    lines += [
        "",
        "## CPU (saturation guard)",
        "",
        f"{c['cores']} cores. Machine busy p50/p90: {_fmt(c['machine_busy_pct']['p50'], '%')} / "
        f"{_fmt(c['machine_busy_pct']['p90'], '%')}; stack (frontend, workers, Prometheus) "
        f"{_fmt(c['stack_pct_of_one_core']['p50'], '%')} / "
        f"{_fmt(c['stack_pct_of_one_core']['p90'], '%')} "
        f"of one core; client {_fmt(c['client_pct_of_one_core']['p50'], '%')} / "
        f"{_fmt(c['client_pct_of_one_core']['p90'], '%')} of one core; client loop lag over its "
        f"bound in {c['client_lag_saturated_share']:.0%} of live windows. {c['note']}.",
        "",
        "| process (% of one core) | p50 | p90 | peak |",
        "|---|---|---|---|",
        *[
            f"| {'app (client, API, UI, controller)' if name == 'client' else name} | "
            f"{_fmt(v['p50'], '%')} | {_fmt(v['p90'], '%')} | {_fmt(v['peak'], '%')} |"
            for name, v in c.get("by_process_pct_of_one_core", {}).items()
        ],
        "",
        "## Scaling events",
        "",
        "| t (s) | pool | from -> to | source |",
        "|---|---|---|---|",
    ]
    for m in r["scale_events"]:
        lines.append(
            f"| {m['t_s']:.0f} | {m['pool']} | {m['from_replicas']} -> {m['to_replicas']} "
            f"| {m['source']} |"
        )
    lines += ["", "Plots: `latency.png` (p50/p95 over time, phase bands), `pools.png`.", ""]
    return "\n".join(lines)
