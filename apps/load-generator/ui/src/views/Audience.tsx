// The audience screen (1920x1080, read from a distance): phase and caption, SLO verdicts, GPU
// tiles and six live charts over the last five minutes with scaling events marked on each, drawn
// from the app's own history (a reloaded screen backfills at once). When
// the scenario says so (the presenter's toggle, or an auto phase with `show: comparison`), the
// recorded "why disaggregation" panel takes the charts' place; with none recorded the charts stay.
import { useMemo } from "react";
import type { LatestComparison, LiveSnapshot, PoolsState, ScenarioState, Workload } from "../api/types";
import { WORKLOADS } from "../api/types";
import { Chart, type HLine, type SeriesSpec } from "../components/Chart";
import { FrozenStreams } from "../components/FrozenStreams";
import { PoolLegend, PoolTiles } from "../components/PoolTiles";
import { WhyPanel } from "../components/WhyPanel";
import { useHistory } from "../hooks/useHistory";
import { useLive } from "../hooks/useLive";
import { usePoll } from "../hooks/usePoll";
import { ms, percent, rate } from "../lib/format";
import { NEUTRAL, POOL_COLOUR, WORKLOAD_COLOUR, WORKLOAD_LABEL } from "../lib/palette";
import { chatTurnTable, kvTable, kvText, latencyTable, poolTable, scaleMarkers, throughputTable } from "../lib/series";
import { SLO_LABEL, sloLevel } from "../lib/slo";
import { PhaseProgress } from "./presenter/ScenarioPanel";

const WINDOW_S = 300;

function latencySeries(): SeriesSpec[] {
  return WORKLOADS.flatMap((w) => [
    { label: `${WORKLOAD_LABEL[w]} p50`, colour: WORKLOAD_COLOUR[w], dash: [6, 6], width: 1.5 },
    { label: `${WORKLOAD_LABEL[w]} p95`, colour: WORKLOAD_COLOUR[w], width: 2.5 },
  ]);
}

function sloLines(live: LiveSnapshot | null, key: "ttft_p95_ms" | "itl_p95_ms"): HLine[] {
  if (!live) return [];
  const byValue = new Map<number, Workload[]>();
  for (const w of WORKLOADS) {
    const v = live.workloads[w].slo[key];
    byValue.set(v, [...(byValue.get(v) ?? []), w]);
  }
  return [...byValue.entries()].map(([value, ws]) => ({
    value,
    colour: ws.length === 1 ? WORKLOAD_COLOUR[ws[0] as Workload] : NEUTRAL,
    label: `SLO ${ms(value)}${ws.length === WORKLOADS.length ? "" : ` (${ws.map((w) => WORKLOAD_LABEL[w].split(" ")[0]).join(", ")})`}`,
  }));
}

function SloStrip({ live }: { live: LiveSnapshot | null }) {
  return (
    <div className="slo-strip" data-testid="slo-strip">
      {WORKLOADS.map((w) => {
        const v = live?.workloads[w];
        const cells: [string, number | null, number | undefined][] = [
          ["TTFT p95", v?.ttft_ms.p95 ?? null, v?.slo.ttft_p95_ms],
          ["ITL p95", v?.itl_ms.p95 ?? null, v?.slo.itl_p95_ms],
        ];
        return (
          <div className="slo-card" key={w}>
            <div className="slo-card-title" style={{ color: WORKLOAD_COLOUR[w] }}>
              {WORKLOAD_LABEL[w]} <span className="sub">{rate(v?.achieved_rps)}</span>
            </div>
            {cells.map(([label, value, limit]) => {
              const level = limit === undefined ? "none" : sloLevel(value, limit);
              return (
                <div className={`slo-cell slo-${level}`} key={label} data-level={level}>
                  <span className="slo-metric">{label}</span>
                  <span className="slo-value">{ms(value)}</span>
                  <span className="slo-limit">
                    {SLO_LABEL[level]} ({ms(limit)})
                  </span>
                </div>
              );
            })}
          </div>
        );
      })}
    </div>
  );
}

