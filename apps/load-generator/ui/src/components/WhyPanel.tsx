// The "why disaggregation" panel: the latest recorded layout comparison (`make compare`): one
// sentence of what its valid runs say (lib/comparison.ts `verdict`), one card per layout with
// goodput per GPU, its ratio to aggregated and the streams that froze, the plot, and a label
// saying where and when it was measured. Recorded numbers, never live ones: the panel says so.
import type { Comparison, Workload } from "../api/types";
import { WORKLOADS } from "../api/types";
import { guardLabel, gpuSeconds, measuredLabel, perGpu, ratioLabel, verdict, verdictSource } from "../lib/comparison";
import { percent } from "../lib/format";
import { WORKLOAD_COLOUR, WORKLOAD_LABEL } from "../lib/palette";

function attainmentOf(shares: Record<string, number | null>): [Workload, number | null][] {
  return WORKLOADS.filter((w) => w in shares).map((w) => [w, shares[w] ?? null]);
}

export function WhyPanel({ comparison: c, big = false }: { comparison: Comparison; big?: boolean }) {
  return (
    <section className={big ? "why why-big" : "why"} data-testid="why-panel">
      <header className="why-head">
        <h2 className="why-title">
          Why disaggregation: same traffic, same GPUs <span className="why-tag">recorded, not live</span>
        </h2>
        <p className="why-headline" data-testid="why-headline">
          {verdict(c)}.
        </p>
        <p className="why-source" data-testid="why-source">
          {verdictSource(c)}
        </p>
      </header>
      <div className="why-cards">
        {Object.entries(c.layouts).map(([name, l]) => (
          <div className={`why-card${l.valid ? "" : " why-invalid"}`} key={name} data-testid={`why-layout-${name}`}>
            <div className="why-card-title">{l.title}</div>
            <div className="why-metric">
              <span className="why-value" data-testid="why-goodput">
                {perGpu(l.goodput_per_gpu)}
              </span>
              <span className="why-unit">requests within SLO / s per GPU</span>
            </div>
            <div className="why-ratio" data-testid="why-ratio">
              {name === "aggregated" ? "baseline" : ratioLabel(l, c.layouts.aggregated)}
            </div>
            <div className="why-facts">
              <span data-testid="why-gpu-seconds">{gpuSeconds(l.gpu_seconds)}</span> · {l.requests} requests
              {l.frozen_streams === null || l.frozen_streams === undefined ? null : (
                <>
                  {" "}
                  · <span data-testid="why-frozen">{l.frozen_streams} froze</span>
                </>
              )}
            </div>
            <div className="why-attainment" data-testid="why-attainment">
              SLO met:{" "}
              {attainmentOf(l.slo_attainment).map(([w, share]) => (
                <span key={w} className="why-share">
                  <span style={{ color: WORKLOAD_COLOUR[w] }}>{WORKLOAD_LABEL[w].split(" ")[0]}</span> {percent(share)}
                </span>
              ))}
            </div>
            <div className="why-guard" data-testid="why-valid">
              {l.valid ? "valid run" : "⚠ INVALID run (CPU-bound)"}
            </div>
          </div>
        ))}
      </div>
      {c.plot ? (
        <img className="why-plot" src={c.plot} alt="Requests within every SLO per GPU-second, by phase and layout" data-testid="why-plot" />
      ) : null}
      <footer className="why-label" data-testid="why-label">
        <div>{measuredLabel(c)}</div>
        <div className={c.valid ? "" : "why-label-invalid"} data-testid="why-guard">
          {guardLabel(c)}
        </div>
      </footer>
    </section>
  );
}
