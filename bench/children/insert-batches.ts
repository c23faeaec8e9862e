/**
 * The original tool's full copy of one table: SELECT every row into Node memory, then INSERT them in batches of
 * 100 with parameters. The target table exists already (with its primary key).
 */
import { connect, ident, insertInBatches, printResult, readInput } from "./batch-insert.js";

const input = readInput();
const source = await connect(input.source);
const destination = await connect(input.destination);
try {
  const { rows, fields } = await source.query<Record<string, unknown>>(`SELECT * FROM ${ident(input.table)}`);
  const target = `${ident(input.targetSchema)}.${ident(input.table)}`;
  printResult(
    await insertInBatches(
      destination,
      target,
      fields.map((f) => f.name),
      rows,
    ),
  );
} finally {
  await Promise.all([source.end(), destination.end()]);
}
