/**
 * The original tool's data path, kept minimal for comparison: rows as JavaScript objects, written with
 * parameterised multi-row INSERTs of 100 rows.
 */
import pg from "pg";
import type { ConnectionConfig } from "../../engine/spec.js";

export const BATCH_ROWS = 100;

export interface ChildInput {
  source: ConnectionConfig;
  destination: ConnectionConfig;
  /** Table name, the same in the source's `public` schema and in the target schema. */
  table: string;
  targetSchema: string;
}

export function readInput(): ChildInput {
  return JSON.parse(process.env.BENCH_CHILD ?? "{}") as ChildInput;
}

export async function connect(config: ConnectionConfig): Promise<pg.Client> {
  const client = new pg.Client({ ...config, ssl: false });
  await client.connect();
  return client;
}

export const ident = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** INSERT … VALUES ($1, $2, …), (…) in batches of BATCH_ROWS rows; resolves to the number of rows written. */
export async function insertInBatches(
  client: pg.Client,
  target: string,
  columns: readonly string[],
  rows: readonly Record<string, unknown>[],
): Promise<number> {
  const columnList = columns.map(ident).join(", ");
  let written = 0;
  for (let start = 0; start < rows.length; start += BATCH_ROWS) {
    const batch = rows.slice(start, start + BATCH_ROWS);
    const tuples = batch.map(
      (_, r) => `(${columns.map((_, c) => `$${r * columns.length + c + 1}`).join(", ")})`,
    );
    const values = batch.flatMap((row) => columns.map((column) => row[column]));
    const result = await client.query(
      `INSERT INTO ${target} (${columnList}) VALUES ${tuples.join(", ")}`,
      values,
    );
    written += result.rowCount ?? 0;
  }
  return written;
}

export function printResult(rows: number): void {
  console.log(JSON.stringify({ rowsCopied: rows, maxRssKiB: process.resourceUsage().maxRSS }));
}
