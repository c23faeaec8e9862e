import { readSourceCatalog } from "./catalog.js";
import { connect, serverVersion, SESSION_SETTINGS_SQL } from "./connection.js";
import { targetSearchPath } from "./ddl.js";
import { qualify } from "./ident.js";
import { makeReport, type RunReport, type TableResult } from "./report.js";
import type { ProgressListener } from "./events.js";
import { serverWaitNotice, toTableError } from "./run.js";
import { assertSafeTargetSchema, planTables, type PlannedTable } from "./selection.js";
import { SourceSnapshot } from "./sessions.js";
import type { MigrationSpec } from "./spec.js";
import { countNewRows, keyColumnsOf } from "./table-ops.js";
import { readTargetTables } from "./target-state.js";
import type pg from "pg";

/**
 * What `run` would do, table by table, without changing either database: the source is read in a READ ONLY
 * snapshot; on the destination the only thing created is a temporary key table for tables that need the full key
 * comparison, inside a transaction that is rolled back. `rowsCopied` is the number of rows a run would copy:
 * for tables that would be created or recreated, the planner's estimate (`rowsEstimated`) unless the table was
 * never analyzed.
 */
export async function plan(
  spec: MigrationSpec,
  options: { onEvent?: ProgressListener } = {},
): Promise<RunReport> {
  assertSafeTargetSchema(spec);
  const startedAt = new Date();
  const serverWait = serverWaitNotice(spec, options.onEvent ?? (() => undefined));
  const destination = await connect(spec.destination, "destination", {
    retryForSeconds: spec.waitTimeoutSeconds,
    onFirstRetry: serverWait("destination"),
  });
  let snapshot: SourceSnapshot | undefined;
  try {
    snapshot = await SourceSnapshot.open(spec.source, {
      retryForSeconds: spec.waitTimeoutSeconds,
      onFirstRetry: serverWait("source"),
    });
    await destination.query(SESSION_SETTINGS_SQL);
    await destination.query("BEGIN ISOLATION LEVEL REPEATABLE READ");
    const catalog = await readSourceCatalog(snapshot.coordinator, spec.sourceSchema);
    await destination.query(targetSearchPath(spec.targetSchema));
    const planned = planTables(spec, catalog, await readTargetTables(destination, spec.targetSchema));
    const tables: TableResult[] = [];
    for (const item of planned) tables.push(await planOne(spec, item, snapshot.coordinator, destination));
    return makeReport(spec, {
      startedAt,
      tables,
      notCopied: catalog.notCopied,
      serverVersions: {
        source: await serverVersion(snapshot.coordinator),
        destination: await serverVersion(destination),
      },
      dryRun: true,
    });
  } finally {
    await destination.query("ROLLBACK").catch(() => undefined);
    await destination.end().catch(() => undefined);
    await snapshot?.close();
  }
}

async function exactCount(source: pg.Client, item: PlannedTable): Promise<number> {
  const only = item.shape.table.partitioned ? "" : "ONLY ";
  const { rows } = await source.query<{ n: string }>(
    `SELECT count(*) AS n FROM ${only}${qualify(item.shape.table.ref)}`,
  );
  return Number(rows[0]?.n ?? 0);
}

async function planOne(
  spec: MigrationSpec,
  item: PlannedTable,
  source: pg.Client,
  destination: pg.Client,
): Promise<TableResult> {
  const name = item.shape.table.ref.name;
  const base = { name, action: item.action, bytesCopied: 0, durationMs: 0 };
  if (item.action === "skip")
    return { ...base, status: "skipped", reason: item.reason ?? "skipped", rowsCopied: 0 };
  if (item.failure) return { ...base, status: "failed", error: item.failure, rowsCopied: 0 };
  if (item.action !== "delta" || !item.existing) {
    // A table never analyzed has no estimate (reltuples 0 or -1): count it rather than claim it is empty.
    const estimate = item.shape.table.estimatedRows;
    const rows = estimate > 0 ? estimate : await exactCount(source, item);
    return {
      ...base,
      status: "ok",
      rowsCopied: rows,
      sourceRows: rows,
      path: "full",
      rowsEstimated: estimate > 0,
    };
  }
  const keys = keyColumnsOf(item.shape);
  if (!keys) return { ...base, status: "skipped", reason: "no primary key", rowsCopied: 0 };
  // Savepoints on both sides: one table's failure must not abort the transactions the next tables use.
  await destination.query("SAVEPOINT plan_table");
  await source.query("SAVEPOINT plan_table");
  try {
    const { decision, newRows } = await countNewRows(source, destination, item.shape, item.existing, keys);
    await destination.query("ROLLBACK TO SAVEPOINT plan_table");
    await source.query("RELEASE SAVEPOINT plan_table");
    return {
      ...base,
      status: newRows === 0 ? "up-to-date" : "ok",
      rowsCopied: newRows,
      targetRowsBefore: decision.targetRowsBefore,
      targetRowsAfter: decision.targetRowsBefore + newRows,
      path: decision.path,
    };
  } catch (error) {
    await destination.query("ROLLBACK TO SAVEPOINT plan_table").catch(() => undefined);
    await source.query("ROLLBACK TO SAVEPOINT plan_table").catch(() => undefined);
    return { ...base, status: "failed", error: toTableError(error, spec), rowsCopied: 0 };
  }
}
