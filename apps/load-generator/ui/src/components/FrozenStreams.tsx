// "Streams that froze": per workload, how many answers of the live window stopped on screen for
// longer than the freeze threshold at least once (the load generator's measure). One
// line a visitor reads in five seconds; 0 is the goal, any freeze is shown as a miss.
import type { LiveSnapshot } from "../api/types";
import { WORKLOADS } from "../api/types";
import { WORKLOAD_COLOUR, WORKLOAD_LABEL } from "../lib/palette";
import { SLO_GLYPH } from "../lib/slo";

/** The freeze threshold the load generator uses (loadgen.records.FREEZE_GAP_NS). */
export const FREEZE_MS = 250;

export function FrozenStreams({ live }: { live: LiveSnapshot | null }) {
  return (
    <div className="frozen-strip" data-testid="frozen-streams">
      <span className="frozen-title">
        Streams that froze <span className="sub">(text stopped &gt; {FREEZE_MS} ms, last {live ? live.window_s.toFixed(0) : "–"} s)</span>
      </span>
      {WORKLOADS.map((w) => {
        const v = live?.workloads[w];
        const finished = v ? v.ok + v.errors : 0;
        const frozen = v?.frozen_streams ?? 0;
        const level = !v || finished === 0 ? "none" : frozen > 0 ? "over" : "ok";
        return (
          <span className={`frozen-cell slo-${level}`} key={w} data-testid={`frozen-${w}`} data-level={level}>
            <span style={{ color: WORKLOAD_COLOUR[w] }}>{WORKLOAD_LABEL[w]}</span>{" "}
            <span className="frozen-value">{v ? `${SLO_GLYPH[level]} ${frozen} of ${finished}`.trim() : "–"}</span>
          </span>
        );
      })}
    </div>
  );
}
