/**
 * The job summary: a RunReport rendered as HTML (which GitHub's markdown renders as is). Pure functions, no I/O.
 *
 * Every value that comes from a database or a spec goes through `text()`, which escapes it: table names may
 * contain `<`, `&` and quotes. The markup is emitted without blank lines inside a block, so GitHub's markdown
 * treats each block as raw HTML and never reinterprets `*`, `_` or `|` in a value.
 */
import {
  describeEndpoint,
  type EndpointSummary,
  type Mode,
  type RunReport,
  type TableResult,
} from "../engine/index.js";

/** GitHub refuses a step summary above 1 MiB. */
export const SUMMARY_BYTE_LIMIT = 1024 * 1024;
export const DEFAULT_TABLE_ROWS = 500;

export interface SummaryOptions {
  /** Tables listed individually (failed ones first); the rest are counted in a note. Default 500. */
  maxTableRows?: number;
  /** Size the summary must stay under; default a little under GitHub's 1 MiB. */
  maxBytes?: number;
  /** Applied to every value before it is escaped (the Action scrubs known secrets with it). */
  redact?: (text: string) => string;
}

/** A failure that ended the run before there was a report: an invalid spec, a connection or privilege problem. */
export interface FailureSummary {
  title: string;
  message?: string;
  hint?: string;
  /** Spec problems, each with where it is (`pgferry.yml:3:7`, or the input it came from). */
  problems?: readonly { location?: string; message: string }[];
}

const MAX_TEXT = 2000;

export function renderSummary(report: RunReport, options: SummaryOptions = {}): string {
  const limit = options.maxBytes ?? SUMMARY_BYTE_LIMIT - 8 * 1024;
  const text = escaper(options.redact);
  const requested = options.maxTableRows ?? DEFAULT_TABLE_ROWS;
  const caps = [requested, 100, 20, 0].filter((cap, index) => index === 0 || cap < requested);
  for (const cap of caps) {
    const html = [...overview(report, text), ...details(report, text, cap)].join("\n") + "\n";
    if (fits(html, limit)) return html;
  }
  const minimal = [
    ...overview(report, text),
    `<p>The per-table details were left out to keep this summary under GitHub's 1 MiB limit: the full report is in the <code>report</code> output.</p>`,
  ].join("\n");
  return fits(minimal, limit) ? `${minimal}\n` : `${heading(report)}\n`;
}

export function renderFailureSummary(failure: FailureSummary, options: SummaryOptions = {}): string {
  const text = escaper(options.redact);
  const limit = options.maxBytes ?? SUMMARY_BYTE_LIMIT - 8 * 1024;
  const parts = [`<h2>❌ ${text(failure.title)}</h2>`];
  if (failure.message !== undefined) parts.push(`<p>${lines(failure.message, text)}</p>`);
  if (failure.problems !== undefined && failure.problems.length > 0) {
    const shown = failure.problems.slice(0, DEFAULT_TABLE_ROWS);
    const items = shown.map(
      (problem) =>
        `<li>${problem.location === undefined ? "" : `<code>${text(problem.location)}</code> `}${text(problem.message)}</li>`,
    );
    const more = failure.problems.length - shown.length;
    if (more > 0) items.push(`<li>… and ${count(more)} more problems</li>`);
    parts.push(`<ul>\n${items.join("\n")}\n</ul>`);
  }
  if (failure.hint !== undefined) parts.push(`<p><b>Hint:</b> ${text(failure.hint)}</p>`);
  const html = parts.join("\n") + "\n";
  return fits(html, limit) ? html : `<h2>❌ ${text(failure.title)}</h2>\n`;
}

// ── the parts ──────────────────────────────────────────────────────────────────────────────────────────────

function overview(report: RunReport, text: Escape): string[] {
  const endpoint = (label: string, summary: EndpointSummary | undefined, schema: string) => {
    const where = summary === undefined ? "" : ` <code>${text(describeEndpoint(summary))}</code>`;
    const version = summary?.serverVersion ? ` (PostgreSQL ${text(summary.serverVersion)})` : "";
    return `<b>${label}</b>${where}${version}, schema <code>${text(schema)}</code>`;
  };
  const facts = [
    endpoint("Source", report.source, report.sourceSchema),
    endpoint("Destination", report.destination, report.targetSchema),
    `<b>Mode</b> <code>${text(report.mode)}</code> · started ${text(report.startedAt)} · took ${duration(report.durationMs)}`,
  ];
  const parts = [heading(report), `<p>${facts.join("<br>\n")}</p>`];
  if (report.dryRun) {
    parts.push(
      "<p><b>Dry run:</b> nothing was written. This is what a run would do; rows to copy into tables that would be (re)created are the planner's estimates (≈).</p>",
    );
  }
  parts.push(totalsTable(report));
  return parts;
}

