/**
 * The bench data, generated on the source server with `INSERT … SELECT generate_series` (no rows travel through
 * Node). Values are deterministic functions of the row number, so every run copies the same bytes.
 *   orders  2M rows × scale: bigint key, int, numeric(12,2), text of 100 chars, timestamptz, jsonb, bool, uuid
 *   events  5M rows × scale: bigint key, int, timestamptz
 *   tokens  2M rows × scale: uuid key (for the incremental case with keys that do not ascend)
 */
import type pg from "pg";

export interface DatasetSize {
  orders: number;
  events: number;
  tokens: number;
  /** Rows added to the source for the incremental cases. */
  newRows: number;
}

export function datasetSize(scale: number): DatasetSize {
  return {
    orders: Math.round(2_000_000 * scale),
    events: Math.round(5_000_000 * scale),
    tokens: Math.round(2_000_000 * scale),
    newRows: Math.max(100, Math.round(10_000 * scale)),
  };
}

export type BenchTable = "orders" | "events" | "tokens";

const COLUMNS: Record<BenchTable, string> = {
  orders: `id bigserial NOT NULL,
    customer_id integer NOT NULL,
    amount numeric(12,2) NOT NULL,
    note text NOT NULL,
    created_at timestamptz NOT NULL,
    attributes jsonb NOT NULL,
    paid boolean NOT NULL,
    reference uuid NOT NULL`,
  events: `id bigint NOT NULL,
    user_id integer NOT NULL,
    created_at timestamptz NOT NULL`,
  tokens: `id uuid NOT NULL,
    account_id integer NOT NULL,
    issued_at timestamptz NOT NULL,
    scope text NOT NULL`,
};

const SECONDARY_INDEX: Record<BenchTable, string> = {
  orders: "CREATE INDEX orders_customer_id_idx ON orders (customer_id)",
  events: "CREATE INDEX events_created_at_idx ON events (created_at)",
  tokens: "CREATE INDEX tokens_account_id_idx ON tokens (account_id)",
};

/** The table with its primary key (what the psql pipe loads into), in the current search_path. */
export function createTableSql(table: BenchTable): string {
  return `CREATE TABLE ${table} (${COLUMNS[table]}, PRIMARY KEY (id))`;
}

/** Row `g` of each table, as the select list of `FROM generate_series(…) g`. */
const ROW: Record<BenchTable, (id: string) => string> = {
  orders: (id) => `${id}, (g * 7919) % 100000, ((g * 104729) % 10000000) / 100.0,
      md5(g::text) || md5((g + 1)::text) || left(md5((g + 2)::text), 36),
      timestamptz '2020-01-01 00:00:00+00' + g * interval '13 seconds' + (g % 997) * interval '1 microsecond',
      jsonb_build_object('channel', (ARRAY['web', 'app', 'phone', 'store'])[1 + g % 4], 'items', 1 + g % 9),
      g % 3 <> 0, md5('reference-' || g)::uuid`,
  events: (id) => `${id}, (g * 31) % 50000,
      timestamptz '2021-01-01 00:00:00+00' + g * interval '1 second' + ((g * 7) % 3600) * interval '1 second'`,
  tokens: (id) => `${id}, g % 100000, timestamptz '2022-01-01 00:00:00+00' + g * interval '1 minute',
      (ARRAY['read', 'write', 'admin'])[1 + g % 3]`,
};

const KEY_OF_ROW: Record<BenchTable, string> = {
  orders: "g",
  events: "g",
  tokens: "md5('token-' || g)::uuid",
};

/** Keys of the rows the incremental cases add: ascending for orders, scattered for tokens. */
const NEW_KEY_OF_ROW: Partial<Record<BenchTable, string>> = {
  orders: "g",
  tokens: "md5('new-token-' || g)::uuid",
};

async function generateTable(client: pg.Client, table: BenchTable, rows: number): Promise<void> {
  // Load first, then build the key and index: several times faster than inserting into an indexed table.
  await client.query(`DROP TABLE IF EXISTS ${table}`);
  await client.query(`CREATE TABLE ${table} (${COLUMNS[table]})`);
  await client.query(
    `INSERT INTO ${table} SELECT ${ROW[table](KEY_OF_ROW[table])} FROM generate_series(1, $1::bigint) g`,
    [rows],
  );
  await client.query(`ALTER TABLE ${table} ADD PRIMARY KEY (id)`);
  await client.query(SECONDARY_INDEX[table]);
  if (table === "orders") await client.query("SELECT setval('orders_id_seq', $1::bigint)", [rows]);
  // Sets hint bits and the visibility map now, so no contender pays for them on its first read.
  await client.query(`VACUUM (FREEZE, ANALYZE) ${table}`);
}

/** Generates the three tables, two at a time (one session each). */
export async function generateDataset(connect: () => Promise<pg.Client>, size: DatasetSize): Promise<void> {
  const jobs: [BenchTable, number][] = [
    ["events", size.events],
    ["orders", size.orders],
    ["tokens", size.tokens],
  ];
  const worker = async () => {
    const client = await connect();
    try {
      for (let job = jobs.shift(); job; job = jobs.shift()) await generateTable(client, job[0], job[1]);
    } finally {
      await client.end();
    }
  };
  await Promise.all([worker(), worker()]);
}

/** Adds `size.newRows` rows to a source table (keys above every existing key for orders, scattered for tokens). */
export async function addNewRows(
  client: pg.Client,
  table: "orders" | "tokens",
  size: DatasetSize,
): Promise<void> {
  const base = table === "orders" ? size.orders : 0;
  await client.query(
    `INSERT INTO ${table} SELECT ${ROW[table](NEW_KEY_OF_ROW[table] ?? "g")}
       FROM generate_series($1::bigint + 1, $1::bigint + $2::bigint) g`,
    [base, size.newRows],
  );
  if (table === "orders")
    await client.query("SELECT setval('orders_id_seq', $1::bigint)", [base + size.newRows]);
  await client.query(`VACUUM (FREEZE, ANALYZE) ${table}`);
}

/** Deletes the rows `addNewRows` added from a copy of the table in `schema` (the target of a delta). */
export async function removeNewRows(
  client: pg.Client,
  schema: string,
  table: "orders" | "tokens",
  size: DatasetSize,
): Promise<void> {
  const where =
    table === "orders"
      ? `id > ${size.orders}`
      : `id IN (SELECT md5('new-token-' || g)::uuid FROM generate_series(1, ${size.newRows}) g)`;
  const { rowCount } = await client.query(`DELETE FROM "${schema}".${table} WHERE ${where}`);
  if (rowCount !== size.newRows) throw new Error(`reset of ${schema}.${table} removed ${rowCount} rows`);
  await client.query(`VACUUM (ANALYZE) "${schema}".${table}`);
}

export async function tableBytes(
  client: pg.Client,
  table: BenchTable,
): Promise<{ heap: number; total: number }> {
  const { rows } = await client.query<{ heap: string; total: string }>(
    "SELECT pg_table_size($1::regclass) AS heap, pg_total_relation_size($1::regclass) AS total",
    [table],
  );
  return { heap: Number(rows[0]?.heap ?? 0), total: Number(rows[0]?.total ?? 0) };
}
