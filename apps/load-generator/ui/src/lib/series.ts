// Chart data built from the app's history points: one x array (epoch seconds) and aligned y arrays.
import type { HistoryPoint, KvReading, TimelineEvent, Workload } from "../api/types";
import { WORKLOADS } from "../api/types";
import { percent } from "./format";

export type Column = (number | null)[];
export interface Table {
  x: number[];
  columns: Column[];
}

function table(points: readonly HistoryPoint[], pick: ((p: HistoryPoint) => number | null)[]): Table {
  return {
    x: points.map((p) => p.t_s),
    columns: pick.map((f) => points.map(f)),
  };
}

/** p50 and p95 of TTFT (or ITL) per workload, in ms: [chat p50, chat p95, summ p50, ...]. */
export function latencyTable(points: readonly HistoryPoint[], metric: "ttft" | "itl"): Table {
  return table(
    points,
    WORKLOADS.flatMap((w: Workload) => [
      (p: HistoryPoint) => p.workloads[w][`${metric}_p50_ms`],
      (p: HistoryPoint) => p.workloads[w][`${metric}_p95_ms`],
    ]),
  );
}

/** Chat TTFT, turn 1 against turns 2+ (means, ms): the prefix cache at work. */
export function chatTurnTable(points: readonly HistoryPoint[]): Table {
  return table(points, [(p) => p.chat_ttft_turn1_ms, (p) => p.chat_ttft_later_ms]);
}

/** The router's prefill-side KV hit rate; gaps where Prometheus gave no number. */
export function kvTable(points: readonly HistoryPoint[]): Table {
  return table(points, [(p) => p.kv_hit_ratio]);
}

export function throughputTable(points: readonly HistoryPoint[]): Table {
  return table(points, [(p) => p.achieved_rps, (p) => p.target_rps, (p) => p.output_tokens_per_s]);
}

export function poolTable(points: readonly HistoryPoint[]): Table {
  return table(points, [
    (p) => p.pools?.prefill.ready ?? null,
    (p) => p.pools?.prefill.desired ?? null,
    (p) => p.pools?.decode.ready ?? null,
    (p) => p.pools?.decode.desired ?? null,
  ]);
}

/** The KV hit rate as a screen writes it: a number only while Prometheus reads it live. */
export function kvText(reading: KvReading | null): string {
  if (reading === null) return "unavailable";
  if (reading.status === "live") return percent(reading.ratio);
  return reading.status === "no_data" ? "no prompts in the last minute" : "unavailable";
}

export interface Marker {
  t_s: number;
  label: string;
}

/** Scaling events of the controller's timeline, as chart markers. */
export function scaleMarkers(timeline: readonly TimelineEvent[] | undefined): Marker[] {
  return (timeline ?? [])
    .filter((e) => e.kind === "scale")
    .map((e) => ({
      t_s: Date.parse(e.wall_time) / 1000,
      label: `${e.pool ?? "?"} ${e.from_replicas ?? "?"}→${e.to_replicas ?? "?"}`,
    }))
    .filter((m) => Number.isFinite(m.t_s));
}
