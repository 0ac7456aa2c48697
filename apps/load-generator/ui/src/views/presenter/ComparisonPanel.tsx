// The presenter's "why disaggregation" control: is a comparison recorded, what it says, and a
// toggle that puts it on the audience screen (the audience view follows GET /api/scenario).
import { put } from "../../api/client";
import type { LatestComparison, ScenarioState, Segment } from "../../api/types";
import { WhyPanel } from "../../components/WhyPanel";
import type { Action } from "../../hooks/useAction";
import type { Polled } from "../../hooks/usePoll";

function screenText(s: ScenarioState): string {
  const a = s.audience;
  if (a.show === "live") return "live charts";
  if (a.source === "script") return `comparison (the script's phase ${s.phase?.name ?? ""})`;
  return "comparison (your toggle)";
}

export function ComparisonPanel({
  latest,
  scenario,
  action,
}: {
  latest: Polled<LatestComparison>;
  scenario: Polled<ScenarioState>;
  action: Action;
}) {
  const s = scenario.data;
  const recorded = latest.data?.recorded === true && latest.data.comparison !== null;
  const choice: Segment = s?.audience.presenter ?? "live";
  const next: Segment = choice === "comparison" ? "live" : "comparison";
  return (
    <section className="panel panel-wide" data-testid="comparison-panel">
      <h2>Why disaggregation</h2>
      <div className="row">
        <button
          type="button"
          data-testid="show-comparison"
          aria-pressed={choice === "comparison"}
          disabled={!s || action.busy || (!recorded && next === "comparison")}
          onClick={() => void action.run(() => put<ScenarioState>("/api/scenario/audience", { show: next }), scenario.accept)}
        >
          {choice === "comparison" ? "Back to live charts" : "Show on the audience screen"}
        </button>
        <span className="note" data-testid="audience-screen">
          Audience screen: {s ? screenText(s) : "…"}
        </span>
      </div>
      {latest.data && latest.data.comparison && recorded ? (
        <WhyPanel comparison={latest.data.comparison} />
      ) : (
        <p className="note" data-testid="why-none">
          {latest.data ? "No comparison recorded yet — run make compare." : "Asking for the latest comparison…"}
          {latest.data?.note && latest.data.note !== "no comparison recorded yet" ? ` (${latest.data.note})` : ""}
        </p>
      )}
    </section>
  );
}
