/**
 * What the Action prints to the job log: progress events, the plan and the totals as plain lines (the runner's log
 * is not a terminal). Pure functions; every line is made one line, because a value from the database that
 * contained a newline followed by `::` would otherwise be read by the runner as a workflow command.
 */
import type { ProgressEvent, RunReport, TableResult } from "../engine/index.js";
import { count, duration } from "./summary.js";

/** The log line for a progress event, or undefined for events too frequent to log. */
export function progressLine(event: ProgressEvent): string | undefined {
  switch (event.type) {
    case "connected":
      return oneLine(`Connected: source ${event.source} → destination ${event.destination}`);
    case "server-wait":
      return oneLine(
        `Cannot reach the ${event.side} ${event.endpoint} yet (${event.reason}): retrying for up to ${event.seconds} s…`,
      );
    case "lock-wait":
      return oneLine(
        `Another pgferry run holds target schema "${event.targetSchema}": waiting for it to end…`,
      );
    case "run-start":
      return `${count(event.tables.length)} ${event.tables.length === 1 ? "table" : "tables"} to process`;
    case "table-finish":
      return oneLine(`[${event.index}/${event.total}] ${event.table}: ${outcome(event.result)}`);
    default:
      return undefined;
  }
}

/** `orders: delta, 200 new rows to copy` — one line per table of a dry run. */
export function planLine(table: TableResult): string {
  const what = (() => {
    switch (table.status) {
      case "skipped":
        return `would be skipped: ${table.reason ?? "skipped"}`;
      case "failed":
        return `would fail: ${errorText(table)}`;
      case "up-to-date":
        return "up to date, nothing to copy";
      case "ok":
        return table.action === "delta"
          ? `delta, ${count(table.rowsCopied)} new ${rows(table.rowsCopied)} to copy`
          : `would ${table.action}, ≈${count(table.rowsCopied)} ${rows(table.rowsCopied)} (planner estimate)`;
    }
  })();
  return oneLine(`${table.name}: ${what}`);
}

/** The original tool's closing statistics, on one line. */
export function totalsLine(report: RunReport): string {
  const t = report.totals;
  const verb = report.dryRun ? "would be copied" : "copied";
  return (
    `${report.dryRun ? "Plan" : "Done"}: ${count(t.tables)} tables processed — ${count(t.tablesCreated)} new, ` +
    `${count(t.tablesSynced)} synced, ${count(t.tablesUpToDate)} up to date, ${count(t.tablesSkipped)} skipped, ` +
    `${count(t.tablesFailed)} failed; ${count(t.rowsCopied)} ${rows(t.rowsCopied)} ${verb} in ${duration(report.durationMs)}.`
  );
}

function outcome(table: TableResult): string {
  switch (table.status) {
    case "skipped":
      return `skipped: ${table.reason ?? "skipped"}`;
    case "failed":
      return `failed: ${errorText(table)}`;
    case "up-to-date":
      return "up to date";
    case "ok": {
      const done =
        table.action === "delta"
          ? `${count(table.rowsCopied)} new ${rows(table.rowsCopied)} copied`
          : `${table.action === "recreate" ? "recreated" : "created"}, ${count(table.rowsCopied)} ${rows(table.rowsCopied)} copied`;
      return `${done} (${duration(table.durationMs)})`;
    }
  }
}

export function errorText(table: TableResult): string {
  const error = table.error;
  if (error === undefined) return "failed";
  return `${error.message} [${error.code}]${error.hint === undefined ? "" : ` Hint: ${error.hint}`}`;
}

function rows(n: number): string {
  return n === 1 ? "row" : "rows";
}

/** Line breaks shown as `⏎`: a log line must stay one line. */
export function oneLine(text: string): string {
  return text.replace(/\r\n|\r|\n/g, "⏎");
}
