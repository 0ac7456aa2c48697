// Start/stop, total rate, A/B/C mix, in-flight cap and presets. Edits are sent debounced; the
// numbers shown beside the controls are the server's confirmed config, not the sliders'.
import { useEffect, useRef, useState } from "react";
import { post, put } from "../../api/client";
import type { ConfigResponse, LoadConfig, PresetList, StateResponse, StatusResponse } from "../../api/types";
import { WORKLOADS } from "../../api/types";
import type { Polled } from "../../hooks/usePoll";
import { usePoll } from "../../hooks/usePoll";
import type { Action } from "../../hooks/useAction";
import { rate } from "../../lib/format";
import { WORKLOAD_COLOUR, WORKLOAD_LABEL } from "../../lib/palette";

export const DEBOUNCE_MS = 300;
const MAX_RPS_SLIDER = 10;

function shares(config: LoadConfig): Record<string, number> {
  const total = config.mix.chat + config.mix.summarization + config.mix.reasoning;
  return Object.fromEntries(WORKLOADS.map((w) => [w, total > 0 ? config.mix[w] / total : 0]));
}

interface Props {
  status: Polled<StatusResponse>;
  action: Action;
  locked: string | null; // why the controls are read-only (e.g. auto mode), or null
}

export function LoadPanel({ status, action, locked }: Props) {
  const presets = usePoll<PresetList>("/api/presets", 10_000);
  const server = status.data?.config ?? null;
  const [draft, setDraft] = useState<LoadConfig | null>(null);
  const sent = useRef<LoadConfig | null>(null);
  const shown = draft ?? server;

  useEffect(() => {
    if (draft === null) return;
    const timer = window.setTimeout(() => {
      sent.current = draft;
      void action.run(
        () => put<ConfigResponse>("/api/workload/config", draft),
        (resp) => {
          if (status.data) status.accept({ ...status.data, config: resp.config, active_preset: resp.active_preset });
        },
      ).then(() => setDraft((d) => (d === sent.current ? null : d))); // sent or refused: show the server's
    }, DEBOUNCE_MS);
    return () => window.clearTimeout(timer);
  }, [draft]);

  const edit = (change: (c: LoadConfig) => LoadConfig) => {
    if (shown) setDraft(change(shown));
  };
  const running = status.data?.state === "running";
  const disabled = locked !== null || !shown;
  const confirmedShares = server ? shares(server) : null;

  return (
    <section className="panel" data-testid="load-panel">
      <h2>Load</h2>
      <div className="row">
        <span className={`state state-${status.data?.state ?? "unknown"}`} data-testid="engine-state">
          {status.data?.state ?? "…"}
        </span>
        <button
          type="button"
          data-testid="start"
          disabled={running || action.busy || locked !== null}
          onClick={() => void action.run(() => post<StateResponse>("/api/workload/start"), status.refresh)}
        >
          Start
        </button>
        <button
          type="button"
          data-testid="stop"
          disabled={!running || action.busy || locked !== null}
          onClick={() => void action.run(() => post<StateResponse>("/api/workload/stop"), status.refresh)}
        >
          Stop
        </button>
      </div>
      {locked ? <p className="note">{locked}</p> : null}
      <div className="presets" data-testid="presets">
        {(presets.data?.presets ?? []).map((p) => (
          <button
            key={p.id}
            type="button"
            title={p.description}
            data-preset={p.id}
            aria-pressed={status.data?.active_preset === p.id}
            disabled={disabled || action.busy}
            onClick={() =>
              void action.run(
                () => post<ConfigResponse>(`/api/presets/${p.id}`),
                (resp) => {
                  setDraft(null);
                  if (status.data)
                    status.accept({ ...status.data, config: resp.config, active_preset: resp.active_preset });
                },
              )
            }
          >
            {p.name}
          </button>
        ))}
      </div>
      {shown ? (
        <>
          <label className="slider">
            <span>Total rate</span>
            <input
              type="range"
              min={0}
              max={MAX_RPS_SLIDER}
              step={0.1}
              value={shown.rps}
              disabled={disabled}
              data-testid="rps-slider"
              onChange={(e) => {
                const rps = Number(e.target.value);
                edit((c) => ({ ...c, rps }));
              }}
            />
            <output>{rate(shown.rps)}</output>
            <span className="confirmed" data-testid="rps-confirmed">
              server: {server ? rate(server.rps) : "–"}
              {draft ? " (sending…)" : ""}
            </span>
          </label>
          {WORKLOADS.map((w) => (
            <label className="slider" key={w}>
              <span style={{ color: WORKLOAD_COLOUR[w] }}>{WORKLOAD_LABEL[w]}</span>
              <input
                type="range"
                min={0}
                max={1}
                step={0.05}
                value={shown.mix[w]}
                disabled={disabled}
                data-testid={`mix-${w}`}
                onChange={(e) => {
                  const weight = Number(e.target.value);
                  edit((c) => ({ ...c, mix: { ...c.mix, [w]: weight } }));
                }}
              />
              <output>{shown.mix[w].toFixed(2)}</output>
              <span className="confirmed" data-testid={`rps-${w}`}>
                {server && confirmedShares ? rate(server.rps * (confirmedShares[w] ?? 0)) : "–"}
              </span>
            </label>
          ))}
          <label className="slider">
            <span>In-flight cap</span>
            <input
              type="number"
              min={1}
              max={100000}
              value={shown.max_in_flight}
              disabled={disabled}
              data-testid="max-in-flight"
              onChange={(e) => {
                const cap = Math.max(1, Math.round(Number(e.target.value) || 1));
                edit((c) => ({ ...c, max_in_flight: cap }));
              }}
            />
            <output>per workload</output>
            <span className="confirmed">server: {server?.max_in_flight ?? "–"}</span>
          </label>
        </>
      ) : (
        <p className="note">waiting for the server…</p>
      )}
    </section>
  );
}
