// Unit tests of the pure helpers: SLO verdicts, formatting, chart tables, markers, tiles, routes.
import { describe, expect, it } from "vitest";
import type { HistoryPoint, LiveSnapshot, PoolsState, TurnWindow, WorkloadWindow } from "../api/types";
import { detailText } from "../api/client";
import { mergePoints } from "../hooks/useHistory";
import { appendSample, type Sample } from "../hooks/useLive";
import { tilesOf } from "../components/PoolTiles";
import { route } from "../App";
import { clock, ms, percent } from "./format";
import { sloLevel } from "./slo";
import { chatTurnTable, kvTable, kvText, latencyTable, poolTable, scaleMarkers } from "./series";

const pct = (p50: number | null, p95: number | null, count = 10, mean: number | null = p50) => ({
  count,
  mean,
  p50,
  p90: p95,
  p95,
  p99: p95,
  max: p95,
});

function turn(input: number, cached: number, ttftMean: number | null, count: number): TurnWindow {
  return {
    ok: count,
    errors: 0,
    input_tokens: input,
    cached_tokens: cached,
    cache_hit_ratio: input ? cached / input : null,
    ttft_ms: pct(ttftMean, ttftMean, count, ttftMean),
    itl_ms: pct(5, 9, count),
  };
}

function window(ttftP95: number | null): WorkloadWindow {
  return {
    target_rps: 1, offered_rps: 1, achieved_rps: 1, completed_rps: 1, output_tokens_per_s: 100,
    in_flight: 1, active: 1, queued: 0, arrivals: 1, dispatched: 1, ok: 1, errors: 0, dropped: 0,
    stopped: 0,
    reasons: {}, input_tokens: 10, output_tokens: 10, cached_tokens: 0, cache_hit_ratio: null,
    ttft_ms: pct(ttftP95 === null ? null : ttftP95 / 2, ttftP95), ttst_ms: pct(1, 2), itl_ms: pct(1, 2),
    e2e_ms: pct(1, 2), lag_ms: pct(1, 2), max_gap_ms: pct(30, 40),
    frozen_streams: 0, frozen_s: 0, within_slo: 1, slo_attainment: 1, goodput_rps: 1,
    slo: {
      ttft_p95_ms: 600, itl_p95_ms: 60, max_gap_p95_ms: 500,
      ttft_met: true, itl_met: true, max_gap_met: true,
    },
  };
}

function snap(at: string, ttftP95: number | null = 100): LiveSnapshot {
  return {
    at,
    state: "running",
    window_s: 30,
    workloads: { chat: window(ttftP95), summarization: window(null), reasoning: window(50) },
    chat_turns: { "1": turn(1000, 0, 300, 4), "2": turn(2000, 1500, 100, 3), "5+": turn(4000, 3900, 60, 1) },
    client: { event_loop_lag_ms: 1, dispatch_lag_p99_ms: null, saturated: false },
  };
}

describe("sloLevel", () => {
  it("is ok below 80 % of the limit, near up to it, over beyond it", () => {
    expect(sloLevel(400, 600)).toBe("ok");
    expect(sloLevel(480, 600)).toBe("ok");
    expect(sloLevel(481, 600)).toBe("near");
    expect(sloLevel(600, 600)).toBe("near");
    expect(sloLevel(601, 600)).toBe("over");
    expect(sloLevel(null, 600)).toBe("none");
  });
});

describe("format", () => {
  it("shows units and switches ms to s", () => {
    expect(ms(12.34)).toBe("12.3 ms");
    expect(ms(250)).toBe("250 ms");
    expect(ms(3000)).toBe("3.00 s");
    expect(ms(null)).toBe("–");
    expect(percent(0.783)).toBe("78 %");
    expect(clock(75.4)).toBe("1:15");
  });
});

describe("series", () => {
  const history: Sample[] = [];
  let h = history;
  h = appendSample(h, snap("2026-11-30T00:00:00Z", 100));
  h = appendSample(h, snap("2026-11-30T00:00:01Z", null));

  it("appends in time order and ignores a replayed snapshot", () => {
    expect(appendSample(h, snap("2026-11-30T00:00:01Z"))).toBe(h);
    expect(h.map((s) => s.t_s)).toEqual([Date.parse("2026-11-30T00:00:00Z") / 1000, Date.parse("2026-11-30T00:00:01Z") / 1000]);
    const capped = appendSample(h, snap("2026-11-30T00:00:02Z"), 2);
    expect(capped).toHaveLength(2);
    expect(capped[1]?.snap.at).toBe("2026-11-30T00:00:02Z");
  });

  it("turns scale events of the timeline into markers", () => {
    const markers = scaleMarkers([
      { t_s: 1, wall_time: "2026-11-30T00:00:05Z", kind: "scale", source: "script", pool: "decode", from_replicas: 1, to_replicas: 2, phase: null, message: "" },
      { t_s: 2, wall_time: "2026-11-30T00:00:06Z", kind: "phase", source: "script", pool: null, from_replicas: null, to_replicas: null, phase: "x", message: "" },
    ]);
    expect(markers).toEqual([{ t_s: Date.parse("2026-11-30T00:00:05Z") / 1000, label: "decode 1→2" }]);
  });
});

