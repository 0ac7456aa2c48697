// Polls a GET route; a 404 means "this back end has no such route" (e.g. no scenario controller).
import { useCallback, useEffect, useRef, useState } from "react";
import { ApiError, get } from "../api/client";
import { reportLost, reportOk } from "./connection";

const MISSING_RETRY_MS = 30_000;

export interface Polled<T> {
  data: T | null;
  error: ApiError | null;
  missing: boolean; // the route answered 404
  refresh: () => void;
  /** Replace the data with a server response (e.g. the body a mutation returned). */
  accept: (value: T) => void;
}

export function usePoll<T>(path: string | null, intervalMs: number): Polled<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const generation = useRef(0);

  const load = useCallback(async () => {
    if (path === null) return;
    const mine = ++generation.current;
    try {
      const value = await get<T>(path);
      if (mine !== generation.current) return;
      setData(value);
      setError(null);
      reportOk();
    } catch (exc) {
      if (mine !== generation.current) return;
      const err = exc instanceof ApiError ? exc : new ApiError(0, String(exc));
      setError(err);
      if (err.status === 0) reportLost();
    }
  }, [path]);

  const missing = error?.status === 404;
  useEffect(() => {
    if (path === null) return;
    if (!missing) void load();
    // A route this back end lacks is asked again only now and then (it may be upgraded).
    const timer = window.setInterval(() => void load(), missing ? MISSING_RETRY_MS : intervalMs);
    return () => window.clearInterval(timer);
  }, [load, intervalMs, path, missing]);

  const accept = useCallback((value: T) => {
    generation.current += 1; // a poll already in flight must not overwrite the newer state
    setData(value);
    setError(null);
  }, []);

  return { data, error, missing, refresh: () => void load(), accept };
}
