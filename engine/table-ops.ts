import type pg from "pg";
import { streamCopy, type CopyProgress } from "./copy-stream.js";
import {
  createPartitionsSql,
  createSequenceSql,
  createTableSql,
  dropTableSql,
  postLoadSql,
  setSequenceSql,
  targetSearchPath,
  type TableShape,
} from "./ddl.js";
import type { TablePhase } from "./events.js";
import { narrowByBuckets, type KeyFilter } from "./key-buckets.js";
import { qualify, quoteIdent, type TableRef } from "./ident.js";
import {
  keyHashSql,
  keyInListSql,
  keyOrderSql,
  keyTextColumnsSql,
  keyTupleSql,
  keyLiteralSql,
  type KeyColumns,
} from "./keys.js";
import type { SequenceDef } from "./model.js";
import type { CopyFormat, DeltaPath } from "./report.js";
import { syncStateCommentSql, type Fingerprint, type SyncState, type TargetTable } from "./target-state.js";

export interface TableContext {
  /** Worker session on the source, inside the run's snapshot, search_path = source schema. */
  readonly source: pg.Client;
  readonly destination: pg.Client;
  /** Sequences created before the tables because several tables (or none) own them. */
  readonly sharedSequences: ReadonlySet<number>;
  readonly onPhase: (phase: TablePhase) => void;
  readonly onProgress: (progress: CopyProgress) => void;
}

export interface TableOutcome {
  rowsCopied: number;
  bytesCopied: number;
  sourceRows: number;
  targetRowsBefore: number;
  targetRowsAfter: number;
  path: DeltaPath;
  copyFormat: CopyFormat;
}

export function copyFormatOf(shape: TableShape): CopyFormat {
  return shape.copyColumns.every((column) => column.binarySafe) ? "binary" : "text";
}

function sourceSelectSql(shape: TableShape, where = ""): string {
  const columns = shape.copyColumns.map((column) => quoteIdent(column.name)).join(", ");
  // ONLY: rows of inheritance children belong to those tables; a partitioned root is read with its partitions.
  const only = shape.table.partitioned ? "" : "ONLY ";
  return `SELECT ${columns} FROM ${only}${qualify(shape.table.ref)}${where ? ` WHERE ${where}` : ""}`;
}

function targetCopySql(shape: TableShape): string {
  return `COPY ${qualify(shape.target)} (${shape.copyColumns.map((column) => quoteIdent(column.name)).join(", ")})`;
}

export function keyColumnsOf(shape: TableShape): KeyColumns | null {
  const primaryKey = shape.table.primaryKey;
  if (!primaryKey) return null;
  const byName = new Map(shape.table.columns.map((column) => [column.name, column]));
  return primaryKey.columns.map((name) => {
    const column = byName.get(name);
    if (!column) throw new Error(`primary key column ${name} of ${shape.table.ref.name} not found`);
    return column;
  });
}

/** Every sequence the target table's columns draw from, with the column that uses it. */
function tableSequences(shape: TableShape): { sequence: SequenceDef; column: string }[] {
  return shape.columns.flatMap((column) => {
    const sequence = column.identitySequence ?? column.defaultSequence;
    return sequence ? [{ sequence, column: column.name }] : [];
  });
}

/**
 * Foreign keys of other target tables that point at this one are dropped with it, and restored after the loads.
 * Anything else that depends on the table (a view, a foreign key of a table in another schema) was made by someone
 * else and is not pgferry's to drop: the DROP fails with 2BP01, which names it, and the table keeps its previous
 * version.
 */
async function dropTargetTable(destination: pg.Client, target: TableRef): Promise<void> {
  // conparentid = 0: the constraints of partitions are dropped with their parent's.
  const { rows } = await destination.query<{ child: string; name: string }>(
    `SELECT c.relname AS child, con.conname AS name
       FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE con.contype = 'f' AND con.confrelid = to_regclass($1) AND con.conrelid <> con.confrelid
        AND con.conparentid = 0 AND n.nspname = $2`,
    [qualify(target), target.schema],
  );
  // IF EXISTS: a worker recreating the other table at the same time may have dropped it first.
  for (const { child, name } of rows) {
    await destination.query(
      `ALTER TABLE IF EXISTS ${qualify({ schema: target.schema, name: child })} DROP CONSTRAINT IF EXISTS ${quoteIdent(name)}`,
    );
  }
  try {
    await destination.query(dropTableSql(target));
  } catch (error) {
    // PostgreSQL's own hint suggests DROP ... CASCADE.
    if ((error as { code?: string }).code === "2BP01") {
      Object.assign(error as object, {
        hint: "Drop what depends on the table before a full refresh and recreate it after, or sync the table with strategy: delta (incremental), which never drops it.",
      });
    }
    throw error;
  }
}

