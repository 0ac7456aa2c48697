// Names for the API's shapes: aliases into the types generated from the app's OpenAPI schema.
import type { components } from "./schema";

type Schemas = components["schemas"];

/** The workloads of the load (the keys of the mix). */
export type Workload = keyof Schemas["Mix"];
/** The schema types `workloads` as a string-keyed map; the server always sends all three. */
export type LiveSnapshot = Omit<Schemas["LiveSnapshot"], "workloads"> & {
  workloads: Record<Workload, Schemas["WorkloadWindow"]>;
};
export type WorkloadWindow = Schemas["WorkloadWindow"];
export type TurnWindow = Schemas["TurnWindow"];
export type Percentiles = Schemas["Percentiles"];
export type StatusResponse = Schemas["StatusResponse"];
export type LoadConfig = Schemas["LoadConfig"];
export type LoadConfigUpdate = Schemas["LoadConfigUpdate"];
export type ConfigResponse = Schemas["ConfigResponse"];
export type PresetList = Schemas["PresetList"];
export type Preset = Schemas["Preset"];
export type Slo = Schemas["Slo"];
export type StateResponse = Schemas["StateResponse"];
export type ConversationSummary = Schemas["ConversationSummary"];
export type Conversation = Schemas["Conversation"];
export type TurnView = Schemas["TurnView"];
export type FollowupView = Schemas["FollowupView"];

export const WORKLOADS: readonly Workload[] = ["chat", "summarization", "reasoning"];
export const POOLS = ["prefill", "decode"] as const;
export type Pool = (typeof POOLS)[number];

/** The maps keyed by pool are string-keyed in the schema; the server fills both pools. */
export type PoolState = Schemas["PoolView"];
export type PoolsState = Omit<Schemas["PoolsState"], "pools"> & { pools: Record<Pool, PoolState> };
export type KedaPool = Schemas["KedaPoolView"];
export type ScenarioMode = Schemas["ScenarioState"]["mode"];
export type ScenarioPhase = Schemas["PhaseView"];
export type TimelineEvent = Schemas["TimelineEvent"];
export type ScenarioState = Omit<Schemas["ScenarioState"], "scaling" | "keda"> & {
  scaling: Partial<Record<Pool, string>>;
  keda: Omit<Schemas["KedaView"], "pools"> & { pools: Partial<Record<Pool, KedaPool>> };
};

/** GET /api/comparison: the latest `make compare` report, or `recorded: false` with a note. */
export type LatestComparison = Schemas["LatestComparison"];
export type Comparison = Schemas["Comparison"];
export type LayoutResult = Schemas["LayoutResult"];
/** What the audience screen shows: the live charts or the recorded comparison. */
export type AudienceView = Schemas["AudienceView"];
export type Segment = AudienceView["show"];

/** GET /api/history: one point a second over the last five minutes; the KV reading now. */
export type LatencyPoint = Schemas["LatencyPoint"];
export type PoolPoint = Schemas["PoolPoint"];
export type HistoryPoint = Omit<Schemas["HistoryPoint"], "workloads" | "pools"> & {
  workloads: Record<Workload, LatencyPoint>;
  pools: Record<Pool, PoolPoint> | null;
};
export type HistoryView = Omit<Schemas["HistoryView"], "points"> & { points: HistoryPoint[] };
/** GET /api/kv-cache: the router's prefill-side KV hit rate (live, no_data or unavailable). */
export type KvReading = Schemas["KvReading"];
