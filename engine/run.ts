import pg from "pg";
import { readSourceCatalog } from "./catalog.js";
import {
  connect,
  describeEndpoint,
  redactSecret,
  serverVersion,
  SESSION_SETTINGS_SQL,
} from "./connection.js";
import { PgferryError } from "./errors.js";
import type { ProgressListener, TablePhase } from "./events.js";
import { targetSearchPath } from "./ddl.js";
import { quoteIdent } from "./ident.js";
import { makeReport, type RunReport, type TableError, type TableResult } from "./report.js";
import { assertSafeTargetSchema, planTables, type PlannedTable } from "./selection.js";
import { schedule } from "./schedule.js";
import { acquireTargetLock, releaseTargetLock, SourceSnapshot } from "./sessions.js";
import type { MigrationSpec } from "./spec.js";
import { copyTableFull, keyColumnsOf, syncTableDelta, type TableOutcome } from "./table-ops.js";
import { prepareTargetSchema, restoreForeignKeys, sharedSequencesOf } from "./target-setup.js";
import { readTargetTables } from "./target-state.js";

export interface RunOptions {
  onEvent?: ProgressListener;
  /** Aborting cancels the statements in flight; their tables roll back and `run` rejects with `interrupted`. */
  signal?: AbortSignal;
}

/** Everything a run holds open; closed in one place whatever happens. */
interface RunResources {
  snapshot?: SourceSnapshot;
  control?: pg.Client;
  locked?: boolean;
  /** Why the control session (and with it the run's lock) was lost, once it was. */
  controlLost?: string;
  workers: { source?: pg.Client; destination?: pg.Client }[];
}

export async function run(spec: MigrationSpec, options: RunOptions = {}): Promise<RunReport> {
  assertSafeTargetSchema(spec);
  const emit = options.onEvent ?? (() => undefined);
  const startedAt = new Date();
  const resources: RunResources = { workers: [] };
  const secrets = [spec.source.password, spec.destination.password];
  try {
    const serverWait = serverWaitNotice(spec, emit);
    resources.control = await connect(spec.destination, "destination", {
      retryForSeconds: spec.waitTimeoutSeconds,
      signal: options.signal,
      onFirstRetry: serverWait("destination"),
    });
    resources.control.on("error", (error: Error) => (resources.controlLost ??= error.message));
    resources.snapshot = await SourceSnapshot.open(spec.source, {
      retryForSeconds: spec.waitTimeoutSeconds,
      signal: options.signal,
      onFirstRetry: serverWait("source"),
    });
    emit({
      type: "connected",
      source: describeEndpoint(spec.source),
      destination: describeEndpoint(spec.destination),
    });
    await acquireTargetLock(
      resources.control,
      spec.targetSchema,
      spec.onLocked,
      spec.waitTimeoutSeconds,
      () => emit({ type: "lock-wait", targetSchema: spec.targetSchema }),
      options.signal,
    );
    resources.locked = true;
    throwIfAborted(options.signal);

    const catalog = await readSourceCatalog(resources.snapshot.coordinator, spec.sourceSchema);
    const planned = planTables(
      spec,
      catalog,
      await readTargetTablesOnce(resources.control, spec.targetSchema),
    );
    emit({
      type: "run-start",
      tables: planned.map((p) => ({
        name: p.shape.table.ref.name,
        action: p.action,
        estimatedRows: p.shape.table.estimatedRows,
        estimatedBytes: p.shape.table.estimatedBytes,
      })),
    });
    const shared = sharedSequencesOf(catalog);
    await prepareTargetSchema(resources.control, spec.targetSchema, catalog.types, shared).catch(
      (error: unknown) => {
        throw setupError(error, spec.targetSchema, secrets);
      },
    );

    const results = await copyAll(
      spec,
      planned,
      new Set(shared.map((s) => s.oid)),
      resources,
      emit,
      options.signal,
    );
    throwIfAborted(options.signal);
    if (resources.controlLost !== undefined) throw controlLostError(spec, resources, secrets);
    const foreignKeys = await restoreForeignKeys(resources.control, spec.targetSchema, catalog, planned);
    if (resources.controlLost !== undefined) throw controlLostError(spec, resources, secrets);

    const tables = planned.map((p) => results.get(p.shape.table.ref.name) ?? notRun(p));
    const report = makeReport(spec, {
      startedAt,
      tables,
      notCopied: catalog.notCopied,
      serverVersions: {
        source: await serverVersion(resources.snapshot.coordinator),
        destination: await serverVersion(resources.control),
      },
      foreignKeysSkipped: foreignKeys.skipped,
    });
    emit({ type: "run-finish", report });
    return report;
  } catch (error) {
    if (options.signal?.aborted)
      throw new PgferryError("interrupted", "Interrupted: the table in flight was rolled back.");
    if (resources.controlLost !== undefined && !(error instanceof PgferryError))
      throw controlLostError(spec, resources, secrets);
    throw error;
  } finally {
    await closeAll(resources, spec.targetSchema);
  }
}

