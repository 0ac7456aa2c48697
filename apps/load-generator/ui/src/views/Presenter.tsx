// The presenter's screen: load controls, scenario (auto/manual), GPU pools, live health, and the
// recorded layout comparison with its audience-screen toggle.
import type { KvReading, LatestComparison, PoolsState, ScenarioState, StatusResponse } from "../api/types";
import { KvHitRate } from "../components/KvHitRate";
import { TokenForm } from "../components/TokenGate";
import { useAction } from "../hooks/useAction";
import { useLive } from "../hooks/useLive";
import { usePoll } from "../hooks/usePoll";
import { ComparisonPanel } from "./presenter/ComparisonPanel";
import { LoadPanel } from "./presenter/LoadPanel";
import { PoolPanel } from "./presenter/PoolPanel";
import { ScenarioPanel } from "./presenter/ScenarioPanel";
import { StatusPanel } from "./presenter/StatusPanel";

export function Presenter() {
  const { latest } = useLive();
  const status = usePoll<StatusResponse>("/api/status", 2000);
  const scenario = usePoll<ScenarioState>("/api/scenario", 1000);
  const pools = usePoll<PoolsState>("/api/pools", 1000);
  const comparison = usePoll<LatestComparison>("/api/comparison", 10_000);
  const kv = usePoll<KvReading>("/api/kv-cache", 2000);
  const action = useAction();
  const mode = scenario.data?.mode;
  const locked = mode === "auto" ? "Auto mode drives the load: switch to manual to change it." : null;
  return (
    <div className="presenter">
      <header className="presenter-head">
        <h1>Presenter</h1>
        <span className="sub">
          {status.data ? `${status.data.model} at ${status.data.endpoint}` : ""}
        </span>
        <TokenForm rejected={action.unauthorized} />
      </header>
      {action.error ? (
        <div className="banner banner-warn" role="status" data-testid="action-error">
          {action.error}{" "}
          <button type="button" className="link" onClick={action.clear}>
            dismiss
          </button>
        </div>
      ) : null}
      <div className="presenter-grid">
        <LoadPanel status={status} action={action} locked={locked} />
        <ScenarioPanel scenario={scenario} action={action} />
        <PoolPanel pools={pools} scenario={scenario.data} action={action} />
        <StatusPanel live={latest} status={status.data}>
          <KvHitRate reading={kv.error ? null : kv.data} />
        </StatusPanel>
        <ComparisonPanel latest={comparison} scenario={scenario} action={action} />
      </div>
    </div>
  );
}
