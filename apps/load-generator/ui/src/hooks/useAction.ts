// Runs presenter actions: one at a time per caller, the server's error shown, 401 remembered.
import { useCallback, useState } from "react";
import { ApiError } from "../api/client";

export interface Action {
  busy: boolean;
  error: string | null;
  unauthorized: boolean;
  run: <T>(call: () => Promise<T>, onOk?: (value: T) => void) => Promise<void>;
  clear: () => void;
}

export function useAction(): Action {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [unauthorized, setUnauthorized] = useState(false);
  const run = useCallback(async <T,>(call: () => Promise<T>, onOk?: (value: T) => void) => {
    setBusy(true);
    try {
      const value = await call();
      setError(null);
      setUnauthorized(false);
      onOk?.(value);
    } catch (exc) {
      const err = exc instanceof ApiError ? exc : new ApiError(0, String(exc));
      setUnauthorized(err.status === 401);
      setError(err.status === 401 ? "Presenter token missing or wrong: enter it above." : err.message);
    } finally {
      setBusy(false);
    }
  }, []);
  return { busy, error, unauthorized, run, clear: () => setError(null) };
}
