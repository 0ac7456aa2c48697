// Words and numbers of the "why disaggregation" panel: the latest recorded layout comparison.
import type { Comparison, LayoutResult } from "../api/types";

/** Goodput per GPU: requests meeting every SLO, per second per GPU (3 significant digits). */
export function perGpu(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "–";
  return value.toPrecision(3);
}

export function ratio(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "–";
  return `×${value.toFixed(2)}`;
}

export function gpuSeconds(value: number): string {
  return value >= 10_000 ? `${(value / 1000).toFixed(1)}k GPU-s` : `${value.toFixed(0)} GPU-s`;
}

/** "2026-11-30T02:00Z" -> "2026-11-30 02:00 UTC" (the writer's format; anything else as is). */
export function when(measuredAt: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(?::\d{2})?Z$/.exec(measuredAt);
  return m ? `${m[1]} ${m[2]} UTC` : measuredAt;
}

/** Where and when the numbers were measured, in one line. */
export function measuredLabel(c: Comparison): string {
  const speed = c.speed === 1 ? "real time (speed ×1)" : `speed ×${c.speed}`;
  const profile = c.profile ? `profile ${c.profile}` : "profile not recorded";
  return `Measured ${when(c.measured_at)} on ${c.machine} · local stack (Dynamo + mocker), ${profile}, env ${c.env} · ${speed} · script ${c.script}`;
}

/** The saturation guard's verdict: every run valid, or which were not and why. */
export function guardLabel(c: Comparison): string {
  if (c.valid) return "Every run passed the saturation guard (valid)";
  const bad = Object.entries(c.layouts)
    .filter(([, l]) => !l.valid)
    .map(([name, l]) => `${name}${l.invalid_because.length ? ` (${l.invalid_because.join("; ")})` : ""}`);
  return `Marked INVALID by the saturation guard: ${bad.join(", ")}`;
}

type Entry = [string, LayoutResult];

/** "37 of 790 streams froze" (null when the record predates stall measures). */
function froze(l: LayoutResult): string | null {
  return l.frozen_streams === null || l.frozen_streams === undefined
    ? null
    : `${l.frozen_streams} of ${l.requests} streams froze`;
}

function frozenShare(l: LayoutResult): number | null {
  return l.frozen_streams === null || l.frozen_streams === undefined || l.requests === 0
    ? null
    : l.frozen_streams / l.requests;
}

function best(entries: Entry[], score: (l: LayoutResult) => number | null, low = false): Entry | null {
  let found: [Entry, number] | null = null;
  for (const e of entries) {
    const v = score(e[1]);
    if (v === null || !Number.isFinite(v)) continue;
    if (found === null || (low ? v < found[1] : v > found[1])) found = [e, v];
  }
  return found ? found[0] : null;
}

/** What the record says in one sentence, from its valid runs only: where disaggregation wins
 * and where it does not (stream freezes, requests within every SLO per GPU, following the
 * shifting mix). An invalid run is never the claim: without a valid baseline there is none. */
export function verdict(c: Comparison): string {
  const aggregated = c.layouts.aggregated;
  if (!aggregated) return "No aggregated baseline in this record: nothing to compare";
  if (!aggregated.valid) return "No verdict: the aggregated baseline run was invalid (CPU-bound)";
  const valid: Entry[] = Object.entries(c.layouts).filter(([name, l]) => name !== "aggregated" && l.valid);
  if (valid.length === 0) return "No verdict: no disaggregated run in this record was valid";
  const wins: string[] = [];
  const losses: string[] = [];

  const calm = best(valid, frozenShare, true);
  const aggFroze = froze(aggregated);
  const aggShare = frozenShare(aggregated);
  if (calm && aggFroze && aggShare !== null) {
    const mine = `${froze(calm[1])} (${calm[1].title}) vs ${aggFroze} aggregated`;
    (frozenShare(calm[1])! < aggShare ? wins : losses).push(`freezes: ${mine}`);
  }
  const top = best(valid, (l) => l.ratio_vs_aggregated);
  const r = top?.[1].ratio_vs_aggregated;
  if (top && r !== null && r !== undefined && r > 0) {
    if (r >= 1) wins.push(`requests within every SLO per GPU: ${ratio(r)} aggregated (${top[1].title})`);
    else losses.push(`requests within every SLO per GPU: aggregated ${ratio(1 / r)} the best split (${top[1].title})`);
  }
  const follow = c.layouts.controller;
  const fixed = c.layouts.static;
  if (follow?.valid && fixed?.valid && follow.goodput_per_gpu && fixed.goodput_per_gpu) {
    const gain = follow.goodput_per_gpu / fixed.goodput_per_gpu;
    (gain > 1 ? wins : losses).push(`following the shifting mix: ${ratio(gain)} the static split per GPU`);
  }
  const won = wins.length ? `Disaggregation wins on ${wins.join("; ")}` : "Disaggregation wins on nothing measured here";
  return losses.length ? `${won}. It does not win on ${losses.join("; ")}` : won;
}

/** The record behind the verdict: its date, speed, timing source and validity, in a few words. */
export function verdictSource(c: Comparison): string {
  const speed = c.speed === 1 ? "real time" : `speed ×${c.speed}`;
  const timing = c.profile ? `timed by profile ${c.profile}` : "timing profile not recorded";
  const validity = c.valid ? "every run valid" : "invalid runs left out of the verdict";
  return `Recorded ${when(c.measured_at)}, ${speed}, ${timing}, ${validity}`;
}

/** A layout's ratio to aggregated, marked when either run is invalid (detail, never a claim). */
export function ratioLabel(l: LayoutResult, baseline: LayoutResult | undefined): string {
  const invalid = !l.valid || (baseline !== undefined && !baseline.valid);
  return `${ratio(l.ratio_vs_aggregated)} vs aggregated${invalid ? " (invalid run)" : ""}`;
}
