import type { PlannedTableInfo, ProgressEvent, TablePhase } from "../../engine/index.js";
import type { Output } from "../io.js";
import { formatBytes, formatCount, formatDuration, formatRate } from "../render/format.js";
import type { Style } from "../render/style.js";
import { ANSI_SEQUENCE, visibleWidth } from "../render/style.js";
import { finishedTableLine } from "../render/table-lines.js";
import { serverWaitLine } from "../render/server-wait.js";
import type { ProgressView } from "./view.js";

const REDRAW_MS = 100;
const BAR_WIDTH = 16;
const MAX_NAME = 28;

const PHASE_TEXT: Record<TablePhase, string> = {
  prepare: "finding new rows",
  create: "creating the table",
  copy: "copying",
  index: "building indexes",
  constraints: "adding constraints",
  sequences: "setting sequences",
  commit: "committing",
};

interface InFlight {
  name: string;
  action: string;
  phase: TablePhase | undefined;
  rows: number;
  bytes: number;
  startedAt: number;
  estimate: PlannedTableInfo | undefined;
}

/**
 * The live view on a terminal: one line per table in flight (rows, bytes, rate, elapsed, a bar against the
 * planner's estimate for full copies) and an overall bar, redrawn in place under the lines of finished tables.
 */
export class LiveProgress implements ProgressView {
  tablesStarted = 0;
  private readonly style: Style;
  private readonly startedAt = Date.now();
  private readonly estimates = new Map<string, PlannedTableInfo>();
  private readonly inFlight = new Map<string, InFlight>();
  private total = 0;
  private finished = 0;
  private rowsDone = 0;
  private bytesDone = 0;
  private status = "connecting";
  private drawnLines = 0;
  private frame = 0;
  private readonly timer: NodeJS.Timeout;
  private stopped = false;

  constructor(private readonly output: Output) {
    this.style = output.errStyle;
    this.output.raw("\u001b[?25l");
    this.timer = setInterval(() => this.redraw([]), REDRAW_MS);
    this.timer.unref();
  }

