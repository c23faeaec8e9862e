import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { run, type RunReport } from "../engine/index.js";
import { databaseFingerprint } from "./support/compare.js";
import { assertNoSecret, runCli, STACK_LINE, urlOf, type CliResult } from "./support/cli.js";
import { createDatabase, type TestDatabase } from "./support/servers.js";
import { makeSpec } from "./support/spec.js";

const SOURCE_SQL = `
  CREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL, created_at timestamptz DEFAULT now());
  CREATE TABLE orders (id serial PRIMARY KEY, user_id int NOT NULL REFERENCES users, total numeric(10, 2));
  CREATE TABLE audit_log (at timestamptz DEFAULT now(), msg text);
  CREATE VIEW big_spenders AS SELECT user_id, sum(total) FROM orders GROUP BY user_id;
  INSERT INTO users (email) SELECT 'u' || g || '@example.com' FROM generate_series(1, 400) g;
  INSERT INTO orders (user_id, total) SELECT 1 + g % 400, g FROM generate_series(1, 2000) g;
  INSERT INTO audit_log (msg) SELECT 'event ' || g FROM generate_series(1, 30) g;
  ANALYZE;`;

describe("pgferry plan", () => {
  let source: TestDatabase;
  let destination: TestDatabase;
  const outputs: string[] = [];
  const cli = async (args: string[]): Promise<CliResult> => {
    const result = await runCli(args);
    outputs.push(result.stdout, result.stderr);
    return result;
  };
  const urls = () => ["--source", urlOf(source.config), "--destination", urlOf(destination.config)];
  const fingerprints = () =>
    Promise.all([databaseFingerprint(source.client), databaseFingerprint(destination.client)]);

  before(async () => {
    [source, destination] = await Promise.all([
      createDatabase(14, "cliplan_src"),
      createDatabase(17, "cliplan_dst"),
    ]);
    await source.client.query(SOURCE_SQL);
    await run(makeSpec(source.config, destination.config, { mode: "full" }));
    await source.client.query(
      "INSERT INTO orders (user_id, total) SELECT 7, g FROM generate_series(1, 25) g; INSERT INTO audit_log (msg) VALUES ('x')",
    );
  });
  after(async () => {
    await Promise.all([source?.drop(), destination?.drop()]);
  });

  test("per table: delta with the number of new rows, up to date, skip and why; both databases unchanged", async () => {
    const before = await fingerprints();
    const result = await cli(["plan", ...urls(), "--mode", "incremental"]);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(await fingerprints(), before);
    const lines = result.stdout.split("\n");
    const row = (table: string) => lines.find((line) => line.startsWith(`  ${table} `)) ?? "";
    assert.match(
      row("orders"),
      /^ {2}orders +delta: copy 25 new rows +25 +watermark path; 2,000 rows already there$/,
    );
    assert.match(row("users"), /^ {2}users +nothing \(up to date\) +0 +watermark path$/);
    assert.match(row("audit_log"), /^ {2}audit_log +skip +— +no primary key$/);
    assert.match(result.stdout, /^ {2}3 tables: 1 to sync, 1 up to date, 1 skipped\. 25 rows to copy\.$/m);
    assert.match(result.stdout, /^ {4}views: big_spenders$/m);
    assert.match(result.stdout, /Nothing was changed/);
  });

  test("a fresh target schema: every table would be created, and the schema is not created", async () => {
    const before = await fingerprints();
    const result = await cli(["plan", ...urls(), "--mode", "full", "--target-schema", "fresh"]);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(await fingerprints(), before);
    // Row counts of full copies are the planner's estimates (pg_class.reltuples, from the last ANALYZE, which
    // autovacuum may redo at any moment after the earlier tests' inserts): about, not exactly, 2,000.
    assert.match(result.stdout, /^ {2}orders +create and copy all rows +~2,0\d\d +not in the target yet$/m);
    assert.match(
      result.stdout,
      /^ {2}3 tables: 3 to create\. About 2,4\d\d rows to copy \(planner estimates/m,
    );
    const schemas = await destination.client.query("SELECT 1 FROM pg_namespace WHERE nspname = 'fresh'");
    assert.equal(schemas.rowCount, 0);
  });

  test("--json prints the dry-run report and nothing else on stdout", async () => {
    const result = await cli(["plan", ...urls(), "--mode", "incremental", "--json"]);
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout) as RunReport;
    assert.equal(report.dryRun, true);
    const orders = report.tables.find((t) => t.name === "orders");
    assert.deepEqual([orders?.action, orders?.status, orders?.rowsCopied], ["delta", "ok", 25]);
  });

  test("a table that would fail is shown with the reason; the plan still exits 0", async () => {
    await destination.client.query("ALTER TABLE migrated.users ADD COLUMN nickname text");
    try {
      const result = await cli(["plan", ...urls(), "--mode", "incremental"]);
      assert.equal(result.code, 0, result.stderr);
      assert.match(
        result.stdout,
        /^ {2}users +fail +— +The target table differs from the source: .*nickname.* \[schema-drift\]$/m,
      );
      assert.match(result.stdout, /1 would fail/);
    } finally {
      await destination.client.query("ALTER TABLE migrated.users DROP COLUMN nickname");
    }
  });

  test("spec and connection problems exit 2 without a stack trace", async () => {
    const missingDatabase = await cli([
      "plan",
      "--source",
      urlOf(source.config),
      "--destination",
      urlOf(destination.config, { database: "no_such_db" }),
    ]);
    assert.equal(missingDatabase.code, 2);
    assert.match(missingDatabase.stderr, /^error: The destination database "no_such_db" does not exist on /m);

    const missingTable = await cli(["plan", ...urls(), "--mode", "tables", "--tables", "users,ghosts"]);
    assert.equal(missingTable.code, 2);
    assert.match(missingTable.stderr, /^error: Table "ghosts" not found in source schema "public"\.$/m);
    assert.match(missingTable.stderr, /^hint: Available: /m);

    const noSource = await cli(["plan", "--destination", urlOf(destination.config)]);
    assert.equal(noSource.code, 2);
    assert.match(noSource.stderr, /^error: .*source/m);

    for (const result of [missingDatabase, missingTable, noSource])
      assert.doesNotMatch(result.stderr, STACK_LINE);
  });

  test("no password in any output", () => {
    assertNoSecret(outputs, source.config.password ?? "");
  });
});
