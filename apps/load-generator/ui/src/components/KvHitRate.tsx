// The router's prefill-side KV cache hit rate for the presenter: the number the audience sees.
import type { KvReading } from "../api/types";
import { kvText } from "../lib/series";

export function KvHitRate({ reading }: { reading: KvReading | null }) {
  const live = reading?.status === "live";
  return (
    <p className={live ? "note" : "note warn"} data-testid="kv-hit-rate" data-status={reading?.status ?? "unavailable"} title={reading?.detail}>
      KV cache hit rate (prefill side, router, last minute): <strong>{kvText(reading)}</strong>
      {reading && !live ? ` · ${reading.detail}` : ""}
    </p>
  );
}