/** Drop, create, load, index: the whole table in the destination's current transaction. */
export async function copyTableFull(context: TableContext, shape: TableShape): Promise<TableOutcome> {
  const { source, destination, onPhase } = context;
  onPhase("create");
  await destination.query(targetSearchPath(shape.target.schema));
  await dropTargetTable(destination, shape.target);
  const owned = tableSequences(shape).filter(
    ({ sequence }) =>
      !context.sharedSequences.has(sequence.oid) &&
      !shape.columns.some((c) => c.identitySequence === sequence),
  );
  for (const { sequence } of owned)
    await destination.query(createSequenceSql(shape.target.schema, sequence, true));
  await destination.query(createTableSql(shape));
  for (const { sequence, column } of owned) {
    await destination.query(
      `ALTER SEQUENCE ${qualify({ schema: shape.target.schema, name: sequence.name })} OWNED BY ${qualify(shape.target)}.${quoteIdent(column)}`,
    );
  }
  for (const statement of createPartitionsSql(shape.target, shape.table.partitions))
    await destination.query(statement);

  onPhase("copy");
  const copyFormat = copyFormatOf(shape);
  const copied = await streamCopy(source, destination, {
    selectSql: sourceSelectSql(shape),
    targetSql: targetCopySql(shape),
    format: copyFormat,
    // COPY FREEZE needs a table created in this transaction and refuses partitioned tables.
    freeze: !shape.table.partitioned,
    onProgress: context.onProgress,
  });

  onPhase("index");
  for (const statement of postLoadSql(shape)) await destination.query(statement);
  onPhase("sequences");
  await advanceSequences(destination, shape, false);
  // No sync state is recorded: right after a full copy the target equals the source, and a state saying so proves
  // nothing the next delta's own comparison of the two does not (it would cost a scan of the new table).
  return {
    rowsCopied: copied.rows,
    bytesCopied: copied.bytes,
    sourceRows: copied.rows,
    targetRowsBefore: 0,
    targetRowsAfter: copied.rows,
    path: "full",
    copyFormat,
  };
}

async function advanceSequences(
  destination: pg.Client,
  shape: TableShape,
  keepAhead: boolean,
): Promise<void> {
  for (const { sequence, column } of tableSequences(shape)) {
    await destination.query(
      setSequenceSql(shape.target.schema, sequence, { table: shape.target, name: column }, keepAhead),
    );
  }
}

/** The highest key (as the text of each column) of the rows `fromWhere` selects, or null when there are none. */
async function topKey(client: pg.Client, fromWhere: string, keys: KeyColumns): Promise<string[] | null> {
  const top = await client.query<Record<string, string>>(
    `SELECT ${keyTextColumnsSql(keys)} ${fromWhere} ORDER BY ${keyOrderSql(keys, "DESC")} LIMIT 1`,
  );
  const row = top.rows[0];
  return row ? keys.map((_, i) => row[`k${i}`] ?? "") : null;
}

async function targetFingerprint(
  destination: pg.Client,
  target: TableRef,
  keys: KeyColumns,
): Promise<{ watermark: string[] | null; print: Fingerprint }> {
  const watermark = await topKey(destination, `FROM ${qualify(target)}`, keys);
  const print = await fingerprint(destination, `FROM ${qualify(target)}`, keys);
  return { watermark, print };
}

async function fingerprint(client: pg.Client, fromWhere: string, keys: KeyColumns): Promise<Fingerprint> {
  const { rows } = await client.query<{ count: string; sum: string }>(
    `SELECT count(*)::text AS count, coalesce(sum(${keyHashSql(keys)}), 0)::text AS sum ${fromWhere}`,
  );
  return { count: rows[0]?.count ?? "0", sum: rows[0]?.sum ?? "0" };
}

const samePrint = (a: Fingerprint, b: Fingerprint) => a.count === b.count && a.sum === b.sum;

