// Whether the backend answers: every live source reports here; the banner reads it.
import { useSyncExternalStore } from "react";

export interface ConnectionState {
  lost: boolean;
  since: number | null; // epoch ms of the first failure in this outage
  attempts: number;
}

let state: ConnectionState = { lost: false, since: null, attempts: 0 };
const listeners = new Set<() => void>();

function set(next: ConnectionState): void {
  if (next.lost === state.lost && next.attempts === state.attempts) return;
  state = next;
  listeners.forEach((l) => l());
}

export function reportOk(): void {
  if (state.lost) set({ lost: false, since: null, attempts: 0 });
}

export function reportLost(): void {
  set({ lost: true, since: state.since ?? Date.now(), attempts: state.attempts + 1 });
}

export function useConnection(): ConnectionState {
  return useSyncExternalStore(
    (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    () => state,
  );
}