async function readTargetTablesOnce(client: pg.Client, targetSchema: string) {
  await client.query("BEGIN");
  try {
    await client.query(targetSearchPath(targetSchema));
    return await readTargetTables(client, targetSchema);
  } finally {
    await client.query("COMMIT");
  }
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new PgferryError("interrupted", "Interrupted before any table was touched.");
}

/** Reports, once per side, that a server refused the first connection and is being retried. */
export function serverWaitNotice(
  spec: MigrationSpec,
  emit: ProgressListener,
): (side: "source" | "destination") => (reason: string) => void {
  return (side) => (reason) =>
    emit({
      type: "server-wait",
      side,
      endpoint: describeEndpoint(spec[side]),
      reason,
      seconds: spec.waitTimeoutSeconds,
    });
}

function setupError(error: unknown, targetSchema: string, secrets: (string | undefined)[]): unknown {
  const code = (error as { code?: string }).code;
  if (code === "42501") {
    return new PgferryError(
      "privilege",
      `Cannot prepare target schema "${targetSchema}": ${redactAll(String((error as Error).message), secrets)}.`,
      {
        hint: `The destination user needs CREATE on the database (or ownership of schema "${targetSchema}").`,
        cause: error,
      },
    );
  }
  return error;
}

/** A session advisory lock ends with its session: the run stops taking tables and says what happened. */
function controlLostError(
  spec: MigrationSpec,
  resources: RunResources,
  secrets: (string | undefined)[],
): PgferryError {
  const reason = redactAll(resources.controlLost ?? "", secrets);
  return new PgferryError(
    "connection-lost",
    `Lost the destination session that holds the lock on target schema "${spec.targetSchema}" (${describeEndpoint(spec.destination)}): ${reason}. Tables already finished are committed; every other table kept its previous version.`,
    {
      hint: "Run again: it starts from what the target holds now.",
      exitCode: resources.workers.length > 0 ? 1 : 2,
    },
  );
}

function redactAll(text: string, secrets: readonly (string | undefined)[]): string {
  return secrets.reduce<string>((result, secret) => redactSecret(result, secret), text);
}

function notRun(planned: PlannedTable): TableResult {
  return {
    name: planned.shape.table.ref.name,
    action: planned.action,
    status: "failed",
    rowsCopied: 0,
    bytesCopied: 0,
    durationMs: 0,
    error: { code: "not-run", message: "The run stopped before this table was processed." },
  };
}

