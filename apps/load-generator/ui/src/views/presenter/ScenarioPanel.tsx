// Auto / manual / stop, the current phase with progress and time left, the next scaling action.
import { post } from "../../api/client";
import type { ScenarioMode, ScenarioState } from "../../api/types";
import type { Action } from "../../hooks/useAction";
import type { Polled } from "../../hooks/usePoll";
import { clock } from "../../lib/format";

const MODES: { mode: ScenarioMode; label: string; path: string }[] = [
  { mode: "auto", label: "Auto", path: "/api/scenario/auto" },
  { mode: "manual", label: "Manual", path: "/api/scenario/manual" },
  { mode: "stopped", label: "Stop", path: "/api/scenario/stop" },
];

export function PhaseProgress({ scenario, big = false }: { scenario: ScenarioState; big?: boolean }) {
  const phase = scenario.phase;
  if (!phase) return <p className="note">No phase running.</p>;
  const done = phase.duration_s > 0 ? Math.min(1, phase.elapsed_s / phase.duration_s) : 0;
  return (
    <div className={big ? "phase phase-big" : "phase"} data-testid="phase">
      <div className="phase-head">
        <span className="phase-name" data-testid="phase-name">
          {phase.name}
        </span>
        <span className="phase-count">
          phase {phase.index + 1}/{phase.count}
          {scenario.cycle > 0 ? ` · cycle ${scenario.cycle + 1}` : ""}
        </span>
      </div>
      <p className="phase-caption" data-testid="phase-caption">
        {phase.caption}
      </p>
      <div className="progress" role="progressbar" aria-valuenow={Math.round(done * 100)} aria-valuemin={0} aria-valuemax={100}>
        <div className="progress-bar" style={{ width: `${done * 100}%` }} />
      </div>
      <div className="phase-time">
        {clock(phase.elapsed_s)} / {clock(phase.duration_s)} · {clock(phase.time_left_s)} left
        {scenario.speed !== 1 ? ` (demo time, ×${scenario.speed})` : ""}
      </div>
    </div>
  );
}

export function ScenarioPanel({ scenario, action }: { scenario: Polled<ScenarioState>; action: Action }) {
  if (scenario.missing) {
    return (
      <section className="panel" data-testid="scenario-panel">
        <h2>Scenario</h2>
        <p className="note">This back end has no scenario controller (no /api/scenario).</p>
      </section>
    );
  }
  const s = scenario.data;
  return (
    <section className="panel" data-testid="scenario-panel">
      <h2>Scenario</h2>
      <div className="segmented" role="group" aria-label="scenario mode">
        {MODES.map((m) => (
          <button
            key={m.mode}
            type="button"
            data-testid={`mode-${m.mode}`}
            aria-pressed={s?.mode === m.mode}
            disabled={!s || action.busy}
            onClick={() => void action.run(() => post<ScenarioState>(m.path), scenario.accept)}
          >
            {m.label}
          </button>
        ))}
        <span className="mode" data-testid="scenario-mode">
          {s ? s.mode : "…"}
        </span>
      </div>
      {s && s.mode !== "stopped" ? <PhaseProgress scenario={s} /> : null}
      {s?.next_action ? (
        <p className="next-action" data-testid="next-action">
          Next: {s.next_action.pool} → {s.next_action.replicas} in {clock(s.next_action.in_s)} ({s.next_action.reason})
        </p>
      ) : null}
      {s ? (
        <ul className="timeline" data-testid="timeline">
          {s.timeline
            .slice(-6)
            .reverse()
            .map((e, i) => (
              <li key={`${e.wall_time}-${i}`} className={`tl tl-${e.kind}`}>
                <span className="tl-time">{new Date(e.wall_time).toLocaleTimeString()}</span>
                <span className="tl-source">{e.source}</span> {e.message}
              </li>
            ))}
        </ul>
      ) : null}
    </section>
  );
}