/** Fingerprints are sums, so the fingerprint of a union of disjoint key sets is the sum of theirs. */
const addPrints = (a: Fingerprint, b: Fingerprint): Fingerprint => ({
  count: (BigInt(a.count) + BigInt(b.count)).toString(),
  sum: (BigInt(a.sum) + BigInt(b.sum)).toString(),
});

/** How a delta finds its new rows, decided from what both sides hold now. */
export type DeltaDecision =
  | { path: "full"; targetRowsBefore: 0 }
  | {
      path: "watermark";
      targetRowsBefore: number;
      above: string;
      sourceRowsBelow: number;
      watermark: string[];
      sourceBelow: Fingerprint;
      targetBefore: Fingerprint;
    }
  | { path: "anti-join"; targetRowsBefore: number; targetBefore: Fingerprint };

/**
 * With W the target's highest key: if the source keys ≤ W are provably all present in the target (same count
 * and hash sum as the target's, or unchanged since the recorded sync state while the target is unchanged too),
 * only keys > W can be new — the fast path. Otherwise every key must be compared on the servers.
 */
export async function decideDelta(
  source: pg.Client,
  destination: pg.Client,
  shape: TableShape,
  existing: TargetTable,
  keys: KeyColumns,
): Promise<DeltaDecision> {
  const watermarkRow = await topKey(destination, `FROM ${qualify(shape.target)}`, keys);
  if (!watermarkRow) return { path: "full", targetRowsBefore: 0 };
  const watermark = keyLiteralSql(keys, watermarkRow);
  // Two scans on two servers: run them at the same time.
  const [targetPrint, sourceBelow] = await Promise.all([
    fingerprint(destination, `FROM ${qualify(shape.target)}`, keys),
    fingerprint(source, `${sourceFrom(shape)} WHERE ${keyTupleSql(keys)} <= ${watermark}`, keys),
  ]);
  const before = { watermark: watermarkRow, print: targetPrint };
  const targetRowsBefore = Number(targetPrint.count);
  const state = existing.syncState;
  const stateProves =
    state !== null &&
    state.watermark.length === keys.length &&
    state.watermark.every((value, i) => value === before.watermark?.[i]) &&
    samePrint(state.target, before.print) &&
    samePrint(state.source, sourceBelow);
  if (samePrint(sourceBelow, before.print) || stateProves) {
    return {
      path: "watermark",
      targetRowsBefore,
      above: `${keyTupleSql(keys)} > ${watermark}`,
      sourceRowsBelow: Number(sourceBelow.count),
      watermark: before.watermark,
      sourceBelow,
      targetBefore: before.print,
    };
  }
  return { path: "anti-join", targetRowsBefore, targetBefore: before.print };
}

function sourceFrom(shape: TableShape): string {
  return `FROM ${shape.table.partitioned ? "" : "ONLY "}${qualify(shape.table.ref)}`;
}

/**
 * Copies the source rows whose key is not in the target, by the path `decideDelta` proves safe. The anti-join
 * streams the source keys into a temporary table on the destination and compares them there; only the missing
 * rows travel. No key list is ever held in Node.
 */
export async function syncTableDelta(
  context: TableContext,
  shape: TableShape,
  existing: TargetTable,
  keys: KeyColumns,
): Promise<TableOutcome> {
  const { source, destination, onPhase } = context;
  onPhase("prepare");
  await destination.query(targetSearchPath(shape.target.schema));
  // Keeps other writers out until commit, so the proof below still holds when the rows land.
  await destination.query(`LOCK TABLE ${qualify(shape.target)} IN SHARE ROW EXCLUSIVE MODE`);
  const decision = await decideDelta(source, destination, shape, existing, keys);
  const copyFormat = copyFormatOf(shape);
  const copyOptions = {
    targetSql: targetCopySql(shape),
    format: copyFormat,
    freeze: false,
    onProgress: context.onProgress,
  };

  let copied: CopyProgress;
  let sourceRows: number;
  let sourceTotal: Fingerprint | undefined;
  let copiedKeys: Fingerprint | undefined;
  onPhase("copy");
  if (decision.path === "full") {
    copied = await streamCopy(source, destination, { ...copyOptions, selectSql: sourceSelectSql(shape) });
    sourceRows = copied.rows;
  } else if (decision.path === "watermark") {
    copied = await streamCopy(source, destination, {
      ...copyOptions,
      selectSql: sourceSelectSql(shape, decision.above),
    });
    sourceRows = decision.sourceRowsBelow + copied.rows;
  } else {
    const candidates = await loadCandidateKeys(source, destination, shape, keys);
    ({ copied, copiedKeys } = await copyMissingRows(context, shape, keys, candidates.narrowing, copyOptions));
    sourceTotal = candidates.sourceTotal;
    sourceRows = Number(sourceTotal.count);
  }

  onPhase("sequences");
  await advanceSequences(destination, shape, true);
  const state = await syncStateAfter(context, shape, keys, decision, copied.rows, {
    sourceTotal,
    copiedKeys,
  });
  if (state) await destination.query(syncStateCommentSql(shape.target, state));
  return {
    rowsCopied: copied.rows,
    bytesCopied: copied.bytes,
    sourceRows,
    targetRowsBefore: decision.targetRowsBefore,
    targetRowsAfter: decision.targetRowsBefore + copied.rows,
    path: decision.path,
    copyFormat,
  };
}

