import type pg from "pg";
import { addForeignKeySql, createSequenceSql, createTypeSql, targetSearchPath } from "./ddl.js";
import { quoteIdent, quoteLiteral, qualify } from "./ident.js";
import type { SequenceDef, SourceCatalog, UserTypeDef } from "./model.js";
import type { PlannedTable } from "./selection.js";

/**
 * Sequences that cannot belong to one table's transaction: used by several tables, or owned by none (or by a
 * column of another table). They are created up front, once.
 */
export function sharedSequencesOf(catalog: SourceCatalog): SequenceDef[] {
  const users = new Map<number, Set<string>>();
  for (const table of catalog.tables) {
    for (const column of table.columns) {
      if (column.defaultSequence) {
        const set = users.get(column.defaultSequence.oid) ?? new Set<string>();
        set.add(table.ref.name);
        users.set(column.defaultSequence.oid, set);
      }
    }
  }
  return catalog.sequences.filter((sequence) => {
    const tables = users.get(sequence.oid);
    if (!tables) return false;
    return tables.size > 1 || !sequence.ownedBy || !tables.has(sequence.ownedBy.table);
  });
}

/** Schema, user types and shared sequences, in one transaction before any table is touched. */
export async function prepareTargetSchema(
  client: pg.Client,
  targetSchema: string,
  types: readonly UserTypeDef[],
  sharedSequences: readonly SequenceDef[],
): Promise<void> {
  await client.query("BEGIN");
  try {
    // CREATE SCHEMA checks CREATE on the database even with IF NOT EXISTS and the schema there: a user who owns
    // the target schema must not need that privilege.
    const schema = await client.query("SELECT 1 FROM pg_namespace WHERE nspname = $1", [targetSchema]);
    if (schema.rowCount === 0) await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(targetSchema)}`);
    await client.query(targetSearchPath(targetSchema));
    const existing = await client.query<{ name: string; labels: string[] }>(
      `SELECT t.typname AS name,
              ARRAY(SELECT e.enumlabel::text FROM pg_enum e WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder) AS labels
         FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = $1`,
      [targetSchema],
    );
    const existingTypes = new Map(existing.rows.map((row) => [row.name, row.labels]));
    for (const type of types) {
      const labels = existingTypes.get(type.name);
      if (labels === undefined) {
        await client.query(createTypeSql(targetSchema, type));
      } else if (type.kind === "enum") {
        // New source labels are appended; PostgreSQL cannot remove enum labels, so old ones stay.
        for (const label of type.labels.filter((l) => !labels.includes(l))) {
          await client.query(
            `ALTER TYPE ${qualify({ schema: targetSchema, name: type.name })} ADD VALUE IF NOT EXISTS ${quoteLiteral(label)}`,
          );
        }
      }
    }
    for (const sequence of sharedSequences)
      await client.query(createSequenceSql(targetSchema, sequence, true));
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  }
}

export interface ForeignKeyOutcome {
  created: string[];
  skipped: string[];
}

/**
 * Foreign keys among tables present in the target are (re)created after all loads, each in its own transaction,
 * so one that does not hold (for instance its parent table failed to copy) does not undo anything else.
 */
export async function restoreForeignKeys(
  client: pg.Client,
  targetSchema: string,
  catalog: SourceCatalog,
  planned: readonly PlannedTable[],
): Promise<ForeignKeyOutcome> {
  const present = await client.query<{ table: string; columns: string[]; constraints: string[] }>(
    `SELECT c.relname AS table,
            ARRAY(SELECT attname::text FROM pg_attribute WHERE attrelid = c.oid AND attnum > 0 AND NOT attisdropped) AS columns,
            ARRAY(SELECT conname::text FROM pg_constraint WHERE conrelid = c.oid) AS constraints
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND NOT c.relispartition`,
    [targetSchema],
  );
  const targetTables = new Map(present.rows.map((row) => [row.table, row]));
  const touched = new Set(planned.map((p) => p.shape.table.ref.name));
  const outcome: ForeignKeyOutcome = { created: [], skipped: [] };
  for (const table of catalog.tables) {
    const child = targetTables.get(table.ref.name);
    if (!child) continue;
    for (const foreignKey of table.foreignKeys) {
      if (foreignKey.referencedTable === null || child.constraints.includes(foreignKey.name)) continue;
      const parent = targetTables.get(foreignKey.referencedTable);
      // Only keys that involve a table this run touched; others were left as they were on purpose.
      if (!touched.has(table.ref.name) && !touched.has(foreignKey.referencedTable)) continue;
      const label = `${foreignKey.name} (${table.ref.name} → ${foreignKey.referencedTable})`;
      if (!parent || !foreignKey.columns.every((column) => child.columns.includes(column))) {
        outcome.skipped.push(`${label}: a table or column it needs is not in the target`);
        continue;
      }
      try {
        await client.query("BEGIN");
        await client.query(targetSearchPath(targetSchema));
        await client.query(addForeignKeySql({ schema: targetSchema, name: table.ref.name }, foreignKey));
        await client.query("COMMIT");
        outcome.created.push(label);
      } catch (error) {
        await client.query("ROLLBACK").catch(() => undefined);
        outcome.skipped.push(`${label}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }
  return outcome;
}
