/** docs/benchmarks.svg: two horizontal bar panels drawn by hand (no chart library). */
import type { CaseSummary } from "./summary.js";

interface Bar {
  label: string;
  value: number;
  highlight: boolean;
  /** The issues' targets for this bar, each drawn as a tick across it. */
  targets: { value: number; label: string }[];
}

interface Panel {
  title: string;
  bars: Bar[];
  /** Vertical reference lines across the panel, such as the baseline (1.0×). */
  marks: { value: number; label: string }[];
  unit: string;
}

const WIDTH = 900;
const LABEL_WIDTH = 330;
const BAR_HEIGHT = 20;
const ROW = 28;
const PLOT_WIDTH = WIDTH - LABEL_WIDTH - 150;

const escape = (text: string) =>
  text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll('"', "&quot;");

function drawPanel(panel: Panel, top: number): { svg: string; height: number } {
  const limit =
    Math.max(
      ...panel.bars.flatMap((b) => [b.value, ...b.targets.map((t) => t.value)]),
      ...panel.marks.map((m) => m.value),
    ) * 1.12;
  const x = (value: number) => LABEL_WIDTH + (value / limit) * PLOT_WIDTH;
  const parts = [`<text x="10" y="${top + 16}" class="title">${escape(panel.title)}</text>`];
  const plotTop = top + 30;
  panel.bars.forEach((bar, i) => {
    const y = plotTop + i * ROW;
    parts.push(
      `<text x="${LABEL_WIDTH - 8}" y="${y + 15}" class="label" text-anchor="end">${escape(bar.label)}</text>`,
      `<rect x="${LABEL_WIDTH}" y="${y}" width="${(x(bar.value) - LABEL_WIDTH).toFixed(1)}" height="${BAR_HEIGHT}" class="${bar.highlight ? "pgferry" : "other"}"/>`,
      `<text x="${(x(Math.max(bar.value, ...bar.targets.map((t) => t.value))) + 6).toFixed(1)}" y="${y + 15}" class="value">${bar.value.toFixed(2)}${panel.unit}${bar.targets.length === 0 ? "" : ` (target ${bar.targets.map((t) => t.label).join(", ")})`}</text>`,
    );
    for (const target of bar.targets) {
      const tx = x(target.value).toFixed(1);
      parts.push(
        `<line x1="${tx}" y1="${y - 3}" x2="${tx}" y2="${y + BAR_HEIGHT + 3}" class="target"><title>target ${escape(target.label)}</title></line>`,
      );
    }
  });
  const plotBottom = plotTop + panel.bars.length * ROW;
  for (const mark of panel.marks) {
    parts.push(
      `<line x1="${x(mark.value).toFixed(1)}" y1="${plotTop - 6}" x2="${x(mark.value).toFixed(1)}" y2="${plotBottom}" class="mark"/>`,
      `<text x="${x(mark.value).toFixed(1)}" y="${plotBottom + 14}" class="mark-label" text-anchor="middle">${escape(mark.label)}</text>`,
    );
  }
  return { svg: parts.join("\n"), height: plotBottom + 28 - top };
}

/** Targets of issues 2, 3 and 8 per bar: time ratios to the pipe (full copies), or speed-ups (the others). */
function targetsOf(summary: CaseSummary, pgcopydbVsPipe: number | undefined): Bar["targets"] {
  switch (summary.id) {
    case "pgferry-j1":
      return [{ value: 1, label: "1×" }];
    case "pgferry-j2":
      return [
        { value: 0.75, label: "0.75×" },
        ...(pgcopydbVsPipe === undefined
          ? []
          : [
              {
                value: 0.7 * pgcopydbVsPipe,
                label: `${(0.7 * pgcopydbVsPipe).toFixed(2)}× = 0.70× pgcopydb`,
              },
            ]),
      ];
    case "pgferry-orders":
      return [{ value: 8, label: "8×" }];
    case "pgferry-bigint":
      return [{ value: 10, label: "10×" }];
    case "pgferry-uuid":
      return [{ value: 2.5, label: "2.5×" }];
    default:
      return [];
  }
}

export function renderChart(summaries: readonly CaseSummary[], subtitle: string): string {
  const full = summaries.filter((s) => s.tables === "orders+events" && s.vsPipe !== undefined);
  const speedups = summaries.filter((s) => s.speedup !== undefined);
  const pgcopydbVsPipe = summaries.find((s) => s.id === "pgcopydb")?.vsPipe?.median;
  const panels: Panel[] = [
    {
      title: "Full copy of orders + events: time relative to the psql \\copy binary pipe (lower is faster)",
      bars: full.map((s) => ({
        label: s.label,
        value: s.vsPipe?.median ?? 0,
        highlight: s.id.startsWith("pgferry"),
        targets: targetsOf(s, pgcopydbVsPipe),
      })),
      marks: [{ value: 1, label: "psql pipe = 1.0×" }],
      unit: "×",
    },
    {
      title: "How many times faster pgferry is than the original tool's way (higher is better)",
      bars: speedups.map((s) => ({
        label: s.id === "pgferry-orders" ? "full copy of orders vs INSERT batches" : s.label,
        value: s.speedup?.median ?? 0,
        highlight: true,
        targets: targetsOf(s, undefined),
      })),
      marks: [{ value: 1, label: "same speed" }],
      unit: "×",
    },
  ].filter((panel) => panel.bars.length > 0);
  let top = 34;
  const drawn = panels.map((panel) => {
    const result = drawPanel(panel, top);
    top += result.height + 16;
    return result.svg;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${top}" viewBox="0 0 ${WIDTH} ${top}" font-family="sans-serif">
<style>
.title { font-size: 14px; font-weight: bold; fill: #222; }
.subtitle { font-size: 12px; fill: #555; }
.label { font-size: 12px; fill: #222; }
.value { font-size: 12px; fill: #222; }
.pgferry { fill: #2f6db5; }
.other { fill: #a8a8a8; }
.mark { stroke: #c0392b; stroke-width: 1; stroke-dasharray: 4 3; }
.mark-label { font-size: 11px; fill: #c0392b; }
.target { stroke: #c0392b; stroke-width: 3; }
</style>
<rect width="100%" height="100%" fill="white"/>
<text x="10" y="20" class="subtitle">${escape(subtitle)} — red ticks: targets of issues 2, 3, 8</text>
${drawn.join("\n")}
</svg>
`;
}
