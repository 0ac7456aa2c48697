// The 1 Hz live aggregates from /api/events (SSE), kept as a rolling history for the charts.
// Reconnects by itself with a capped backoff; a silent stream counts as a lost connection.
import { useEffect, useState } from "react";
import type { LiveSnapshot } from "../api/types";
import { reportLost, reportOk } from "./connection";

export interface Sample {
  t_s: number; // epoch seconds of the snapshot
  snap: LiveSnapshot;
}

export const HISTORY_LIMIT = 900; // samples kept (15 minutes at 1 Hz)
const SILENCE_MS = 15_000; // the server sends one a second; a busy one can lag seconds
const BACKOFF_MS = [500, 1000, 2000, 4000];

export function appendSample(history: readonly Sample[], snap: LiveSnapshot, limit = HISTORY_LIMIT): Sample[] {
  const t_s = Date.parse(snap.at) / 1000;
  const last = history[history.length - 1];
  if (last && t_s <= last.t_s) return history as Sample[]; // replayed on reconnect
  const next = history.length >= limit ? history.slice(history.length - limit + 1) : history.slice();
  next.push({ t_s, snap });
  return next;
}

export function useLive(): { latest: LiveSnapshot | null; history: Sample[] } {
  const [history, setHistory] = useState<Sample[]>([]);

  useEffect(() => {
    let source: EventSource | null = null;
    let retry: number | undefined;
    let watchdog: number | undefined;
    let failures = 0;
    let closed = false;

    const arm = () => {
      window.clearTimeout(watchdog);
      watchdog = window.setTimeout(() => fail(), SILENCE_MS);
    };
    const fail = () => {
      if (closed) return;
      source?.close();
      source = null;
      window.clearTimeout(watchdog);
      reportLost();
      const delay = BACKOFF_MS[Math.min(failures, BACKOFF_MS.length - 1)];
      failures += 1;
      window.clearTimeout(retry);
      retry = window.setTimeout(connect, delay);
    };
    const connect = () => {
      if (closed) return;
      source = new EventSource("/api/events");
      arm();
      source.addEventListener("snapshot", (event) => {
        failures = 0;
        reportOk();
        arm();
        const snap = JSON.parse((event as MessageEvent<string>).data) as LiveSnapshot;
        setHistory((h) => appendSample(h, snap));
      });
      source.onerror = fail;
    };
    connect();
    return () => {
      closed = true;
      source?.close();
      window.clearTimeout(retry);
      window.clearTimeout(watchdog);
    };
  }, []);

  const last = history[history.length - 1];
  return { latest: last ? last.snap : null, history };
}