/**
 * The sync state to record after a delta, computed from what the run already knows wherever it can: on the
 * watermark path the copied rows are exactly the source rows above the old watermark, so both fingerprints grow by
 * theirs (one index range scan of the new rows); after an anti-join every source key is in the target, so the
 * source's fingerprint is that of all its keys, known from the buckets, and the target's grew by the keys it
 * copied. `null` when nothing changed: the recorded state still holds.
 */
async function syncStateAfter(
  context: TableContext,
  shape: TableShape,
  keys: KeyColumns,
  decision: DeltaDecision,
  rowsCopied: number,
  known: { sourceTotal: Fingerprint | undefined; copiedKeys: Fingerprint | undefined },
): Promise<SyncState | null> {
  const { source, destination } = context;
  if (decision.path === "watermark") {
    if (rowsCopied === 0) return null;
    const where = `${sourceFrom(shape)} WHERE ${decision.above}`;
    const added = await fingerprint(source, where, keys);
    const top = Number(added.count) === rowsCopied ? await topKey(source, where, keys) : null;
    if (top) {
      return {
        watermark: top,
        source: addPrints(decision.sourceBelow, added),
        target: addPrints(decision.targetBefore, added),
      };
    }
  }
  const { sourceTotal, copiedKeys } = known;
  if (decision.path === "anti-join" && sourceTotal && copiedKeys && Number(copiedKeys.count) === rowsCopied) {
    const watermark = await topKey(destination, `FROM ${qualify(shape.target)}`, keys);
    if (watermark)
      return { watermark, source: sourceTotal, target: addPrints(decision.targetBefore, copiedKeys) };
  }
  const after = await targetFingerprint(destination, shape.target, keys);
  if (!after.watermark) return null;
  const sourcePrint =
    sourceTotal !== undefined
      ? sourceTotal
      : decision.path === "full"
        ? after.print
        : await fingerprint(
            source,
            `${sourceFrom(shape)} WHERE ${keyTupleSql(keys)} <= ${keyLiteralSql(keys, after.watermark)}`,
            keys,
          );
  return { watermark: after.watermark, source: sourcePrint, target: after.print };
}

/** Counts the rows a delta would copy, without writing anything that outlives the caller's transaction. */
export async function countNewRows(
  source: pg.Client,
  destination: pg.Client,
  shape: TableShape,
  existing: TargetTable,
  keys: KeyColumns,
): Promise<{ decision: DeltaDecision; newRows: number }> {
  const decision = await decideDelta(source, destination, shape, existing, keys);
  if (decision.path !== "anti-join") {
    const where = decision.path === "watermark" ? ` WHERE ${decision.above}` : "";
    const { rows } = await source.query<{ n: string }>(`SELECT count(*) AS n ${sourceFrom(shape)}${where}`);
    return { decision, newRows: Number(rows[0]?.n ?? 0) };
  }
  const { narrowing } = await loadCandidateKeys(source, destination, shape, keys);
  const { rows } = await destination.query<{ n: string }>(
    `SELECT count(*) AS n ${missingKeysSql(shape, keys, narrowing)}`,
  );
  return { decision, newRows: Number(rows[0]?.n ?? 0) };
}

const KEY_TABLE = "pg_temp._pgferry_source_keys";

/**
 * Fills the key table with the source keys that may be missing from the target (those of the buckets whose
 * fingerprints differ); returns how they were narrowed and the fingerprint of all the source's keys.
 */