function heading(report: RunReport): string {
  const failed = report.totals.tablesFailed;
  const what = MODE_LABELS[report.mode];
  if (report.dryRun) {
    const outcome = failed > 0 ? ` — ${count(failed)} ${plural(failed, "table")} would fail` : "";
    return `<h2>${failed > 0 ? "❌" : "✅"} pgferry dry run: ${what} plan${outcome}</h2>`;
  }
  if (failed > 0) {
    return `<h2>❌ pgferry: ${what} finished with ${count(failed)} failed ${plural(failed, "table")}</h2>`;
  }
  return `<h2>✅ pgferry: ${what} completed</h2>`;
}

const MODE_LABELS: Record<Mode, string> = {
  full: "full copy",
  incremental: "incremental sync",
  tables: "table operations",
};

/** The original tool's statistics. */
function totalsTable(report: RunReport): string {
  const t = report.totals;
  const rows: [string, string][] = [
    ["Tables processed", count(t.tables)],
    [report.dryRun ? "New tables to create" : "New tables created", count(t.tablesCreated)],
    [report.dryRun ? "Existing tables to sync" : "Existing tables synced", count(t.tablesSynced)],
    ["Tables up to date", count(t.tablesUpToDate)],
    ["Tables skipped", count(t.tablesSkipped)],
    [report.dryRun ? "Tables that would fail" : "Tables failed", count(t.tablesFailed)],
    [report.dryRun ? "Rows to copy" : "Total new rows copied", count(t.rowsCopied)],
  ];
  if (!report.dryRun) rows.push(["Data copied", bytes(t.bytesCopied)]);
  const body = rows.map(([label, value]) => `<tr><td>${label}</td><td align="right">${value}</td></tr>`);
  return `<table>\n${body.join("\n")}\n</table>`;
}

function details(report: RunReport, text: Escape, cap: number): string[] {
  const parts: string[] = [];
  const ordered = failedFirst(report.tables);
  if (ordered.length > 0 && cap > 0) parts.push(tablesTable(report, ordered.slice(0, cap), text));
  if (ordered.length > cap) {
    parts.push(
      `<p>… and ${count(ordered.length - cap)} more ${plural(ordered.length - cap, "table")} (full report in the <code>report</code> output)</p>`,
    );
  }
  const troubled = ordered.filter((t) => t.status === "failed" || t.status === "skipped");
  if (troubled.length > 0) parts.push(troubleDetails(troubled, text, cap, Boolean(report.dryRun)));
  if (report.notCopied.length > 0) parts.push(notCopiedDetails(report, text, cap));
  const foreignKeys = report.foreignKeysSkipped ?? [];
  if (foreignKeys.length > 0) {
    parts.push(
      listDetails(
        `Foreign keys not recreated (${count(foreignKeys.length)}): one of their tables failed or was skipped`,
        foreignKeys.map((fk) => `<code>${text(fk)}</code>`),
        cap,
      ),
    );
  }
  return parts;
}

function tablesTable(report: RunReport, tables: readonly TableResult[], text: Escape): string {
  const dry = Boolean(report.dryRun);
  const headers = dry
    ? ["Table", "Action", "Status", "Rows in target", "Rows after", "Rows to copy"]
    : ["Table", "Action", "Status", "Rows before", "Rows after", "Rows copied", "Duration", "Rate"];
  const row = (t: TableResult) => {
    const cells = [
      `<td><code>${text(t.name)}</code></td>`,
      `<td>${t.action}${t.action === "delta" && t.path ? ` · ${t.path}` : ""}</td>`,
      `<td>${STATUS_LABELS[t.status]}</td>`,
      numberCell(t.targetRowsBefore),
      numberCell(t.targetRowsAfter),
    ];
    const copied = t.status === "ok" || t.status === "up-to-date";
    if (dry) {
      const estimated = t.status === "ok" && t.action !== "delta";
      cells.push(numberCell(copied ? t.rowsCopied : undefined, estimated ? "≈ " : ""));
    } else {
      const worked = t.status !== "skipped" && t.durationMs > 0;
      cells.push(numberCell(copied ? t.rowsCopied : undefined));
      cells.push(`<td align="right">${worked ? duration(t.durationMs) : "—"}</td>`);
      cells.push(`<td align="right">${rate(t)}</td>`);
    }
    return `<tr>${cells.join("")}</tr>`;
  };
  const head = `<tr>${headers.map((h) => `<th>${h}</th>`).join("")}</tr>`;
  return `<table>\n${head}\n${tables.map(row).join("\n")}\n</table>`;
}