function point(t_s: number, ttftP95: number | null, kv: number | null, pools = true): HistoryPoint {
  const lat = (p95: number | null) => ({ ttft_p50_ms: p95 === null ? null : p95 / 2, ttft_p95_ms: p95, itl_p50_ms: 20, itl_p95_ms: 30 });
  return {
    t_s,
    workloads: { chat: lat(ttftP95), summarization: lat(null), reasoning: lat(50) },
    chat_ttft_turn1_ms: 300,
    chat_ttft_later_ms: 90,
    achieved_rps: 1,
    target_rps: 1.2,
    output_tokens_per_s: 900,
    kv_hit_ratio: kv,
    pools: pools ? { prefill: { ready: 2, desired: 3 }, decode: { ready: 3, desired: 3 } } : null,
  };
}

describe("history points", () => {
  const points = [point(100, 400, 0.8), point(101, null, null, false)];

  it("aligns p50/p95 columns per workload, with gaps as null", () => {
    const t = latencyTable(points, "ttft");
    expect(t.x).toEqual([100, 101]);
    expect(t.columns).toHaveLength(6);
    expect(t.columns[1]).toEqual([400, null]); // chat p95
    expect(t.columns[5]).toEqual([50, 50]); // reasoning p95
    expect(latencyTable(points, "itl").columns[1]).toEqual([30, 30]);
  });

  it("draws the router KV rate, turns and pools with gaps where nothing was read", () => {
    expect(kvTable(points).columns).toEqual([[0.8, null]]);
    expect(chatTurnTable(points).columns).toEqual([[300, 300], [90, 90]]);
    expect(poolTable(points).columns).toEqual([[2, null], [3, null], [3, null], [3, null]]);
  });

  it("appends only newer points and keeps the window", () => {
    const kept = [point(100, 1, 0.5), point(200, 1, 0.5)];
    const merged = mergePoints(kept, [point(150, 1, 0.5), point(300, 1, 0.5), point(401, 1, 0.5)], 300);
    expect(merged.map((p) => p.t_s)).toEqual([200, 300, 401]);
    expect(mergePoints([], kept, 300)).toEqual(kept);
  });

  it("writes the KV rate only while it is read live", () => {
    const at = "2026-12-07T00:00:00Z";
    expect(kvText({ status: "live", ratio: 0.873, read_at: at, detail: "" })).toBe("87 %");
    expect(kvText({ status: "no_data", ratio: null, read_at: at, detail: "" })).toBe("no prompts in the last minute");
    expect(kvText({ status: "unavailable", ratio: null, read_at: at, detail: "down" })).toBe("unavailable");
    expect(kvText(null)).toBe("unavailable");
  });
});

describe("tilesOf", () => {
  it("lays out ready, starting and free GPUs of the budget", () => {
    const state: PoolsState = {
      budget_gpus: 8,
      free_gpus: 2,
      pools: {
        prefill: { desired: 3, ready: 2, starting: 1, min: 1, max: 5 },
        decode: { desired: 3, ready: 3, starting: 0, min: 1, max: 6 },
      },
    };
    const tiles = tilesOf(state);
    expect(tiles).toHaveLength(8);
    expect(tiles.filter((t) => t.state === "starting")).toEqual([{ pool: "prefill", state: "starting" }]);
    expect(tiles.filter((t) => t.state === "free")).toHaveLength(2);
  });
});

describe("route and errors", () => {
  it("maps paths to views", () => {
    expect(route("/audience/")).toBe("/audience");
    expect(route("/conversations")).toBe("/conversations");
    expect(route("/anything")).toBe("/");
  });
  it("reads FastAPI's detail, naming the field of a validation error", () => {
    expect(detailText({ detail: "nope" })).toBe("nope");
    expect(detailText({ detail: [{ loc: ["body", "rps"], msg: "too big" }] })).toBe("rps: too big");
  });
});
