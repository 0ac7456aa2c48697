// Unit tests of the "why disaggregation" wording: labels, ratios, the headline's honesty.
import { describe, expect, it } from "vitest";
import type { Comparison, LayoutResult } from "../api/types";
import { guardLabel, headline, measuredLabel, perGpu, ratio, when } from "./comparison";

function layout(title: string, goodput: number | null, r: number | null, valid = true): LayoutResult {
  return {
    title,
    valid,
    invalid_because: valid ? [] : ["client loop lag over its bound in 26% of live windows"],
    goodput_per_gpu: goodput,
    gpu_seconds: 800,
    requests: 60,
    slo_attainment: { chat: 0.9 },
    ratio_vs_aggregated: r,
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

  it("claims the best ratio only when disaggregation won", () => {
    expect(headline(comparison([2.8, 3.1]))).toBe(
      "Disaggregated + local KEDA: ×3.10 the requests within SLO per GPU of aggregated serving",
    );
    // An invalid run's better ratio is not the claim while a valid run has one.
    expect(headline(comparison([2.8, 3.1], false))).toContain("static initial split: ×2.80");
    expect(headline(comparison([0.8, 0.9]))).toMatch(/^Aggregated serving did better.*local KEDA.*×0\.90$/);
    expect(headline(comparison([null, null]))).toContain("No aggregated baseline");
  });
});
