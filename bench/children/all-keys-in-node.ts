/**
 * The original tool's incremental sync of one table: every source key and every target key into Node Sets, the
 * difference computed in Node, the missing rows fetched by key in batches and inserted in batches of 100.
 */
import { connect, ident, insertInBatches, printResult, readInput } from "./batch-insert.js";

const FETCH_KEYS = 1000;

const input = readInput();
const source = await connect(input.source);
const destination = await connect(input.destination);
try {
  const table = ident(input.table);
  const target = `${ident(input.targetSchema)}.${table}`;
  const sourceKeys = (await source.query<{ id: string }>(`SELECT id FROM ${table}`)).rows.map((r) => r.id);
  const targetKeys = new Set(
    (await destination.query<{ id: string }>(`SELECT id FROM ${target}`)).rows.map((r) => r.id),
  );
  const missing = sourceKeys.filter((key) => !targetKeys.has(key));
  const { rows: typeRows } = await source.query<{ type: string }>(
    "SELECT format_type(atttypid, atttypmod) AS type FROM pg_attribute WHERE attrelid = $1::regclass AND attname = 'id'",
    [input.table],
  );
  const keyType = typeRows[0]?.type ?? "text";
  let written = 0;
  for (let start = 0; start < missing.length; start += FETCH_KEYS) {
    const keys = missing.slice(start, start + FETCH_KEYS);
    const { rows, fields } = await source.query<Record<string, unknown>>(
      `SELECT * FROM ${table} WHERE id = ANY($1::${keyType}[])`,
      [keys],
    );
    written += await insertInBatches(
      destination,
      target,
      fields.map((f) => f.name),
      rows,
    );
  }
  printResult(written);
} finally {
  await Promise.all([source.end(), destination.end()]);
}
