// The charts' data: the app's own history of the last five minutes (GET /api/history), loaded
// whole when the page opens (so a reload backfills at once) and then asked only for newer points.
import { useEffect, useRef, useState } from "react";
import { ApiError, get } from "../api/client";
import type { HistoryPoint, HistoryView, KvReading } from "../api/types";
import { reportLost, reportOk } from "./connection";

const POLL_MS = 1000;

/** `kept` then the points of `fresh` newer than its last, trimmed to `windowS` before the newest. */
export function mergePoints(kept: readonly HistoryPoint[], fresh: readonly HistoryPoint[], windowS: number): HistoryPoint[] {
  const last = kept.length ? kept[kept.length - 1]!.t_s : -Infinity;
  const next = [...kept, ...fresh.filter((p) => p.t_s > last)];
  const newest = next.length ? next[next.length - 1]!.t_s : 0;
  const first = next.findIndex((p) => p.t_s >= newest - windowS);
  return first > 0 ? next.slice(first) : next;
}

export function useHistory(): { points: HistoryPoint[]; kv: KvReading | null } {
  const [points, setPoints] = useState<HistoryPoint[]>([]);
  const [kv, setKv] = useState<KvReading | null>(null);
  const lastT = useRef<number | null>(null);

  useEffect(() => {
    let closed = false;
    let busy = false;
    const load = async () => {
      if (busy) return; // a slow answer is not asked again on top of itself
      busy = true;
      const after = lastT.current;
      try {
        const view = await get<HistoryView>(after === null ? "/api/history" : `/api/history?after=${after}`);
        if (closed) return;
        reportOk();
        setKv(view.kv);
        const newest = view.points[view.points.length - 1];
        if (newest) lastT.current = newest.t_s;
        setPoints((kept) => (view.points.length ? mergePoints(kept, view.points, view.window_s) : kept));
      } catch (exc) {
        if (closed) return;
        setKv(null); // no answer from the app: its last KV number is not current either
        if (exc instanceof ApiError && exc.status === 0) reportLost();
      } finally {
        busy = false;
      }
    };
    void load();
    const timer = window.setInterval(() => void load(), POLL_MS);
    return () => {
      closed = true;
      window.clearInterval(timer);
    };
  }, []);

  return { points, kv };
}
