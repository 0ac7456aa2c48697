// Pool sizes over time, sampled from the /api/pools polls (for the audience's pool chart).
import { useEffect, useState } from "react";
import type { PoolsState } from "../api/types";
import { HISTORY_LIMIT } from "./useLive";
import type { PoolSample } from "../lib/series";

export function usePoolHistory(pools: PoolsState | null): PoolSample[] {
  const [history, setHistory] = useState<PoolSample[]>([]);
  useEffect(() => {
    if (!pools) return;
    setHistory((h) => {
      const next = h.length >= HISTORY_LIMIT ? h.slice(h.length - HISTORY_LIMIT + 1) : h.slice();
      next.push({ t_s: Date.now() / 1000, pools });
      return next;
    });
  }, [pools]);
  return history;
}
