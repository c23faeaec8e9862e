/**
 * The sample database of `pgferry demo`: a small shop with the things that make copying interesting: serial keys,
 * jsonb, numeric money, timestamptz defaults, foreign keys, a view, and an audit table without a primary key.
 * This is demo data, written here because the demo needs a source database; pgferry's own work stays in the engine.
 */
import pg from "pg";

export const SHOP_TABLES = ["users", "products", "orders", "audit_log"] as const;

const SCHEMA_AND_DATA = `
CREATE TABLE users (
  id         serial PRIMARY KEY,
  email      text NOT NULL UNIQUE,
  name       text NOT NULL,
  prefs      jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE products (
  id    serial PRIMARY KEY,
  sku   text NOT NULL UNIQUE,
  title text NOT NULL,
  price numeric(10, 2) NOT NULL CHECK (price >= 0)
);
CREATE TABLE orders (
  id         serial PRIMARY KEY,
  user_id    integer NOT NULL REFERENCES users (id),
  product_id integer NOT NULL REFERENCES products (id),
  quantity   integer NOT NULL DEFAULT 1 CHECK (quantity > 0),
  amount     numeric(12, 2) NOT NULL,
  ordered_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_user_id_idx ON orders (user_id);
CREATE TABLE audit_log (
  at     timestamptz NOT NULL DEFAULT now(),
  actor  text,
  action text NOT NULL
);
CREATE VIEW revenue_by_user AS SELECT user_id, sum(amount) AS revenue FROM orders GROUP BY user_id;

INSERT INTO users (email, name, prefs, created_at)
SELECT 'user' || g || '@example.com', 'User ' || g,
       jsonb_build_object('newsletter', g % 3 = 0, 'theme', CASE WHEN g % 2 = 0 THEN 'dark' ELSE 'light' END),
       timestamptz '2024-01-01 00:00+00' + g * interval '7 hours'
  FROM generate_series(1, 500) g;
INSERT INTO products (sku, title, price)
SELECT 'SKU-' || lpad(g::text, 4, '0'), 'Product ' || g, (g * 37 % 200) + 0.99
  FROM generate_series(1, 100) g;
INSERT INTO orders (user_id, product_id, quantity, amount, ordered_at)
SELECT 1 + g * 37 % 500, p.id, 1 + g % 3, (1 + g % 3) * p.price,
       timestamptz '2024-03-01 00:00+00' + g * interval '17 minutes'
  FROM generate_series(1, 3000) g JOIN products p ON p.id = 1 + g * 11 % 100;
INSERT INTO audit_log (at, actor, action)
SELECT timestamptz '2024-03-01 00:00+00' + g * interval '5 minutes', 'user' || (1 + g % 500), 'login'
  FROM generate_series(1, 2000) g;
ANALYZE;
`;

/** What happens in the shop between the two syncs: a new customer and new orders. */
export const NEW_ORDERS = 150;
const NEW_ROWS = `
INSERT INTO users (email, name, prefs) VALUES ('new.customer@example.com', 'New Customer', '{"newsletter": true}');
INSERT INTO orders (user_id, product_id, quantity, amount)
SELECT CASE WHEN g % 5 = 0 THEN (SELECT max(id) FROM users) ELSE 1 + g % 500 END, p.id, 1, p.price
  FROM generate_series(1, ${NEW_ORDERS}) g JOIN products p ON p.id = 1 + g % 100;
INSERT INTO audit_log (actor, action) SELECT 'user' || g, 'checkout' FROM generate_series(1, 40) g;
`;

async function withDatabase<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, ssl: false });
  client.on("error", () => undefined);
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Creates `database` on the server of `adminUrl` (its `postgres` database). */
export async function createDatabase(adminUrl: string, database: string): Promise<void> {
  await withDatabase(adminUrl, (client) => client.query(`CREATE DATABASE ${database}`));
}

export async function createShop(url: string): Promise<void> {
  await withDatabase(url, (client) => client.query(SCHEMA_AND_DATA));
}

export async function addNewRows(url: string): Promise<void> {
  await withDatabase(url, (client) => client.query(NEW_ROWS));
}

/** Exact row counts of the shop's tables in `schema`. */
export async function countRows(url: string, schema: string): Promise<Map<string, number>> {
  return withDatabase(url, async (client) => {
    const counts = new Map<string, number>();
    for (const table of SHOP_TABLES) {
      const { rows } = await client.query<{ n: string }>(
        `SELECT count(*) AS n FROM ${client.escapeIdentifier(schema)}.${client.escapeIdentifier(table)}`,
      );
      counts.set(table, Number(rows[0]?.n ?? 0));
    }
    return counts;
  });
}

/** The newest users as psql would list them: column names and text values. */
export async function newestUsers(
  url: string,
  schema: string,
  limit: number,
): Promise<{ columns: string[]; rows: string[][] }> {
  return withDatabase(url, async (client) => {
    const result = await client.query<string[]>({
      text: `SELECT id::text, email, prefs::text FROM ${client.escapeIdentifier(schema)}.users ORDER BY users.id DESC LIMIT $1`,
      values: [limit],
      rowMode: "array",
    });
    return { columns: result.fields.map((field) => field.name), rows: result.rows };
  });
}
