import { withClient } from "./connection.js";
import { qualify, quoteIdent } from "./ident.js";
import { assertSafeTargetSchema } from "./selection.js";
import { acquireTargetLock, releaseTargetLock } from "./sessions.js";
import type { MigrationSpec } from "./spec.js";

export interface TargetInventory {
  readonly exists: boolean;
  /** Tables really present in the target schema, with exact row counts, sorted by name. */
  readonly tables: readonly { name: string; rows: number }[];
}

/** What the target schema holds now (for drift detection: Pulumi `refresh`, verification after a run). */
export async function inspectTarget(
  spec: Pick<MigrationSpec, "destination" | "targetSchema">,
): Promise<TargetInventory> {
  return withClient(spec.destination, "destination", async (client) => {
    const { rows } = await client.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY c.relname COLLATE "C"`,
      [spec.targetSchema],
    );
    const exists = await client.query("SELECT 1 FROM pg_namespace WHERE nspname = $1", [spec.targetSchema]);
    const tables: { name: string; rows: number }[] = [];
    for (const { name } of rows) {
      const count = await client.query<{ n: string }>(
        `SELECT count(*) AS n FROM ${qualify({ schema: spec.targetSchema, name })}`,
      );
      tables.push({ name, rows: Number(count.rows[0]?.n ?? 0) });
    }
    return { exists: (exists.rowCount ?? 0) > 0, tables };
  });
}

/** `DROP SCHEMA … CASCADE` of the target schema (never public or a system schema), under the run lock. */
export async function dropTargetSchema(
  spec: Pick<
    MigrationSpec,
    "source" | "destination" | "sourceSchema" | "targetSchema" | "onLocked" | "waitTimeoutSeconds"
  >,
): Promise<void> {
  assertSafeTargetSchema(spec as MigrationSpec);
  await withClient(spec.destination, "destination", async (client) => {
    await acquireTargetLock(
      client,
      spec.targetSchema,
      spec.onLocked,
      spec.waitTimeoutSeconds,
      () => undefined,
    );
    try {
      await client.query(`DROP SCHEMA IF EXISTS ${quoteIdent(spec.targetSchema)} CASCADE`);
    } finally {
      await releaseTargetLock(client, spec.targetSchema).catch(() => undefined);
    }
  });
}
