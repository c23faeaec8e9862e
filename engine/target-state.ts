import type pg from "pg";
import { quoteLiteral, qualify, type TableRef } from "./ident.js";

/** What already exists in the target schema, read with the target's search_path so types print comparably. */
export interface TargetTable {
  readonly name: string;
  readonly columns: readonly { name: string; type: string }[];
  readonly primaryKey: readonly string[];
  readonly syncState: SyncState | null;
}

/**
 * Recorded after every sync in the target table's comment: the highest key copied and fingerprints (count and
 * hash sum of keys ≤ watermark) of both sides. An unchanged source fingerprint below the watermark on the next
 * run proves only keys above it can be new, even when source rows were deleted (DESIGN.md §4).
 */
export interface SyncState {
  readonly watermark: readonly string[];
  readonly source: Fingerprint;
  readonly target: Fingerprint;
}

export interface Fingerprint {
  readonly count: string;
  readonly sum: string;
}

const STATE_PREFIX = "pgferry sync state (do not edit): ";

export function parseSyncState(comment: string | null): SyncState | null {
  if (!comment?.startsWith(STATE_PREFIX)) return null;
  try {
    const state = JSON.parse(comment.slice(STATE_PREFIX.length)) as SyncState;
    return Array.isArray(state.watermark) && state.source && state.target ? state : null;
  } catch {
    return null;
  }
}

export function syncStateCommentSql(table: TableRef, state: SyncState): string {
  return `COMMENT ON TABLE ${qualify(table)} IS ${quoteLiteral(STATE_PREFIX + JSON.stringify(state))}`;
}

/** Run it with the target's search_path set (`targetSearchPath`), so types print as the source's do. */
export async function readTargetTables(
  client: pg.Client,
  targetSchema: string,
): Promise<Map<string, TargetTable>> {
  const { rows } = await client.query<{
    name: string;
    column_names: string[];
    column_types: string[];
    primary_key: string[];
    comment: string | null;
  }>(
    `SELECT c.relname AS name,
            ARRAY(SELECT a.attname::text FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum) AS column_names,
            ARRAY(SELECT format_type(a.atttypid, a.atttypmod) FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum) AS column_types,
            ARRAY(SELECT a.attname::text FROM pg_constraint con, unnest(con.conkey) WITH ORDINALITY k(attnum, ord)
                    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
                   WHERE con.conrelid = c.oid AND con.contype = 'p' ORDER BY k.ord) AS primary_key,
            obj_description(c.oid, 'pg_class') AS comment
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND NOT c.relispartition`,
    [targetSchema],
  );
  return new Map(
    rows.map((row) => [
      row.name,
      {
        name: row.name,
        columns: row.column_names.map((name, i) => ({ name, type: row.column_types[i] ?? "" })),
        primaryKey: row.primary_key,
        syncState: parseSyncState(row.comment),
      },
    ]),
  );
}

/** Differences between the columns the source would give and those the target table has, in words. */
export function describeDrift(
  expected: readonly { name: string; type: string }[],
  actual: readonly { name: string; type: string }[],
): string[] {
  const differences: string[] = [];
  const actualByName = new Map(actual.map((column) => [column.name, column]));
  const expectedNames = new Set(expected.map((column) => column.name));
  for (const column of expected) {
    const existing = actualByName.get(column.name);
    if (!existing) differences.push(`column "${column.name}" (${column.type}) was added in the source`);
    else if (existing.type !== column.type) {
      differences.push(
        `column "${column.name}" is ${column.type} in the source but ${existing.type} in the target`,
      );
    }
  }
  for (const column of actual) {
    if (!expectedNames.has(column.name))
      differences.push(`column "${column.name}" is not in the source any more`);
  }
  if (differences.length === 0) {
    const order = (list: readonly { name: string }[]) => list.map((column) => column.name).join(",");
    if (order(expected) !== order(actual)) differences.push("the columns are in a different order");
  }
  return differences;
}