async function copyAll(
  spec: MigrationSpec,
  planned: readonly PlannedTable[],
  sharedSequences: ReadonlySet<number>,
  resources: RunResources,
  emit: ProgressListener,
  signal: AbortSignal | undefined,
): Promise<Map<string, TableResult>> {
  const results = new Map<string, TableResult>();
  const { order: queue, waitFor } = schedule(planned);
  const total = planned.length;
  // Settles when a table is finished (whatever its outcome), for deltas that must wait for their parents.
  const finished = new Map<string, { promise: Promise<void>; resolve: () => void }>();
  for (const p of queue) {
    let resolve: () => void = () => undefined;
    const promise = new Promise<void>((r) => (resolve = r));
    finished.set(p.shape.table.ref.name, { promise, resolve });
  }
  let next = 0;
  let started = 0;

  const cancelInFlight = () => void cancelWorkers(resources);
  signal?.addEventListener("abort", cancelInFlight, { once: true });

  const workerCount = Math.max(
    1,
    Math.min(spec.jobs, queue.filter((p) => p.action !== "skip" && !p.failure).length || 1),
  );
  const worker = async (slot: number) => {
    resources.workers[slot] = {};
    while (next < queue.length && !signal?.aborted && resources.controlLost === undefined) {
      const item = queue[next++];
      if (!item) break;
      const name = item.shape.table.ref.name;
      await Promise.all((waitFor.get(name) ?? []).map((parent) => finished.get(parent)?.promise));
      const index = ++started;
      emit({ type: "table-start", table: name, index, total, action: item.action });
      const result = await processTable(spec, item, sharedSequences, resources, slot, emit, signal);
      results.set(name, result);
      emit({ type: "table-finish", table: name, index, total, result });
      finished.get(name)?.resolve();
    }
  };
  try {
    await Promise.all(Array.from({ length: workerCount }, (_, slot) => worker(slot)));
  } finally {
    signal?.removeEventListener("abort", cancelInFlight);
  }
  return results;
}

async function processTable(
  spec: MigrationSpec,
  item: PlannedTable,
  sharedSequences: ReadonlySet<number>,
  resources: RunResources,
  slot: number,
  emit: ProgressListener,
  signal: AbortSignal | undefined,
): Promise<TableResult> {
  const name = item.shape.table.ref.name;
  const base = {
    name,
    action: item.action,
    rowsCopied: 0,
    bytesCopied: 0,
    ...(item.shape.excluded.size > 0 ? { excludedColumns: [...item.shape.excluded] } : {}),
  };
  if (item.action === "skip")
    return { ...base, status: "skipped", reason: item.reason ?? "skipped", durationMs: 0 };
  if (item.failure) return { ...base, status: "failed", error: item.failure, durationMs: 0 };
  const started = Date.now();
  const sessions = resources.workers[slot] ?? {};
  resources.workers[slot] = sessions;
  try {
    sessions.source ??= await openSourceWorker(resources, spec.sourceSchema);
    sessions.destination ??= await openDestinationWorker(spec);
  } catch (error) {
    return { ...base, status: "failed", error: toTableError(error, spec), durationMs: Date.now() - started };
  }
  const destination = sessions.destination;
  const context = {
    source: sessions.source,
    destination,
    sharedSequences,
    onPhase: (phase: TablePhase) => emit({ type: "table-phase", table: name, phase }),
    onProgress: ({ rows, bytes }: { rows: number; bytes: number }) =>
      emit({ type: "table-progress", table: name, rows, bytes }),
  };
  try {
    // Sessions opened while the run was being interrupted missed its cancel.
    signal?.throwIfAborted();
    await destination.query("BEGIN");
    let outcome: TableOutcome;
    if (item.action === "delta" && item.existing) {
      const keys = keyColumnsOf(item.shape);
      if (!keys) throw new Error("delta without a primary key");
      outcome = await syncTableDelta(context, item.shape, item.existing, keys);
    } else {
      outcome = await copyTableFull(context, item.shape);
    }
    context.onPhase("commit");
    await destination.query("COMMIT");
    const upToDate = item.action === "delta" && outcome.rowsCopied === 0;
    return {
      ...base,
      status: upToDate ? "up-to-date" : "ok",
      rowsCopied: outcome.rowsCopied,
      bytesCopied: outcome.bytesCopied,
      sourceRows: outcome.sourceRows,
      targetRowsBefore: outcome.targetRowsBefore,
      targetRowsAfter: outcome.targetRowsAfter,
      path: outcome.path,
      copyFormat: outcome.copyFormat,
      durationMs: Date.now() - started,
    };
  } catch (error) {
    await recoverSessions(sessions);
    return { ...base, status: "failed", error: toTableError(error, spec), durationMs: Date.now() - started };
  }
}

