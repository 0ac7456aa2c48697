// A uPlot line chart over the last `windowS` seconds, with SLO lines and scaling-event markers.
// The plot is created once per series layout; 1 Hz updates only call setData (no re-render jank).
import { useEffect, useMemo, useRef } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import type { Marker, Table } from "../lib/series";
import { MARKER } from "../lib/palette";

export interface SeriesSpec {
  label: string;
  colour: string;
  dash?: number[];
  width?: number;
  scale?: string; // "y" unless given
}

export interface HLine {
  value: number;
  colour: string;
  label: string;
  scale?: string;
}

interface Props {
  title: string;
  table: Table;
  series: SeriesSpec[];
  lines?: HLine[];
  markers?: Marker[];
  windowS?: number;
  log?: boolean;
  yFormat?: (v: number) => string;
  y2Format?: (v: number) => string;
  yMin?: number;
  yMax?: number;
  big?: boolean;
  testId?: string;
}

const AXIS = "#C8D0DA";

function hhmmss(epochS: number): string {
  const d = new Date(epochS * 1000);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, "0")).join(":");
}
const GRID = "rgba(255,255,255,0.08)";

export function Chart(props: Props) {
  const { title, table, series, lines = [], markers = [], windowS = 300, log = false, big = false } = props;
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const extras = useRef({ lines, markers });
  extras.current = { lines, markers };
  const layout = useMemo(() => JSON.stringify({ series, log, big, windowS }), [series, log, big, windowS]);
  const hasY2 = series.some((s) => s.scale === "y2");

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const font = big ? "18px system-ui, sans-serif" : "12px system-ui, sans-serif";
    const draw = (u: uPlot) => {
      const ctx = u.ctx;
      const { left, top, width, height } = u.bbox;
      ctx.save();
      ctx.font = `${big ? 16 : 11}px system-ui, sans-serif`;
      ctx.textAlign = "left";
      ctx.textBaseline = "bottom";
      ctx.lineWidth = big ? 2 : 1;
      for (const line of extras.current.lines) {
        const y = u.valToPos(line.value, line.scale ?? "y", true);
        if (!Number.isFinite(y) || y < top || y > top + height) continue;
        ctx.strokeStyle = line.colour;
        ctx.fillStyle = line.colour;
        ctx.setLineDash([8, 6]);
        ctx.beginPath();
        ctx.moveTo(left, y);
        ctx.lineTo(left + width, y);
        ctx.stroke();
        ctx.fillText(line.label, left + 6, y - 4);
      }
      ctx.setLineDash([3, 4]);
      ctx.strokeStyle = MARKER;
      ctx.fillStyle = MARKER;
      for (const m of extras.current.markers) {
        const x = u.valToPos(m.t_s, "x", true);
        if (!Number.isFinite(x) || x < left || x > left + width) continue;
        ctx.beginPath();
        ctx.moveTo(x, top);
        ctx.lineTo(x, top + height);
        ctx.stroke();
        ctx.fillText(m.label, Math.min(x + 4, left + width - 90), top + (big ? 18 : 12));
      }
      ctx.restore();
    };
    const opts: uPlot.Options = {
      width: Math.max(el.clientWidth, 100),
      height: Math.max(el.clientHeight, 80),
      legend: { show: false },
      cursor: { show: !big, points: { show: false } },
      scales: {
        x: {
          time: true,
          // Grows from the first sample (at least a minute) to the full window.
          range: (_u, min, max) => {
            const end = Number.isFinite(max) && max !== null ? max : Date.now() / 1000;
            const start = Number.isFinite(min) && min !== null ? Math.min(min, end - 60) : end - windowS;
            return [Math.max(start, end - windowS), end];
          },
        },
        y: {
          distr: log ? 3 : 1,
          range: (_u, min, max) => {
            // SLO lines stay in view, so the audience sees the headroom below them.
            const lineMax = Math.max(0, ...extras.current.lines.filter((l) => (l.scale ?? "y") === "y").map((l) => l.value));
            const top = Math.max(Number.isFinite(max) ? max : 0, lineMax);
            const bottom = Number.isFinite(min) ? min : top / 10;
            if (log) {
              // Whole decades, so the ticks read 1-2-5 (10 ms, 20 ms, 50 ms, 100 ms, ...).
              const lo = props.yMin ?? 10 ** Math.floor(Math.log10(Math.max(Math.min(bottom, top), 0.1)));
              const hi = props.yMax ?? 10 ** Math.ceil(Math.log10(Math.max(top * 1.15, lo * 10)));
              return [lo, hi];
            }
            const lo = props.yMin ?? 0;
            const hi = props.yMax ?? Math.max(top * 1.15, lo + 0.001);
            return [lo, hi];
          },
        },
        ...(hasY2 ? { y2: { range: (_u: uPlot, _min: number, max: number) => [0, Math.max(max * 1.15, 1)] } } : {}),
      },
      axes: [
        {
          stroke: AXIS,
          grid: { stroke: GRID },
          ticks: { stroke: GRID },
          font,
          size: big ? 44 : 32,
          space: big ? 140 : 90,
          values: (_u, splits) => splits.map((v) => (v === null ? "" : hhmmss(v))),
        },
        {
          stroke: AXIS,
          grid: { stroke: GRID },
          ticks: { stroke: GRID },
          font,
          size: big ? 90 : 64,
          values: (_u, splits) => splits.map((v) => (v === null ? "" : props.yFormat ? props.yFormat(v) : String(v))),
        },
        ...(hasY2
          ? [
              {
                scale: "y2",
                side: 1,
                stroke: AXIS,
                grid: { show: false },
                font,
                size: big ? 90 : 64,
                values: (_u: uPlot, splits: number[]) =>
                  splits.map((v) => (v === null ? "" : props.y2Format ? props.y2Format(v) : String(v))),
              },
            ]
          : []),
      ],
      series: [
        {},
        ...series.map((s) => ({
          label: s.label,
          stroke: s.colour,
          width: (s.width ?? 2) * (big ? 1.5 : 1),
          dash: s.dash,
          scale: s.scale ?? "y",
          spanGaps: false,
          points: { show: false },
        })),
      ],
      hooks: { draw: [draw] },
    };
    const u = new uPlot(opts, [[], ...series.map(() => [])] as unknown as uPlot.AlignedData, el);
    plot.current = u;
    const resize = new ResizeObserver(() => {
      u.setSize({ width: Math.max(el.clientWidth, 100), height: Math.max(el.clientHeight, 80) });
    });
    resize.observe(el);
    return () => {
      resize.disconnect();
      u.destroy();
      plot.current = null;
    };
  }, [layout]);

  useEffect(() => {
    const u = plot.current;
    if (!u) return;
    const columns = table.columns.map((c) => (log ? c.map((v) => (v !== null && v > 0 ? v : null)) : c));
    u.setData([table.x, ...columns] as unknown as uPlot.AlignedData);
    const points = columns.reduce((n, c) => n + c.filter((v) => v !== null).length, 0);
    box.current?.setAttribute("data-points", String(points));
    box.current?.setAttribute("data-from", String(table.x[0] ?? "")); // oldest sample (epoch s)
  }, [table, log, layout]);

  useEffect(() => {
    plot.current?.redraw(false, false);
    box.current?.setAttribute("data-markers", String(markers.length));
  }, [lines, markers]);

  return (
    <figure className={big ? "chart chart-big" : "chart"} data-testid={props.testId}>
      <figcaption>
        <span className="chart-title">{title}</span>
        <span className="legend">
          {series.map((s) => (
            <span key={s.label} className="legend-item">
              <svg width="26" height="10" aria-hidden="true">
                <line x1="0" y1="5" x2="26" y2="5" stroke={s.colour} strokeWidth="3" strokeDasharray={s.dash?.join(" ")} />
              </svg>
              {s.label}
            </span>
          ))}
        </span>
      </figcaption>
      <div className="chart-canvas" ref={box} data-points="0" />
    </figure>
  );
}
