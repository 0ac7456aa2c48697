// Unit tests of the "why disaggregation" wording: labels, ratios, the headline's honesty.
import { describe, expect, it } from "vitest";
import type { Comparison, LayoutResult } from "../api/types";
import { guardLabel, measuredLabel, perGpu, ratio, ratioLabel, verdict, verdictSource, when } from "./comparison";

function layout(
  title: string,
  goodput: number | null,
  r: number | null,
  valid = true,
  frozen: number | null = null,
): LayoutResult {
  return {
    title,
    valid,
    invalid_because: valid ? [] : ["client loop lag over its bound in 26% of live windows"],
    goodput_per_gpu: goodput,
    gpu_seconds: 800,
    requests: 60,
    slo_attainment: { chat: 0.9 },
    ratio_vs_aggregated: r,
    frozen_streams: frozen,
  };
}

function comparison(ratios: [number | null, number | null], valid = true): Comparison {
  return {
    measured_at: "2026-11-30T02:00Z",
    machine: "x86_64, 2 cores (shared)",
    speed: 1,
    env: "prod",
    profile: "h200-70b-fp8",
    script: "demo-script.yaml",
    what: "",
    valid,
    source: "benchmarks/records/x/compare",
    plot: null,
    layouts: {
      aggregated: layout("aggregated, all budget GPUs", 0.03, null),
      static: layout("disaggregated, static initial split", 0.084, ratios[0]),
      keda: layout("disaggregated + local KEDA", 0.08, ratios[1], valid),
    },
  };
}

describe("comparison wording", () => {
  it("formats goodput, ratios and the writer's timestamp", () => {
    expect(perGpu(0.08412)).toBe("0.0841");
    expect(perGpu(null)).toBe("–");
    expect(ratio(2.8)).toBe("×2.80");
    expect(ratio(null)).toBe("–");
    expect(when("2026-11-30T02:00Z")).toBe("2026-11-30 02:00 UTC");
    expect(when("yesterday")).toBe("yesterday");
  });

  it("labels where, when, speed and profile", () => {
    const label = measuredLabel(comparison([2.8, 2.6]));
    expect(label).toContain("2026-11-30 02:00 UTC");
    expect(label).toContain("x86_64, 2 cores (shared)");
    expect(label).toContain("profile h200-70b-fp8");
    expect(label).toContain("speed ×1");
    expect(measuredLabel({ ...comparison([2.8, 2.6]), speed: 10, profile: null })).toContain("speed ×10");
  });

  it("says which runs the saturation guard marked invalid, and why", () => {
    expect(guardLabel(comparison([2.8, 2.6]))).toContain("valid");
    const invalid = guardLabel(comparison([2.8, 2.6], false));
    expect(invalid).toContain("INVALID");
    expect(invalid).toContain("keda (client loop lag");
  });

  it("says where disaggregation wins and where it does not, from valid runs only", () => {
    expect(verdict(comparison([2.8, 3.1]))).toBe(
      "Disaggregation wins on requests within every SLO per GPU: ×3.10 aggregated (disaggregated + local KEDA)",
    );
    // An invalid run's better ratio is never the claim.
    expect(verdict(comparison([2.8, 3.1], false))).toContain("×2.80 aggregated (disaggregated, static initial split)");
    expect(verdict(comparison([0.8, 0.9]))).toBe(
      "Disaggregation wins on nothing measured here. It does not win on requests within every SLO per GPU: " +
        "aggregated ×1.11 the best split (disaggregated + local KEDA)",
    );
  });

  it("puts freezes and the shifting mix beside goodput when the record has them", () => {
    const c = comparison([0.9, null]);
    c.layouts.aggregated = layout("aggregated, all budget GPUs", 0.03, null, true, 37);
    c.layouts.static = layout("static split", 0.027, 0.9, true, 0);
    c.layouts.controller = layout("scenario controller", 0.0324, 1.08, true, 1);
    delete c.layouts.keda;
    expect(verdict(c)).toBe(
      "Disaggregation wins on freezes: 0 of 60 streams froze (static split) vs 37 of 60 streams froze " +
        "aggregated; requests within every SLO per GPU: ×1.08 aggregated (scenario controller); " +
        "following the shifting mix: ×1.20 the static split per GPU",
    );
  });

  it("gives no verdict without a valid baseline, and marks ratios against invalid runs", () => {
    const c = comparison([1.18, 0.45]);
    c.layouts.aggregated = layout("aggregated, all budget GPUs", 0.48, null, false);
    expect(verdict(c)).toBe("No verdict: the aggregated baseline run was invalid (CPU-bound)");
    expect(ratioLabel(c.layouts.static!, c.layouts.aggregated)).toBe("×1.18 vs aggregated (invalid run)");
    expect(ratioLabel(c.layouts.static!, layout("a", 1, null))).toBe("×1.18 vs aggregated");
    const allInvalid = comparison([1.2, null], false);
    allInvalid.layouts.static = layout("static", 0.1, 1.2, false);
    expect(verdict(allInvalid)).toBe("No verdict: no disaggregated run in this record was valid");
    delete c.layouts.aggregated;
    expect(verdict(c)).toContain("No aggregated baseline");
  });

  it("names the record's date, speed, timing source and validity", () => {
    expect(verdictSource(comparison([1, 1]))).toBe(
      "Recorded 2026-11-30 02:00 UTC, real time, timed by profile h200-70b-fp8, every run valid",
    );
    expect(verdictSource({ ...comparison([1, 1], false), speed: 10, profile: null })).toBe(
      "Recorded 2026-11-30 02:00 UTC, speed ×10, timing profile not recorded, invalid runs left out of the verdict",
    );
  });
});
