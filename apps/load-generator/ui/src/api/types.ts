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

export type {
  ScenarioState,
  ScenarioMode,
  ScenarioPhase,
  TimelineEvent,
  PoolsState,
  PoolState,
} from "./scenario";