export function Audience() {
  const { latest } = useLive();
  const { points, kv } = useHistory();
  const scenario = usePoll<ScenarioState>("/api/scenario", 1000);
  const pools = usePoll<PoolsState>("/api/pools", 1000);
  // The controller's timeline is kept by the app too: markers survive a reload with the charts.
  const markers = useMemo(() => scaleMarkers(scenario.data?.timeline), [scenario.data?.timeline]);

  const ttft = useMemo(() => latencyTable(points, "ttft"), [points]);
  const itl = useMemo(() => latencyTable(points, "itl"), [points]);
  const turns = useMemo(() => chatTurnTable(points), [points]);
  const hit = useMemo(() => kvTable(points), [points]);
  const throughput = useMemo(() => throughputTable(points), [points]);
  const poolsTable = useMemo(() => poolTable(points), [points]);
  const series = useMemo(latencySeries, []);
  const ttftLines = useMemo(() => sloLines(latest, "ttft_p95_ms"), [latest]);
  const itlLines = useMemo(() => sloLines(latest, "itl_p95_ms"), [latest]);
  const s = scenario.data;
  const wantsComparison = s?.audience.show === "comparison";
  const latestComparison = usePoll<LatestComparison>(wantsComparison ? "/api/comparison" : null, 10_000);
  const comparison = wantsComparison ? (latestComparison.data?.comparison ?? null) : null;

  return (
    <div className="audience" data-testid="audience">
      <header className="audience-head">
        <div className="audience-phase">
          {s && s.phase && s.mode !== "stopped" ? (
            <PhaseProgress scenario={s} big />
          ) : (
            <div className="phase phase-big">
              <div className="phase-head">
                <span className="phase-name" data-testid="phase-name">
                  Disaggregated inference: prefill and decode on their own GPUs
                </span>
              </div>
              <p className="phase-caption">
                {s ? (s.mode === "manual" ? "Presenter in control" : "Waiting for the demo to start") : "Live view"}
              </p>
            </div>
          )}
        </div>
        <div className="audience-pools">
          {pools.data ? <PoolTiles state={pools.data} big /> : null}
          <PoolLegend />
          {s ? (
            <div className="scaling-state">
              prefill: {s.scaling.prefill} · decode: {s.scaling.decode} · KEDA {s.keda.paused ? "paused" : "active"}
            </div>
          ) : null}
        </div>
      </header>
      {comparison ? <WhyPanel comparison={comparison} big /> : null}
      {wantsComparison && latestComparison.data && !comparison ? (
        <p className="why-none" data-testid="why-none">
          Layout comparison: none recorded yet.
        </p>
      ) : null}
      {comparison ? null : <SloStrip live={latest} />}
      {comparison ? null : <FrozenStreams live={latest} />}
      {comparison ? null : (
        <div className="audience-grid">
          <Chart big testId="chart-ttft" title="Time to first token" table={ttft} series={series} lines={ttftLines} markers={markers} windowS={WINDOW_S} log yFormat={ms} />
          <Chart big testId="chart-itl" title="Inter-token latency" table={itl} series={series} lines={itlLines} markers={markers} windowS={WINDOW_S} yFormat={ms} />
          <Chart
            big
            testId="chart-turns"
            title="Chat TTFT: turn 1 vs turns 2+ (mean)"
            table={turns}
            series={[
              { label: "turn 1 (new prefix)", colour: WORKLOAD_COLOUR.summarization, width: 2.5 },
              { label: "turns 2+ (prefix cached)", colour: WORKLOAD_COLOUR.chat, width: 2.5 },
            ]}
            markers={markers}
            windowS={WINDOW_S}
            log
            yFormat={ms}
          />
          <Chart
            big
            testId="chart-kv"
            title={`KV cache hit rate: ${kvText(kv)}`}
            table={hit}
            series={[{ label: "prompt tokens cached on the chosen prefill worker (router, last minute)", colour: WORKLOAD_COLOUR.chat, width: 2.5 }]}
            markers={markers}
            windowS={WINDOW_S}
            yMin={0}
            yMax={1}
            yFormat={(v) => percent(v)}
          />
          <Chart
            big
            testId="chart-throughput"
            title="Throughput"
            table={throughput}
            series={[
              { label: "achieved RPS", colour: WORKLOAD_COLOUR.chat, width: 2.5 },
              { label: "target RPS", colour: WORKLOAD_COLOUR.chat, dash: [6, 6], width: 1.5 },
              { label: "output tokens/s", colour: WORKLOAD_COLOUR.summarization, width: 2.5, scale: "y2" },
            ]}
            markers={markers}
            windowS={WINDOW_S}
            yFormat={(v) => v.toFixed(1)}
            y2Format={(v) => (v >= 10 ? v.toFixed(0) : v.toFixed(1))}
          />
          <Chart
            big
            testId="chart-pools"
            title="Workers per pool"
            table={poolsTable}
            series={[
              { label: "prefill ready", colour: POOL_COLOUR.prefill, width: 3 },
              { label: "prefill desired", colour: POOL_COLOUR.prefill, dash: [6, 6], width: 1.5 },
              { label: "decode ready", colour: POOL_COLOUR.decode, width: 3 },
              { label: "decode desired", colour: POOL_COLOUR.decode, dash: [6, 6], width: 1.5 },
            ]}
            markers={markers}
            windowS={WINDOW_S}
            yMin={0}
            yFormat={(v) => (Number.isInteger(v) ? String(v) : "")}
          />
        </div>
      )}
    </div>
  );
}
