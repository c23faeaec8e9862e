/**
 * One pgferry run in its own process, so its peak RSS is measured alone. Reads the spec (JSON) from the
 * BENCH_SPEC environment variable and prints a one-line JSON summary of the RunReport on stdout.
 */
import { run, SPEC_DEFAULTS, type MigrationSpec } from "../../engine/index.js";

const overrides = JSON.parse(process.env.BENCH_SPEC ?? "{}") as Pick<
  MigrationSpec,
  "source" | "destination" | "mode" | "jobs" | "tables"
>;
const spec: MigrationSpec = { ...SPEC_DEFAULTS, exclude: [], waitTimeoutSeconds: 5, ...overrides };
const report = await run(spec);
const failed = report.tables.filter((t) => t.status === "failed");
console.log(
  JSON.stringify({
    durationMs: report.durationMs,
    rowsCopied: report.totals.rowsCopied,
    tables: report.tables.map((t) => ({ name: t.name, status: t.status, rows: t.rowsCopied, path: t.path })),
    maxRssKiB: process.resourceUsage().maxRSS,
    errors: failed.map((t) => `${t.name}: ${t.error?.message ?? "?"}`),
  }),
);
process.exitCode = failed.length > 0 ? 1 : 0;
