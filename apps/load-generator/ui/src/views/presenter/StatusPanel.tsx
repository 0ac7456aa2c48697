// Live health for the presenter: SLO state per workload, errors, client saturation, follow-ups.
import type { ReactNode } from "react";
import type { LiveSnapshot, StatusResponse } from "../../api/types";
import { WORKLOADS } from "../../api/types";
import { ms, rate } from "../../lib/format";
import { SLO_GLYPH, SLO_LABEL, sloLevel } from "../../lib/slo";
import { WORKLOAD_COLOUR, WORKLOAD_LABEL } from "../../lib/palette";

interface Props {
  live: LiveSnapshot | null;
  status: StatusResponse | null;
  children?: ReactNode; // more live readings (the KV hit rate)
}

export function StatusPanel({ live, status, children }: Props) {
  const followup = status?.followup;
  return (
    <section className="panel" data-testid="status-panel" data-at={live?.at}>
      <h2>Live ({live ? `${live.window_s.toFixed(0)} s window` : "waiting"})</h2>
      {live?.client.saturated ? (
        <p className="banner banner-warn" data-testid="saturation">
          The load generator is saturated (event loop lag {ms(live.client.event_loop_lag_ms)}, dispatch lag p99{" "}
          {ms(live.client.dispatch_lag_p99_ms)}): measured latencies include client delay.
        </p>
      ) : null}
      <table className="live-table">
        <thead>
          <tr>
            <th>workload</th>
            <th>target</th>
            <th>achieved</th>
            <th>in flight</th>
            <th>TTFT p95</th>
            <th>ITL p95</th>
            <th>errors</th>
            <th>dropped</th>
          </tr>
        </thead>
        <tbody>
          {WORKLOADS.map((w) => {
            const v = live?.workloads[w];
            const ttft = v ? sloLevel(v.ttft_ms.p95, v.slo.ttft_p95_ms) : "none";
            const itl = v ? sloLevel(v.itl_ms.p95, v.slo.itl_p95_ms) : "none";
            const reasons = v ? Object.entries(v.reasons).map(([k, n]) => `${k}: ${n}`).join(", ") : "";
            return (
              <tr key={w} data-testid={`live-${w}`}>
                <td style={{ color: WORKLOAD_COLOUR[w] }}>{WORKLOAD_LABEL[w]}</td>
                <td>{rate(v?.target_rps)}</td>
                <td>{rate(v?.achieved_rps)}</td>
                <td>{v ? `${v.in_flight}${v.queued ? ` (+${v.queued} queued)` : ""}` : "–"}</td>
                <td className={`slo slo-${ttft}`} title={SLO_LABEL[ttft]}>
                  {v ? `${SLO_GLYPH[ttft]} ${ms(v.ttft_ms.p95)} / ${ms(v.slo.ttft_p95_ms)}` : "–"}
                </td>
                <td className={`slo slo-${itl}`} title={SLO_LABEL[itl]}>
                  {v ? `${SLO_GLYPH[itl]} ${ms(v.itl_ms.p95)} / ${ms(v.slo.itl_p95_ms)}` : "–"}
                </td>
                <td className={v && v.errors > 0 ? "warn" : ""} title={reasons}>
                  {v?.errors ?? "–"}
                </td>
                <td className={v && v.dropped > 0 ? "warn" : ""}>{v?.dropped ?? "–"}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {children}
      {followup ? (
        <p className="note" data-testid="followup">
          Follow-up questions: {followup.mode === "remote" ? `live model (${followup.remote ?? "?"})` : "fallback bank"}
          {" · "}
          {Object.entries(followup.counts)
            .map(([k, n]) => `${k} ${n}`)
            .join(", ")}
          {followup.last_fallback_reason ? ` · last fallback: ${followup.last_fallback_reason}` : ""}
          {followup.last_error ? ` · last error: ${followup.last_error}` : ""}
        </p>
      ) : null}
    </section>
  );
}
