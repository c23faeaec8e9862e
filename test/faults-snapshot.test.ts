/**
 * Issue 7, fault suite item 6: rows inserted, updated and deleted in the source while a run copies. Every table of
 * the target equals the source as of the run's snapshot (taken before the writes), across parallel workers, and
 * the foreign keys hold.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { after, before, describe, test } from "node:test";
import { run, type MigrationSpec, type ProgressEvent } from "../engine/index.js";
import type { ConnectionConfig } from "../engine/spec.js";
import { assertNoLeftovers, assertSameRows, rowsFingerprint } from "./support/faults.js";
import { createDatabase, type TestDatabase } from "./support/servers.js";
import { makeSpec } from "./support/spec.js";

const TABLES = ["big", "big2", "customers", "orders", "ledger"];

describe("faults: the source changes while a run copies", () => {
  let source: TestDatabase;
  let destination: TestDatabase;
  let round = 0;
  const spec = (overrides: Partial<MigrationSpec> = {}) =>
    makeSpec(source.config, destination.config, { jobs: 2, ...overrides });

  before(async () => {
    [source, destination] = await Promise.all([
      createDatabase(14, "snap_src"),
      createDatabase(17, "snap_dst"),
    ]);
    await source.client.query(`
      CREATE TABLE big (id bigint PRIMARY KEY, payload text);
      INSERT INTO big SELECT g, repeat(md5(g::text), 4) FROM generate_series(1, 150000) g;
      CREATE TABLE big2 (id bigint PRIMARY KEY, payload text);
      INSERT INTO big2 SELECT g, repeat(md5(g::text), 4) FROM generate_series(1, 120000) g;
      CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL, balance int NOT NULL);
      INSERT INTO customers SELECT g, 'c' || g, 100 FROM generate_series(1, 1000) g;
      CREATE TABLE orders (id int PRIMARY KEY, customer_id int NOT NULL REFERENCES customers ON DELETE CASCADE, amount int);
      INSERT INTO orders SELECT g, 1 + g % 1000, g FROM generate_series(1, 5000) g;
      CREATE TABLE ledger (id bigserial PRIMARY KEY, amount int);
      INSERT INTO ledger (amount) SELECT g FROM generate_series(1, 1000) g;
      ANALYZE;`);
  });
  after(async () => {
    await Promise.all([source?.drop(), destination?.drop()]);
  });

  /**
   * A run during which another session commits writes to every table (the one being copied included) as soon as
   * the first table's COPY starts. The writes run in a child process while the event handler blocks the run's event
   * loop, so no table starts before they commit. Resolves with the source's rows as they were before the writes.
   */
  async function runDuringWrites(options: Partial<MigrationSpec>, writes: string) {
    const asOfSnapshot = new Map<string, string>();
    for (const table of TABLES)
      asOfSnapshot.set(table, await rowsFingerprint(source.client, "public", table));
    let writtenAt: number | undefined;
    const tableStarts = new Map<string, number>();
    const onEvent = (event: ProgressEvent) => {
      if (event.type === "table-start") tableStarts.set(event.table, Date.now());
      if (event.type === "table-phase" && event.phase === "copy" && writtenAt === undefined) {
        commitInAnotherProcess(source.config, writes);
        writtenAt = Date.now();
      }
    };
    const report = await run(spec(options), { onEvent });
    assert.ok(writtenAt !== undefined, "the writes ran");
    const startedLater = [...tableStarts].filter(([, at]) => at >= writtenAt!).map(([table]) => table);
    assert.ok(
      startedLater.length >= 2,
      `tables started after the writes committed: ${startedLater.join(", ")}`,
    );
    return { report, asOfSnapshot };
  }

  async function assertTargetIs(expected: Map<string, string>): Promise<void> {
    for (const [table, print] of expected) {
      assert.equal(
        await rowsFingerprint(destination.client, "migrated", table),
        print,
        `${table} as of the snapshot`,
      );
    }
    const { rows } = await destination.client.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_constraint
        WHERE conname = 'orders_customer_id_fkey' AND connamespace = 'migrated'::regnamespace AND convalidated`,
    );
    assert.equal(rows[0]?.n, 1, "the foreign key was restored, validated, so it holds");
  }

  test("full copy: inserts, updates and deletes committed mid-run are all invisible to it", async () => {
    const n = ++round * 1_000_000;
    const { report, asOfSnapshot } = await runDuringWrites(
      { mode: "full" },
      `BEGIN;
       INSERT INTO big SELECT g, 'late' FROM generate_series(${n}, ${n + 999}) g;
       INSERT INTO customers VALUES (${n}, 'late', 0);
       INSERT INTO orders SELECT g, ${n}, 1 FROM generate_series(${n}, ${n + 49}) g;
       UPDATE customers SET balance = balance - 10 WHERE id <= 500;
       UPDATE orders SET amount = -amount WHERE id % 2 = 0;
       DELETE FROM customers WHERE id BETWEEN 900 AND 950;
       INSERT INTO ledger (amount) SELECT 1 FROM generate_series(1, 100);
       COMMIT;`,
    );
    assert.equal(report.totals.tablesFailed, 0, JSON.stringify(report.tables, null, 1));
    assert.equal(report.foreignKeysSkipped, undefined);
    await assertTargetIs(asOfSnapshot);
    for (const table of ["big", "customers", "orders", "ledger"]) {
      assert.notEqual(await rowsFingerprint(source.client, "public", table), asOfSnapshot.get(table), table);
    }
    await assertNoLeftovers(source, destination);
  });

  test("incremental: rows inserted mid-run wait for the next run, which then converges", async () => {
    await run(spec({ mode: "full" }));
    const n = ++round * 1_000_000;
    // Rows from before the run, so that its first delta has a COPY long enough to write during.
    await source.client.query(
      `INSERT INTO big SELECT g, repeat('x', 100) FROM generate_series(${n + 10_000}, ${n + 90_000}) g`,
    );
    const { report, asOfSnapshot } = await runDuringWrites(
      { mode: "incremental" },
      `BEGIN;
       INSERT INTO big SELECT g, 'late' FROM generate_series(${n}, ${n + 999}) g;
       INSERT INTO big2 SELECT g, 'late' FROM generate_series(${n}, ${n + 9}) g;
       INSERT INTO customers VALUES (${n}, 'late', 0), (-${n}, 'late, below the watermark', 0);
       INSERT INTO orders SELECT g, ${n}, 1 FROM generate_series(${n}, ${n + 49}) g;
       INSERT INTO ledger (amount) SELECT 1 FROM generate_series(1, 100);
       COMMIT;`,
    );
    assert.equal(report.totals.tablesFailed, 0, JSON.stringify(report.tables, null, 1));
    await assertTargetIs(asOfSnapshot);

    const next = await run(spec({ mode: "incremental" }));
    const copied = Object.fromEntries(next.tables.map((t) => [t.name, t.rowsCopied]));
    assert.deepEqual(copied, { big: 1000, big2: 10, customers: 2, orders: 50, ledger: 100 });
    await assertSameRows(source, destination, TABLES);
    await assertNoLeftovers(source, destination);
  });
});

/** Runs `sql` on another connection, in a child process, and returns once it has committed. */
function commitInAnotherProcess(config: ConnectionConfig, sql: string): void {
  const script = `import pg from "pg";
    const client = new pg.Client({ ...JSON.parse(process.env.CONFIG), ssl: false });
    await client.connect();
    await client.query(process.env.SQL);
    await client.end();`;
  execFileSync(process.execPath, ["--input-type=module", "-e", script], {
    env: { ...process.env, CONFIG: JSON.stringify(config), SQL: sql },
    stdio: ["ignore", "ignore", "inherit"],
  });
}
