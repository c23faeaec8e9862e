import { withClient } from "./connection.js";
import type { ConnectionConfig } from "./spec.js";

export interface SourceTableInfo {
  readonly name: string;
  /** Planner estimate (`reltuples`, summed over partitions); exact counts would cost a scan per table. */
  readonly estimatedRows: number;
  readonly hasPrimaryKey: boolean;
  readonly partitioned: boolean;
}

/** The tables a spec could select in one source schema, for pickers such as `pgferry init`. */
export async function listSourceTables(
  source: ConnectionConfig,
  schema = "public",
): Promise<SourceTableInfo[]> {
  return withClient(source, "source", async (client) => {
    const { rows } = await client.query<{ name: string; rows: number; pk: boolean; partitioned: boolean }>(
      `SELECT c.relname AS name,
              CASE WHEN c.relkind = 'p'
                   THEN (SELECT coalesce(sum(greatest(l.reltuples, 0)), 0) FROM pg_partition_tree(c.oid) t
                           JOIN pg_class l ON l.oid = t.relid WHERE t.isleaf)
                   ELSE greatest(c.reltuples, 0) END::float8 AS rows,
              EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conrelid = c.oid AND k.contype = 'p') AS pk,
              c.relkind = 'p' AS partitioned
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND NOT c.relispartition
        ORDER BY c.relname`,
      [schema],
    );
    return rows.map((row) => ({
      name: row.name,
      estimatedRows: Math.round(row.rows),
      hasPrimaryKey: row.pk,
      partitioned: row.partitioned,
    }));
  });
}