/**
 * After a failure the destination transaction is rolled back (or died with its connection), and the source
 * session may be stuck in an interrupted COPY: both are replaced lazily by the next table.
 */
async function recoverSessions(sessions: { source?: pg.Client; destination?: pg.Client }): Promise<void> {
  const { source, destination } = sessions;
  delete sessions.source;
  delete sessions.destination;
  await destination?.query("ROLLBACK").catch(() => undefined);
  await Promise.all([source?.end().catch(() => undefined), destination?.end().catch(() => undefined)]);
}

async function openSourceWorker(resources: RunResources, sourceSchema: string): Promise<pg.Client> {
  if (!resources.snapshot) throw new Error("source snapshot not open");
  const client = await resources.snapshot.openWorker();
  await client.query(`SET LOCAL search_path TO ${quoteIdent(sourceSchema)}, pg_catalog`);
  return client;
}

async function openDestinationWorker(spec: MigrationSpec): Promise<pg.Client> {
  const client = await connect(spec.destination, "destination");
  await client.query(SESSION_SETTINGS_SQL);
  // Index and primary key builds after the load sort in memory up to this much instead of spilling to disk.
  await client.query("SET maintenance_work_mem TO '256MB'");
  // The anti-join's key table lives in temp buffers (default 8MB): allowed up to this much before it spills to
  // disk. Only settable before the session's first use of a temporary table.
  await client.query("SET temp_buffers TO '256MB'");
  return client;
}

async function cancelWorkers(resources: RunResources): Promise<void> {
  const destinationPids = resources.workers.map(
    (w) => (w.destination as { processID?: number } | undefined)?.processID,
  );
  const sourcePids = resources.workers.map(
    (w) => (w.source as { processID?: number } | undefined)?.processID,
  );
  const cancel = async (client: pg.Client | undefined, pids: (number | undefined)[]) => {
    const list = pids.filter((pid): pid is number => typeof pid === "number");
    if (client && list.length > 0) {
      await client
        .query("SELECT pg_cancel_backend(pid) FROM unnest($1::int[]) pid", [list])
        .catch(() => undefined);
    }
  };
  await Promise.all([
    cancel(resources.control, destinationPids),
    cancel(resources.snapshot?.coordinator, sourcePids),
  ]);
  // A cancel that reaches a session between two statements is lost: closed, the session fails its next statement
  // at once, and the server rolls its transaction back.
  await Promise.all(
    resources.workers
      .flatMap((w) => [w.source, w.destination])
      .map((client) => client?.end().catch(() => undefined)),
  );
}

export function toTableError(error: unknown, spec: MigrationSpec): TableError {
  const secrets = [spec.source.password, spec.destination.password];
  if (error instanceof PgferryError) return { code: error.kind, message: redactAll(error.message, secrets) };
  const pgError = error as { code?: string; message?: string; detail?: string; hint?: string };
  // Only a server's error carries a SQLSTATE; Node's socket errors have codes of the same shape ("EPIPE").
  const sqlState = error instanceof pg.DatabaseError && pgError.code ? pgError.code : null;
  const message = redactAll(pgError.message ?? String(error), secrets);
  return {
    code: sqlState ?? "connection-lost",
    message: sqlState ? message : `connection lost: ${message}`,
    ...(pgError.detail ? { detail: redactAll(pgError.detail, secrets) } : {}),
    ...(pgError.hint ? { hint: redactAll(pgError.hint, secrets) } : {}),
  };
}

async function closeAll(resources: RunResources, targetSchema: string): Promise<void> {
  await Promise.all(
    resources.workers.flatMap((w) => [
      w.source?.end().catch(() => undefined),
      w.destination
        ?.query("ROLLBACK")
        .catch(() => undefined)
        .then(() => w.destination?.end().catch(() => undefined)),
    ]),
  );
  if (resources.control) {
    if (resources.locked) await releaseTargetLock(resources.control, targetSchema).catch(() => undefined);
    await resources.control.end().catch(() => undefined);
  }
  await resources.snapshot?.close();
}
