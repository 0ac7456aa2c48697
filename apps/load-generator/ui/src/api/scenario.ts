// Scenario controller shapes, written from the contract in coord/LAYOUT.md until the
// controller's routes are in the app's OpenAPI schema (then these become generated aliases).

export type ScenarioMode = "auto" | "manual" | "stopped";

export interface ScenarioPhase {
  id: string;
  name: string;
  caption: string;
  index: number;
  count: number;
  duration_s: number;
  elapsed_s: number;
  time_left_s: number;
  preset: string | null;
}

export interface NextAction {
  pool: "prefill" | "decode";
  replicas: number;
  in_s: number;
  reason: string;
}

export interface KedaPool {
  metric: number | null;
  threshold: number;
  desired: number | null;
  last_scale_s: number | null;
}

export interface TimelineEvent {
  t_s: number;
  wall_time: string;
  kind: "mode" | "phase" | "scale" | "keda" | "error";
  source: "script" | "keda" | "presenter" | "controller";
  pool: string | null;
  from_replicas: number | null;
  to_replicas: number | null;
  phase: string | null;
  message: string;
}

export interface ScenarioState {
  mode: ScenarioMode;
  cycle: number;
  phase: ScenarioPhase | null;
  next_action: NextAction | null;
  scaling: { prefill: string; decode: string };
  keda: {
    paused: boolean;
    backend: "local" | "cluster";
    pools: { prefill: KedaPool; decode: KedaPool };
  };
  timeline: TimelineEvent[];
  speed: number;
}

export interface PoolState {
  desired: number;
  ready: number;
  starting: number;
  min: number;
  max: number;
}

export interface PoolsState {
  budget_gpus: number;
  free_gpus: number;
  pools: { prefill: PoolState; decode: PoolState };
}
