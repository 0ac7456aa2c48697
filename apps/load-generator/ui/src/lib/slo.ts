// Green/amber/red are used only here: a measured p95 against its SLO.

export type SloLevel = "ok" | "near" | "over" | "none";

/** Within 80 % of the limit is "ok", up to the limit "near", above it "over". */
export const NEAR_FRACTION = 0.8;

export function sloLevel(value: number | null | undefined, limit: number): SloLevel {
  if (value === null || value === undefined || !Number.isFinite(value)) return "none";
  if (value > limit) return "over";
  if (value > limit * NEAR_FRACTION) return "near";
  return "ok";
}

export const SLO_LABEL: Record<SloLevel, string> = {
  ok: "✓ within SLO",
  near: "▲ near SLO",
  over: "✗ over SLO",
  none: "no data",
};

export const SLO_GLYPH: Record<SloLevel, string> = { ok: "✓", near: "▲", over: "✗", none: "" };
