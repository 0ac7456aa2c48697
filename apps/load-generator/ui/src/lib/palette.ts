// Colour-blind-safe series colours (Okabe–Ito hues, none of them the SLO green/amber/red),
// so a line's colour never reads as a verdict; SLO states have their own colours and glyphs.
import type { Pool, Workload } from "../api/types";

export const WORKLOAD_COLOUR: Record<Workload, string> = {
  chat: "#56B4E9", // sky blue
  summarization: "#CC79A7", // reddish purple
  reasoning: "#E8E8E8", // near white
};

export const WORKLOAD_LABEL: Record<Workload, string> = {
  chat: "A chat",
  summarization: "B summarization",
  reasoning: "C reasoning",
};

export const POOL_COLOUR: Record<Pool, string> = {
  prefill: "#9F8CF5", // violet
  decode: "#3FC1D9", // cyan
};

export const NEUTRAL = "#9AA4B2";
export const MARKER = "#F7F7F7";
