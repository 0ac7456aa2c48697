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

/** The one-line claim the numbers support (from valid runs first), or say they do not. */
export function headline(c: Comparison): string {
  const disaggregated = Object.entries(c.layouts).filter(
    (entry): entry is [string, LayoutResult & { ratio_vs_aggregated: number }] =>
      entry[0] !== "aggregated" && entry[1].ratio_vs_aggregated !== null,
  );
  if (disaggregated.length === 0) return "No aggregated baseline to compare with in this record";
  const valid = disaggregated.filter(([, l]) => l.valid);
  const pool = valid.length > 0 ? valid : disaggregated;
  const [, best] = pool.reduce((a, b) => (b[1].ratio_vs_aggregated > a[1].ratio_vs_aggregated ? b : a));
  const r = best.ratio_vs_aggregated;
  const caveat = valid.length > 0 ? "" : " (invalid runs only)";
  const title = best.title.charAt(0).toUpperCase() + best.title.slice(1);
  if (r >= 1) return `${title}: ${ratio(r)} the requests within SLO per GPU of aggregated serving${caveat}`;
  return `Aggregated serving did better in this run: best disaggregated layout (${best.title}) ${ratio(r)}${caveat}`;
}
