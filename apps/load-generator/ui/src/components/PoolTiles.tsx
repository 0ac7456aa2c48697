// GPUs of the budget as tiles: each pool's ready and starting workers, then the free GPUs.
import type { Pool, PoolsState } from "../api/types";
import { POOLS } from "../api/types";
import { POOL_COLOUR } from "../lib/palette";

interface Tile {
  pool: Pool | null;
  state: "ready" | "starting" | "free";
}

export function tilesOf(state: PoolsState): Tile[] {
  const tiles: Tile[] = [];
  for (const pool of POOLS) {
    const p = state.pools[pool];
    for (let i = 0; i < p.ready; i++) tiles.push({ pool, state: "ready" });
    for (let i = 0; i < p.starting; i++) tiles.push({ pool, state: "starting" });
  }
  const free = Math.max(0, state.budget_gpus - tiles.length);
  for (let i = 0; i < free; i++) tiles.push({ pool: null, state: "free" });
  return tiles;
}

export function PoolTiles({ state, big = false }: { state: PoolsState; big?: boolean }) {
  return (
    <div className={big ? "tiles tiles-big" : "tiles"} data-testid="gpu-tiles">
      {tilesOf(state).map((t, i) => {
        const colour = t.pool ? POOL_COLOUR[t.pool] : undefined;
        const label = t.pool ? (t.pool === "prefill" ? "P" : "D") : "";
        return (
          <div
            key={i}
            className={`tile tile-${t.state}`}
            style={colour ? { borderColor: colour, background: t.state === "ready" ? colour : undefined } : undefined}
            title={t.pool ? `${t.pool} worker, ${t.state}` : "free GPU"}
            data-state={t.state}
            data-pool={t.pool ?? "free"}
          >
            {label}
            {t.state === "starting" ? <span className="tile-sub">starting</span> : null}
          </div>
        );
      })}
    </div>
  );
}

export function PoolLegend() {
  return (
    <div className="pool-legend">
      {POOLS.map((p) => (
        <span key={p}>
          <span className="swatch" style={{ background: POOL_COLOUR[p] }} /> {p}
        </span>
      ))}
      <span>
        <span className="swatch swatch-starting" /> starting
      </span>
      <span>
        <span className="swatch swatch-free" /> free
      </span>
    </div>
  );
}
