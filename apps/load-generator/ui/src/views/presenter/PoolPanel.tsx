// Prefill and decode workers as GPU tiles, manual scale buttons (manual mode only), KEDA state.
import { put } from "../../api/client";
import type { Pool, PoolsState, ScenarioState } from "../../api/types";
import { POOLS } from "../../api/types";
import { PoolLegend, PoolTiles } from "../../components/PoolTiles";
import type { Action } from "../../hooks/useAction";
import type { Polled } from "../../hooks/usePoll";

interface Props {
  pools: Polled<PoolsState>;
  scenario: ScenarioState | null;
  action: Action;
}

function kedaMetric(value: number | null): string {
  return value === null ? "–" : value.toFixed(value >= 100 ? 0 : 2);
}

export function PoolPanel({ pools, scenario, action }: Props) {
  if (pools.missing) {
    return (
      <section className="panel" data-testid="pool-panel">
        <h2>GPU pools</h2>
        <p className="note">This back end has no pool control (no /api/pools).</p>
      </section>
    );
  }
  const state = pools.data;
  const manual = scenario?.mode === "manual";
  const scale = (pool: Pool, replicas: number) =>
    void action.run(() => put<PoolsState>(`/api/pools/${pool}`, { replicas }), pools.accept);
  return (
    <section className="panel" data-testid="pool-panel">
      <h2>
        GPU pools{" "}
        {state ? (
          <span className="sub">
            {state.budget_gpus - state.free_gpus}/{state.budget_gpus} GPUs used · {state.free_gpus} free
          </span>
        ) : null}
      </h2>
      {state ? <PoolTiles state={state} /> : <p className="note">…</p>}
      <PoolLegend />
      {state
        ? POOLS.map((pool) => {
            const p = state.pools[pool];
            const keda = scenario?.keda.pools[pool];
            return (
              <div className="pool-row" key={pool} data-testid={`pool-${pool}`}>
                <span className="pool-name">{pool}</span>
                <span>
                  {p.ready} ready · {p.starting} starting · desired {p.desired} (min {p.min}, max {p.max})
                </span>
                <button
                  type="button"
                  aria-label={`remove a ${pool} worker`}
                  data-testid={`scale-${pool}-down`}
                  disabled={!manual || action.busy || p.desired <= p.min}
                  onClick={() => scale(pool, p.desired - 1)}
                >
                  −
                </button>
                <button
                  type="button"
                  aria-label={`add a ${pool} worker`}
                  data-testid={`scale-${pool}-up`}
                  disabled={!manual || action.busy || p.desired >= p.max || state.free_gpus <= 0}
                  onClick={() => scale(pool, p.desired + 1)}
                >
                  +
                </button>
                <span className="scaling">{scenario?.scaling[pool] ?? ""}</span>
                {keda ? (
                  <span className="keda-metric" title="KEDA trigger: metric vs threshold, desired replicas">
                    KEDA {kedaMetric(keda.metric)} / {kedaMetric(keda.threshold)} → {keda.desired ?? "–"}
                  </span>
                ) : null}
                {keda?.metrics_missing_since_s != null ? (
                  <span className="keda-holding" data-testid={`keda-holding-${pool}`} title={keda.note ?? ""}>
                    no metrics since t={Math.round(keda.metrics_missing_since_s)} s: holding
                  </span>
                ) : null}
              </div>
            );
          })
        : null}
      <p className="note" data-testid="keda-state">
        {scenario
          ? `KEDA ${scenario.keda.paused ? "paused (the script scales)" : "active (it scales the pools)"} · ${scenario.keda.backend}`
          : "KEDA state unknown"}
        {manual ? "" : " · manual scaling only in manual mode"}
      </p>
    </section>
  );
}
