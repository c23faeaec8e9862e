import type { Mode, NotCopiedObject, RunReport, TableResult } from "../../engine/index.js";
import { failureText } from "./table-lines.js";
import { formatBytes, formatCount, formatDuration } from "./format.js";
import type { Style } from "./style.js";
import { textTable } from "./text-table.js";

export const MODE_TITLES: Record<Mode, string> = {
  full: "Full database copy",
  incremental: "Incremental sync",
  tables: "Table operations",
};

/**
 * The human summary of a finished run: the original tool's statistics, a line per table, the failures with their
 * errors, and what the source has that is not a table and so was not copied.
 */
export function renderRunSummary(report: RunReport, style: Style): string {
  const { totals } = report;
  const s = style.symbols;
  const lines: string[] = [""];
  const title = MODE_TITLES[report.mode];
  if (totals.tablesFailed > 0) {
    lines.push(
      style.red(
        style.bold(
          `${s.cross} ${title} finished with ${totals.tablesFailed} failed table${totals.tablesFailed === 1 ? "" : "s"} in ${formatDuration(report.durationMs)}`,
        ),
      ),
    );
  } else {
    lines.push(
      style.green(style.bold(`${s.tick} ${title} completed in ${formatDuration(report.durationMs)}`)),
    );
  }
  lines.push("", ...statistics(report).map((line) => `  ${line}`), "");
  if (report.tables.length > 0) lines.push(...perTable(report.tables, style), "");
  const failed = report.tables.filter((table) => table.status === "failed");
  if (failed.length > 0) lines.push(...failures(failed, style), "");
  if (report.foreignKeysSkipped && report.foreignKeysSkipped.length > 0) {
    lines.push(`  Foreign keys not recreated (a table they join failed or was skipped):`);
    lines.push(`    ${report.foreignKeysSkipped.join(", ")}`, "");
  }
  const notCopied = renderNotCopied(report.notCopied);
  if (notCopied.length > 0) lines.push(...notCopied, "");
  return lines.join("\n");
}

export function statistics(report: RunReport): string[] {
  const { totals } = report;
  const reasons = new Set(report.tables.filter((t) => t.status === "skipped").map((t) => t.reason));
  const skippedLabel =
    reasons.size === 0 || (reasons.size === 1 && reasons.has("no primary key"))
      ? "Tables skipped (no primary key)"
      : "Tables skipped";
  const rows: [string, string][] = [
    ["Tables processed", formatCount(totals.tables)],
    ["New tables created", formatCount(totals.tablesCreated)],
    ["Existing tables synced", formatCount(totals.tablesSynced)],
    ["Tables up to date", formatCount(totals.tablesUpToDate)],
    [skippedLabel, formatCount(totals.tablesSkipped)],
    ["Tables failed", formatCount(totals.tablesFailed)],
    ["Total new rows", `${formatCount(totals.rowsCopied)} (${formatBytes(totals.bytesCopied)})`],
  ];
  const width = Math.max(...rows.map(([label]) => label.length)) + 1;
  return rows.map(([label, value]) => `${`${label}:`.padEnd(width)} ${value}`);
}

const STATUS_TEXT: Record<TableResult["status"], string> = {
  ok: "ok",
  "up-to-date": "up to date",
  skipped: "skipped",
  failed: "FAILED",
};

function perTable(tables: readonly TableResult[], style: Style): string[] {
  const dash = style.symbols.dash;
  const rows = tables.map((table) => {
    const status = STATUS_TEXT[table.status];
    const shownStatus =
      table.status === "failed"
        ? style.red(status)
        : table.status === "skipped"
          ? style.yellow(status)
          : status;
    const before = table.targetRowsBefore;
    const after = table.targetRowsAfter;
    const beforeAfter =
      before !== undefined && after !== undefined
        ? `${formatCount(before)} ${style.symbols.arrow} ${formatCount(after)}`
        : dash;
    const copied = table.status === "skipped" ? dash : formatCount(table.rowsCopied);
    const note =
      table.status === "skipped"
        ? (table.reason ?? "")
        : table.status === "failed"
          ? (table.error?.code ?? "")
          : [
              table.action === "delta" ? table.path : undefined,
              table.copyFormat === "text" ? "text format" : undefined,
              table.excludedColumns ? `without ${table.excludedColumns.join(", ")}` : undefined,
            ]
              .filter(Boolean)
              .join(", ");
    return [
      table.name,
      table.action,
      shownStatus,
      beforeAfter,
      copied,
      table.status === "skipped" ? dash : formatDuration(table.durationMs),
      note,
    ];
  });
  return textTable(
    [
      { header: "Table" },
      { header: "Action" },
      { header: "Status" },
      { header: `Rows before ${style.symbols.arrow} after`, align: "right" },
      { header: "Copied", align: "right" },
      { header: "Duration", align: "right" },
      { header: "Notes" },
    ],
    rows,
    { indent: "  " },
  );
}

function failures(failed: readonly TableResult[], style: Style): string[] {
  const lines = [`  ${style.red("Failed:")}`];
  for (const table of failed) {
    lines.push(`    ${table.name}: ${failureText(table)}`);
    if (table.error?.detail) lines.push(`      detail: ${table.error.detail}`);
    if (table.error?.hint) lines.push(`      hint: ${table.error.hint}`);
  }
  lines.push("  The failed tables were rolled back and keep their previous content.");
  return lines;
}

const KIND_PLURALS: Record<NotCopiedObject["kind"], string> = {
  view: "views",
  "materialized view": "materialized views",
  function: "functions",
  procedure: "procedures",
  trigger: "triggers",
  "foreign table": "foreign tables",
};

/** One line per kind of object: `views: active_users, sales_by_store`. */
export function renderNotCopied(objects: readonly NotCopiedObject[]): string[] {
  if (objects.length === 0) return [];
  const byKind = new Map<NotCopiedObject["kind"], string[]>();
  for (const object of objects) {
    const names = byKind.get(object.kind) ?? [];
    names.push(object.name);
    byKind.set(object.kind, names);
  }
  const lines = ["  Not copied (not tables):"];
  for (const [kind, names] of byKind) lines.push(`    ${KIND_PLURALS[kind]}: ${names.join(", ")}`);
  return lines;
}