  onEvent(event: ProgressEvent): void {
    if (this.stopped) return;
    switch (event.type) {
      case "connected":
        this.status = "preparing";
        this.redraw([this.style.dim(`Connected: source ${event.source}, destination ${event.destination}`)]);
        return;
      case "server-wait":
        this.redraw([this.style.dim(serverWaitLine(event, this.style.symbols.ellipsis))]);
        return;
      case "lock-wait":
        this.status = `waiting for another pgferry run on schema "${event.targetSchema}" to finish`;
        return;
      case "run-start":
        this.total = event.tables.length;
        for (const table of event.tables) this.estimates.set(table.name, table);
        this.status = "preparing the target schema";
        return;
      case "table-start":
        this.tablesStarted += 1;
        this.inFlight.set(event.table, {
          name: event.table,
          action: event.action,
          phase: undefined,
          rows: 0,
          bytes: 0,
          startedAt: Date.now(),
          estimate: this.estimates.get(event.table),
        });
        return;
      case "table-phase": {
        const table = this.inFlight.get(event.table);
        if (table) table.phase = event.phase;
        return;
      }
      case "table-progress": {
        const table = this.inFlight.get(event.table);
        if (table) {
          table.rows = event.rows;
          table.bytes = event.bytes;
        }
        return;
      }
      case "table-finish":
        this.inFlight.delete(event.table);
        this.finished += 1;
        this.rowsDone += event.result.rowsCopied;
        this.bytesDone += event.result.bytesCopied;
        this.redraw([finishedTableLine(event.index, event.total, event.result, this.style)]);
        return;
      case "run-finish":
        this.status = "done";
        return;
    }
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.timer);
    this.output.raw(`${this.cursorToTop()}\u001b[0J\u001b[?25h`);
    this.drawnLines = 0;
  }

  private cursorToTop(): string {
    return this.drawnLines > 0 ? `\u001b[${this.drawnLines}A\r` : "\r";
  }

  private redraw(permanent: string[]): void {
    if (this.stopped) return;
    this.frame += 1;
    const width = Math.max(20, this.output.columns - 1);
    const live = this.liveLines().map((line) => truncate(line, width));
    let text = `${this.cursorToTop()}\u001b[0J`;
    for (const line of permanent) text += `${line}\n`;
    for (const line of live) text += `${line}\n`;
    this.drawnLines = live.length;
    this.output.raw(text);
  }

  private liveLines(): string[] {
    const s = this.style;
    const spinner = s.symbols.spinner[this.frame % s.symbols.spinner.length] ?? "";
    const elapsed = formatDuration(Date.now() - this.startedAt);
    if (this.total === 0) return [`${s.cyan(spinner)} ${this.status}${s.symbols.ellipsis} ${s.dim(elapsed)}`];
    const nameWidth = Math.min(MAX_NAME, Math.max(...[...this.inFlight.keys()].map((n) => n.length), 5));
    const lines = [...this.inFlight.values()].map((table) => this.tableLine(table, nameWidth, spinner));
    const rows = this.rowsDone + [...this.inFlight.values()].reduce((sum, t) => sum + t.rows, 0);
    const bytes = this.bytesDone + [...this.inFlight.values()].reduce((sum, t) => sum + t.bytes, 0);
    lines.push(
      `${s.bold(`${this.finished}/${this.total} tables`)} ${bar(this.finished / this.total, s)} ` +
        `${formatCount(rows)} rows ${s.dim("·")} ${formatBytes(bytes)} ${s.dim("·")} ${elapsed}`,
    );
    return lines;
  }

  private tableLine(table: InFlight, nameWidth: number, spinner: string): string {
    const s = this.style;
    const name =
      table.name.length > nameWidth
        ? `${table.name.slice(0, nameWidth - 1)}${s.symbols.ellipsis}`
        : table.name;
    const head = `${s.cyan(spinner)} ${name.padEnd(nameWidth)} ${table.action.padEnd(8)}`;
    const ms = Date.now() - table.startedAt;
    const elapsed = s.dim(formatDuration(ms));
    if (table.phase !== "copy" && table.rows === 0) {
      const phase = table.phase ? PHASE_TEXT[table.phase] : "starting";
      return `${head} ${phase}${s.symbols.ellipsis} ${elapsed}`;
    }
    const estimated = table.action !== "delta" ? (table.estimate?.estimatedRows ?? 0) : 0;
    const counts =
      estimated > 0
        ? `${bar(Math.min(1, table.rows / estimated), s)} ${formatCount(table.rows)} / ${s.symbols.approx}${formatCount(estimated)} rows`
        : `${formatCount(table.rows)} rows`;
    const phase = table.phase && table.phase !== "copy" ? ` ${s.dim(PHASE_TEXT[table.phase])}` : "";
    const rate = table.phase === "copy" ? formatRate(table.rows, ms) : "";
    return `${head} ${counts}  ${formatBytes(table.bytes)}${rate ? `  ${rate}` : ""}  ${elapsed}${phase}`;
  }
}

function bar(fraction: number, style: Style): string {
  const filled = Math.round(Math.max(0, Math.min(1, fraction)) * BAR_WIDTH);
  return (
    style.cyan(style.symbols.barFull.repeat(filled)) +
    style.dim(style.symbols.barEmpty.repeat(BAR_WIDTH - filled))
  );
}

/** Cuts a line to the terminal's width so that it never wraps (a wrapped line would break the redraw). */
function truncate(line: string, width: number): string {
  if (visibleWidth(line) <= width) return line;
  let out = "";
  let shown = 0;
  // Walk the text keeping ANSI sequences whole and counting only visible characters.
  const parts = line.split(ANSI_SEQUENCE);
  for (const part of parts) {
    if (part.startsWith("\u001b[")) {
      out += part;
      continue;
    }
    for (const char of part) {
      if (shown >= width) return `${out}\u001b[0m`;
      out += char;
      shown += 1;
    }
  }
  return out;
}
