// Chart data built from the live history: one x array (epoch seconds) and aligned y arrays.
import type { PoolsState, TimelineEvent, TurnWindow, Workload } from "../api/types";
import { WORKLOADS } from "../api/types";
import type { Sample } from "../hooks/useLive";

export type Column = (number | null)[];
export interface Table {
  x: number[];
  columns: Column[];
}

function table(history: readonly Sample[], pick: ((s: Sample) => number | null)[]): Table {
  return {
    x: history.map((s) => s.t_s),
    columns: pick.map((f) => history.map(f)),
  };
}

/** p50 and p95 of TTFT (or ITL) per workload, in ms: [chat p50, chat p95, summ p50, ...]. */
export function latencyTable(history: readonly Sample[], metric: "ttft_ms" | "itl_ms"): Table {
  return table(
    history,
    WORKLOADS.flatMap((w: Workload) => [
      (s: Sample) => s.snap.workloads[w][metric].p50,
      (s: Sample) => s.snap.workloads[w][metric].p95,
    ]),
  );
}

/** Exact mean over several turn labels (each carries its own count and mean). */
export function pooledMean(turns: readonly TurnWindow[], metric: "ttft_ms" | "itl_ms"): number | null {
  let n = 0;
  let sum = 0;
  for (const t of turns) {
    const p = t[metric];
    if (p.count > 0 && p.mean !== null) {
      n += p.count;
      sum += p.mean * p.count;
    }
  }
  return n > 0 ? sum / n : null;
}

export function laterTurns(turns: Record<string, TurnWindow>): TurnWindow[] {
  return Object.entries(turns)
    .filter(([label]) => label !== "1")
    .map(([, t]) => t);
}

/** Chat TTFT, turn 1 against turns 2+ (means, ms): the prefix cache at work. */
export function chatTurnTable(history: readonly Sample[]): Table {
  return table(history, [
    (s) => {
      const first = s.snap.chat_turns["1"];
      return first ? pooledMean([first], "ttft_ms") : null;
    },
    (s) => pooledMean(laterTurns(s.snap.chat_turns), "ttft_ms"),
  ]);
}

/** cached / input tokens over chat turns 2+, as usage reports it (decode side when disaggregated). */
export function usageHitRatio(turns: Record<string, TurnWindow>): number | null {
  let input = 0;
  let cached = 0;
  for (const t of laterTurns(turns)) {
    input += t.input_tokens;
    cached += t.cached_tokens;
  }
  return input > 0 ? cached / input : null;
}

export function throughputTable(history: readonly Sample[]): Table {
  const sum = (f: (w: Workload) => number) => WORKLOADS.reduce((t, w) => t + f(w), 0);
  return table(history, [
    (s) => sum((w) => s.snap.workloads[w].achieved_rps),
    (s) => sum((w) => s.snap.workloads[w].target_rps),
    (s) => sum((w) => s.snap.workloads[w].output_tokens_per_s),
  ]);
}

export interface PoolSample {
  t_s: number;
  pools: PoolsState;
}

export function poolTable(history: readonly PoolSample[]): Table {
  return {
    x: history.map((p) => p.t_s),
    columns: [
      history.map((p) => p.pools.pools.prefill.ready),
      history.map((p) => p.pools.pools.prefill.desired),
      history.map((p) => p.pools.pools.decode.ready),
      history.map((p) => p.pools.pools.decode.desired),
    ],
  };
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
