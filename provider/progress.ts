import type { ProgressEvent, RunReport, TableResult } from "../engine/index.js";

/**
 * Plain progress lines for a provider run. The dynamic-provider host's output is what Pulumi shows as the
 * provider's diagnostics, so each line is written at once; `redact` masks the run's passwords (defence in
 * depth: the engine's events already name endpoints as user@host:port/database only).
 */
export function progressLines(write: (line: string) => void): (event: ProgressEvent) => void {
  return (event) => {
    if (event.type === "connected") write(`copying from ${event.source} to ${event.destination}`);
    else if (event.type === "server-wait")
      write(
        `cannot reach the ${event.side} ${event.endpoint} yet (${event.reason}); retrying for up to ${event.seconds} s`,
      );
    else if (event.type === "lock-wait") write(`waiting for another run on schema ${event.targetSchema}`);
    else if (event.type === "table-finish") {
      write(`[${event.index}/${event.total}] ${event.table}: ${describeResult(event.result)}`);
    } else if (event.type === "run-finish") write(describeTotals(event.report));
  };
}

function describeResult(result: TableResult): string {
  const seconds = `${(result.durationMs / 1000).toFixed(1)} s`;
  if (result.status === "failed") return `failed: ${result.error?.code ?? ""} ${result.error?.message ?? ""}`;
  if (result.status === "skipped") return `skipped (${result.reason ?? "no reason given"})`;
  if (result.status === "up-to-date") return `up to date (${seconds})`;
  return `${result.action}, ${result.rowsCopied.toLocaleString("en-US")} rows copied (${seconds})`;
}

function describeTotals(report: RunReport): string {
  const { totals } = report;
  const failed = totals.tablesFailed > 0 ? `, ${totals.tablesFailed} failed` : "";
  return `${totals.tables} tables, ${totals.rowsCopied.toLocaleString("en-US")} rows copied into ${report.targetSchema} in ${(report.durationMs / 1000).toFixed(1)} s${failed}`;
}
