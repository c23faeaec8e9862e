import type { EndpointSummary, RunReport, TableResult } from "../../engine/index.js";
import { failureText } from "./table-lines.js";
import { formatCount, formatRows } from "./format.js";
import { MODE_TITLES, renderNotCopied } from "./summary.js";
import type { Style } from "./style.js";
import { textTable } from "./text-table.js";

/** What a run would do, per table, and the totals; `report` is the dry-run report of `plan`. */
export function renderPlan(report: RunReport, style: Style): string {
  const lines = [
    style.bold(
      `Plan: ${MODE_TITLES[report.mode].toLowerCase()} of "${report.sourceSchema}" into "${report.targetSchema}"`,
    ),
  ];
  if (report.source) lines.push(`  source       ${endpoint(report.source)}`);
  if (report.destination) lines.push(`  destination  ${endpoint(report.destination)}`);
  lines.push("");
  lines.push(
    ...textTable(
      [{ header: "Table" }, { header: "Would" }, { header: "Rows", align: "right" }, { header: "Why / how" }],
      report.tables.map((table) => planRow(table, style)),
      { indent: "  " },
    ),
  );
  lines.push("", `  ${planTotals(report)}`);
  const notCopied = renderNotCopied(report.notCopied);
  if (notCopied.length > 0) lines.push("", ...notCopied);
  lines.push("", style.dim("Nothing was changed. `pgferry run` with the same spec and flags does this."));
  return lines.join("\n");
}

function endpoint(summary: EndpointSummary): string {
  return `${summary.user}@${summary.host}:${summary.port}/${summary.database}`;
}

function planRow(table: TableResult, style: Style): string[] {
  const approx = style.symbols.approx;
  const dash = style.symbols.dash;
  switch (table.status) {
    case "skipped":
      return [table.name, style.yellow("skip"), dash, table.reason ?? ""];
    case "failed":
      return [table.name, style.red("fail"), dash, failureText(table)];
    case "up-to-date":
      return [table.name, "nothing (up to date)", "0", table.path ? `${table.path} path` : ""];
    case "ok":
      if (table.action === "delta") {
        return [
          table.name,
          `delta: copy ${formatRows(table.rowsCopied, "new row")}`,
          formatCount(table.rowsCopied),
          `${table.path ?? "delta"} path; ${formatCount(table.targetRowsBefore ?? 0)} rows already there`,
        ];
      }
      return [
        table.name,
        table.action === "create" ? "create and copy all rows" : "drop, recreate and copy all rows",
        table.rowsCopied > 0 ? `${approx}${formatCount(table.rowsCopied)}` : "all",
        table.action === "create" ? "not in the target yet" : "full copy",
      ];
  }
}

function planTotals(report: RunReport): string {
  const count = (predicate: (table: TableResult) => boolean) => report.tables.filter(predicate).length;
  const ok = (action: TableResult["action"]) => (t: TableResult) => t.status === "ok" && t.action === action;
  const parts = [
    [count(ok("create")), "to create"],
    [count(ok("recreate")), "to recreate"],
    [count(ok("delta")), "to sync"],
    [count((t) => t.status === "up-to-date"), "up to date"],
    [count((t) => t.status === "skipped"), "skipped"],
    [count((t) => t.status === "failed"), "would fail"],
  ] as const;
  const shown = parts.filter(([n]) => n > 0).map(([n, label]) => `${n} ${label}`);
  const estimated = report.tables.some((t) => t.status === "ok" && t.action !== "delta");
  const rows = report.totals.rowsCopied;
  return (
    `${formatRows(report.tables.length, "table")}: ${shown.join(", ") || "nothing to do"}. ` +
    `${estimated ? "About " : ""}${formatRows(rows)} to copy${estimated ? " (planner estimates for full copies)" : ""}.`
  );
}