const STATUS_LABELS: Record<TableResult["status"], string> = {
  ok: "✅ ok",
  "up-to-date": "☑️ up to date",
  skipped: "⏭️ skipped",
  failed: "❌ failed",
};

function troubleDetails(tables: readonly TableResult[], text: Escape, cap: number, dry: boolean): string {
  const failed = tables.filter((t) => t.status === "failed").length;
  const skipped = tables.length - failed;
  const counts = [
    failed > 0 ? `${count(failed)} ${dry ? "would fail" : "failed"}` : "",
    skipped > 0 ? `${count(skipped)} skipped` : "",
  ].filter((part) => part !== "");
  const items = tables.map((t) => {
    if (t.status === "skipped")
      return `⏭️ <code>${text(t.name)}</code> skipped: ${text(t.reason ?? "skipped")}`;
    const error = t.error;
    if (error === undefined) return `❌ <code>${text(t.name)}</code> failed`;
    const extra = [
      error.detail === undefined ? "" : `<br>Detail: ${text(error.detail)}`,
      error.hint === undefined ? "" : `<br>Hint: ${text(error.hint)}`,
    ].join("");
    return `❌ <code>${text(t.name)}</code> failed: <code>${text(error.code)}</code> ${text(error.message)}${extra}`;
  });
  return listDetails(`Failed and skipped tables: ${counts.join(", ")}`, items, Math.max(cap, 20), failed > 0);
}

function notCopiedDetails(report: RunReport, text: Escape, cap: number): string {
  const kinds = new Map<string, number>();
  for (const object of report.notCopied) kinds.set(object.kind, (kinds.get(object.kind) ?? 0) + 1);
  const breakdown = [...kinds].map(([kind, n]) => `${count(n)} ${n === 1 ? kind : pluralKind(kind)}`);
  return listDetails(
    `Not copied (not tables): ${breakdown.join(", ")}`,
    report.notCopied.map((object) => `<code>${text(object.name)}</code> (${text(object.kind)})`),
    Math.max(cap, 20),
  );
}

function listDetails(summary: string, items: readonly string[], cap: number, open = false): string {
  const shown = items.slice(0, cap).map((item) => `<li>${item}</li>`);
  if (items.length > cap) shown.push(`<li>… and ${count(items.length - cap)} more</li>`);
  return [
    `<details${open ? " open" : ""}><summary>${summary}</summary>`,
    "<ul>",
    ...shown,
    "</ul>",
    "</details>",
  ].join("\n");
}

// ── formatting ─────────────────────────────────────────────────────────────────────────────────────────────

type Escape = (value: string) => string;

export function escapeHtml(value: string): string {
  return value
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}

function escaper(redact: ((text: string) => string) | undefined): Escape {
  return (value) => {
    const clean = redact ? redact(value) : value;
    return escapeHtml(clean.length > MAX_TEXT ? `${clean.slice(0, MAX_TEXT - 1)}…` : clean);
  };
}

/** Multi-line text (an error message with its hint) as HTML lines. */
function lines(value: string, text: Escape): string {
  return value.split("\n").map(text).join("<br>\n");
}

function failedFirst(tables: readonly TableResult[]): TableResult[] {
  return [...tables.filter((t) => t.status === "failed"), ...tables.filter((t) => t.status !== "failed")];
}

function fits(html: string, limit: number): boolean {
  return Buffer.byteLength(html, "utf8") <= limit;
}

function numberCell(value: number | undefined, prefix = ""): string {
  return `<td align="right">${value === undefined ? "—" : `${prefix}${count(value)}`}</td>`;
}

export function count(value: number): string {
  return value.toLocaleString("en-US");
}

export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.round((ms % 60_000) / 1000);
  return `${minutes} min ${seconds} s`;
}

function rate(t: TableResult): string {
  if (t.status !== "ok" || t.rowsCopied <= 0 || t.durationMs <= 0) return "—";
  return `${count(Math.round((t.rowsCopied * 1000) / t.durationMs))} rows/s`;
}

export function bytes(value: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let amount = value;
  let unit = 0;
  while (amount >= 1024 && unit < units.length - 1) {
    amount /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${count(amount)} B` : `${amount.toFixed(1)} ${units[unit]}`;
}

function plural(n: number, word: string): string {
  return n === 1 ? word : `${word}s`;
}

function pluralKind(kind: string): string {
  return kind === "materialized view" ? "materialized views" : `${kind}s`;
}