async function loadCandidateKeys(
  source: pg.Client,
  destination: pg.Client,
  shape: TableShape,
  keys: KeyColumns,
): Promise<{ narrowing: KeyFilter | null; sourceTotal: Fingerprint }> {
  const narrowing = await narrowByBuckets(
    { client: source, from: sourceFrom(shape), relation: qualify(shape.table.ref), frozenByLoad: false },
    {
      client: destination,
      from: `FROM ${qualify(shape.target)}`,
      relation: qualify(shape.target),
      frozenByLoad: true,
    },
    keys,
  );
  await loadSourceKeys(source, destination, shape, keys, narrowing.sourceCandidatesSql);
  return { narrowing: narrowing.filter, sourceTotal: narrowing.sourceTotal };
}

async function loadSourceKeys(
  source: pg.Client,
  destination: pg.Client,
  shape: TableShape,
  keys: KeyColumns,
  candidatesSql: (columns: string) => string,
): Promise<void> {
  const keyList = keys.map((key) => quoteIdent(key.name)).join(", ");
  await destination.query(
    `CREATE TEMP TABLE _pgferry_source_keys ON COMMIT DROP AS SELECT ${keyList} FROM ${qualify(shape.target)} WITH NO DATA`,
  );
  const byName = new Map(shape.table.columns.map((column) => [column.name, column]));
  await streamCopy(source, destination, {
    selectSql: candidatesSql(keyList),
    targetSql: `COPY ${KEY_TABLE} (${keyList})`,
    format: keys.every((key) => byName.get(key.name)?.binarySafe) ? "binary" : "text",
    freeze: false,
  });
  await destination.query(`ANALYZE ${KEY_TABLE}`);
}

/**
 * The candidate keys the target lacks. A target key can only match a candidate if it lies in the same bucket, so
 * the target side is narrowed by the same filter: the anti-join then hashes that share of the target, not all of it.
 */
function missingKeysSql(shape: TableShape, keys: KeyColumns, narrowing: KeyFilter | null): string {
  const matches = keys.map((key) => `t.${quoteIdent(key.name)} = s.${quoteIdent(key.name)}`);
  if (narrowing) matches.push(narrowing("t"));
  return `FROM ${KEY_TABLE} s WHERE NOT EXISTS (SELECT 1 FROM ${qualify(shape.target)} t WHERE ${matches.join(" AND ")})`;
}

const MISSING_KEY_BATCH = 5000;

async function copyMissingRows(
  context: TableContext,
  shape: TableShape,
  keys: KeyColumns,
  narrowing: KeyFilter | null,
  copyOptions: {
    targetSql: string;
    format: CopyFormat;
    freeze: boolean;
    onProgress: (p: CopyProgress) => void;
  },
): Promise<{ copied: CopyProgress; copiedKeys: Fingerprint }> {
  const { source, destination } = context;
  // A cursor is planned for its first 10% of rows by default, which favours a nested loop of index probes over
  // the hash anti-join; every row will be fetched.
  await destination.query("SET LOCAL cursor_tuple_fraction = 1");
  await destination.query(
    `DECLARE _pgferry_missing NO SCROLL CURSOR FOR
       SELECT ${keyTextColumnsSql(keys, "s")}, ${keyHashSql(keys, "s")} AS h ${missingKeysSql(shape, keys, narrowing)}`,
  );
  const total: CopyProgress = { rows: 0, bytes: 0 };
  // The fingerprint of the keys copied, so that the target's new fingerprint needs no second scan.
  let keyCount = 0;
  let keySum = 0n;
  for (;;) {
    const batch = await destination.query<Record<string, string>>(
      `FETCH ${MISSING_KEY_BATCH} FROM _pgferry_missing`,
    );
    if (batch.rows.length === 0) break;
    keyCount += batch.rows.length;
    for (const row of batch.rows) keySum += BigInt(row.h ?? 0);
    const inList = keyInListSql(
      keys,
      batch.rows.map((row) => keys.map((_, i) => row[`k${i}`] ?? "")),
    );
    const part = await streamCopy(source, destination, {
      ...copyOptions,
      selectSql: sourceSelectSql(shape, inList),
      onProgress: (p) => copyOptions.onProgress({ rows: total.rows + p.rows, bytes: total.bytes + p.bytes }),
    });
    total.rows += part.rows;
    total.bytes += part.bytes;
  }
  await destination.query("CLOSE _pgferry_missing");
  return { copied: total, copiedKeys: { count: String(keyCount), sum: keySum.toString() } };
}
