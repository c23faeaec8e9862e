import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import type { RunReport } from "../engine/index.js";
import { assertTablesIdentical, listTables } from "./support/compare.js";
import { assertNoSecret, runCli, STACK_LINE, startCli, urlOf, type CliResult } from "./support/cli.js";
import { waitForStatementOn } from "./support/faults.js";
import { createDatabase, type TestDatabase } from "./support/servers.js";

const SOURCE_SQL = `
  CREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL, prefs jsonb, created_at timestamptz DEFAULT now());
  CREATE TABLE orders (id serial PRIMARY KEY, user_id int NOT NULL REFERENCES users, total numeric(10, 2));
  CREATE TABLE audit_log (at timestamptz DEFAULT now(), msg text);
  INSERT INTO users (email, prefs) SELECT 'u' || g || '@example.com', jsonb_build_object('n', g) FROM generate_series(1, 1000) g;
  INSERT INTO orders (user_id, total) SELECT 1 + g % 1000, g / 10.0 FROM generate_series(1, 5000) g;
  INSERT INTO audit_log (msg) SELECT 'event ' || g FROM generate_series(1, 50) g;

  -- A table whose default calls a function the destination does not have: creating it there fails (42883).
  CREATE SCHEMA broken;
  CREATE FUNCTION broken.next_code() RETURNS text LANGUAGE sql AS $$ SELECT 'c' $$;
  CREATE TABLE broken.coded (id int PRIMARY KEY, code text DEFAULT broken.next_code());
  CREATE TABLE broken.fine (id int PRIMARY KEY, label text);
  INSERT INTO broken.coded (id) VALUES (1), (2);
  INSERT INTO broken.fine SELECT g, 'f' || g FROM generate_series(1, 10) g;

  -- Big enough for a copy to be interrupted while it runs.
  CREATE SCHEMA bulk;
  CREATE TABLE bulk.big (id bigserial PRIMARY KEY, payload text);
  INSERT INTO bulk.big (payload) SELECT repeat('x', 120) FROM generate_series(1, 1000000);
  ANALYZE;`;

describe("pgferry run", () => {
  let source: TestDatabase;
  let destination: TestDatabase;
  let workDir: string;
  const outputs: string[] = [];
  const cli = async (args: string[], options: Parameters<typeof runCli>[1] = {}): Promise<CliResult> => {
    const result = await runCli(args, options);
    outputs.push(result.stdout, result.stderr);
    return result;
  };
  const urls = () => ["--source", urlOf(source.config), "--destination", urlOf(destination.config)];

  before(async () => {
    [source, destination] = await Promise.all([
      createDatabase(14, "clirun_src"),
      createDatabase(17, "clirun_dst"),
    ]);
    await source.client.query(SOURCE_SQL);
    workDir = mkdtempSync(path.join(os.tmpdir(), "pgferry-cli-run-"));
  });
  after(async () => {
    await Promise.all([source?.drop(), destination?.drop()]);
    rmSync(workDir, { recursive: true, force: true });
  });

  test("flags alone: a full copy prints [i/n] lines on stderr, nothing on stdout, and exits 0", async () => {
    const result = await cli(["run", ...urls(), "--mode", "full"]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, "");
    assert.match(result.stderr, /^3 tables to process$/m);
    assert.match(result.stderr, /^\[\d\/3\] users: 1,000 rows copied \(\d+(\.\d)? m?s\)$/m);
    assert.match(result.stderr, /^\[\d\/3\] orders: 5,000 rows copied \(\d+(\.\d)? m?s\)$/m);
    assert.match(result.stderr, /^\[\d\/3\] audit_log: 50 rows copied \(/m);
    // The original tool's statistics, and one line per table.
    assert.match(result.stderr, /Full database copy completed in/);
    for (const line of [
      /^ {2}Tables processed: +3$/m,
      /^ {2}New tables created: +3$/m,
      /^ {2}Existing tables synced: +0$/m,
      /^ {2}Tables up to date: +0$/m,
      /^ {2}Tables skipped \(no primary key\): +0$/m,
      /^ {2}Tables failed: +0$/m,
      /^ {2}Total new rows: +6,050 \(/m,
      /^ {2}orders +create +ok +0 → 5,000 +5,000 /m,
    ]) {
      assert.match(result.stderr, line);
    }
    await assertTablesIdentical(source.client, "public", destination.client, "migrated");
  });

  test("incremental from PGFERRY_*_URL: delta, up-to-date and skip lines", async () => {
    await source.client.query(
      "INSERT INTO orders (user_id, total) SELECT 1, g FROM generate_series(1, 25) g; INSERT INTO audit_log (msg) VALUES ('late')",
    );
    const result = await cli(["run", "--mode", "incremental"], {
      env: { PGFERRY_SOURCE_URL: urlOf(source.config), PGFERRY_DESTINATION_URL: urlOf(destination.config) },
    });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /^\[\d\/3\] orders: 25 new rows copied \(watermark, \d+(\.\d)? m?s\)$/m);
    assert.match(result.stderr, /^\[\d\/3\] users: up to date \(watermark, /m);
    assert.match(result.stderr, /^\[\d\/3\] audit_log: skipped: no primary key$/m);
    assert.match(result.stderr, /^ {2}Existing tables synced: +1$/m);
    assert.match(result.stderr, /^ {2}Tables up to date: +1$/m);
    assert.match(result.stderr, /^ {2}Tables skipped \(no primary key\): +1$/m);
    assert.match(result.stderr, /^ {2}Total new rows: +25 /m);
    assert.match(result.stderr, /^ {2}orders +delta +ok +5,000 → 5,025 +25 /m);
  });

  test("--json prints exactly the RunReport on stdout; the human summary stays on stderr", async () => {
    const result = await cli(["run", ...urls(), "--mode", "incremental", "--json"]);
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout) as RunReport;
    assert.equal(report.mode, "incremental");
    assert.equal(report.totals.tables, 3);
    assert.equal(report.totals.tablesUpToDate, 2);
    assert.deepEqual(report.tables.map((t) => [t.name, t.status]).sort(), [
      ["audit_log", "skipped"],
      ["orders", "up-to-date"],
      ["users", "up-to-date"],
    ]);
    assert.match(result.stderr, /Incremental sync completed/);
  });

  test("--quiet prints nothing when every table is fine", async () => {
    const result = await cli(["run", ...urls(), "--mode", "incremental", "--quiet"]);
    assert.equal(result.code, 0);
    assert.equal(result.stderr, "");
    assert.equal(result.stdout, "");
  });

  test("a table that fails gives exit code 1, a FAILED line with its SQLSTATE, and the other tables are copied", async () => {
    const args = ["run", ...urls(), "--source-schema", "broken", "--target-schema", "broken_copy"];
    const result = await cli(args);
    assert.equal(result.code, 1, result.stderr);
    assert.match(
      result.stderr,
      /^\[\d\/2\] coded: FAILED: function (broken\.)?next_code\(\) does not exist \[42883\]$/m,
    );
    assert.match(result.stderr, /^\[\d\/2\] fine: 10 rows copied/m);
    assert.match(result.stderr, /finished with 1 failed table/);
    assert.match(result.stderr, /^ {2}Tables failed: +1$/m);
    assert.deepEqual(await listTables(destination.client, "broken_copy"), ["fine"]);
    assert.doesNotMatch(result.stderr, STACK_LINE);

    const quiet = await cli([...args, "--quiet"]);
    assert.equal(quiet.code, 1);
    assert.match(quiet.stderr, /^error: table coded failed: .*\[42883\]$/m);
    assert.doesNotMatch(quiet.stderr, /fine/);
  });

  test("flags override the spec file; ./pgferry.yml is used when no spec is named", async () => {
    writeFileSync(
      path.join(workDir, "pgferry.yml"),
      [
        "source: ${SRC_URL}",
        "destination: ${DST_URL}",
        "mode: full",
        "targetSchema: from_spec",
        "tables:",
        "  - users",
        "",
      ].join("\n"),
    );
    const env = { SRC_URL: urlOf(source.config), DST_URL: urlOf(destination.config) };
    const result = await cli(
      ["run", "--tables", "orders,users", "--target-schema", "from_flags", "--mode", "incremental", "--json"],
      { cwd: workDir, env },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /^Using \.\/pgferry\.yml$/m);
    const report = JSON.parse(result.stdout) as RunReport;
    assert.equal(report.mode, "incremental");
    assert.equal(report.targetSchema, "from_flags");
    assert.deepEqual(await listTables(destination.client, "from_flags"), ["orders", "users"]);
    assert.deepEqual(await listTables(destination.client, "from_spec"), []);

    // The spec's own values when no flag overrides them.
    const plain = await cli(["run", "pgferry.yml", "--json"], { cwd: workDir, env });
    assert.equal(plain.code, 0, plain.stderr);
    const specReport = JSON.parse(plain.stdout) as RunReport;
    assert.deepEqual([specReport.mode, specReport.targetSchema], ["full", "from_spec"]);
    assert.deepEqual(await listTables(destination.client, "from_spec"), ["users"]);
  });

  test("spec errors name file:line:column, exit 2, and print no stack trace", async () => {
    writeFileSync(
      path.join(workDir, "bad.yml"),
      [
        `source: ${urlOf(source.config)}`,
        "destination: ${NOT_SET_ANYWHERE}",
        "mode: ful",
        "tabels: [users]",
        "jobs: two",
        "",
      ].join("\n"),
    );
    const result = await cli(["plan", "bad.yml"], { cwd: workDir });
    assert.equal(result.code, 2);
    assert.equal(result.stdout, "");
    assert.deepEqual(result.stderr.trimEnd().split("\n"), [
      "error: bad.yml:2:14: destination: environment variable NOT_SET_ANYWHERE is not set",
      'error: bad.yml:3:7: mode: must be one of full, incremental, tables (found "ful")',
      'error: bad.yml:4:1: tabels: unknown key "tabels" — did you mean "tables"?',
      'error: bad.yml:5:7: jobs: expected integer, found string "two"',
    ]);

    const missing = await cli(["run", "nowhere.yml"], { cwd: workDir });
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /^error: nowhere\.yml: cannot read the spec: file not found$/m);

    const badFlag = await cli(["run", ...urls(), "--jobs", "many", "--mode", "sideways"]);
    assert.equal(badFlag.code, 2);
    assert.match(badFlag.stderr, /^error: --mode: must be one of full, incremental, tables/m);
    assert.match(badFlag.stderr, /^error: --jobs: /m);

    const unknown = await cli(["run", "--frobnicate"]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown option '--frobnicate'/);

    for (const r of [result, missing, badFlag, unknown]) assert.doesNotMatch(r.stderr, STACK_LINE);
  });

  test("a connection refused before any table is touched: exit 2, one error line and a hint", async () => {
    const wrongPassword = "not-the-password-42";
    const result = await cli([
      "run",
      "--source",
      urlOf(source.config, { password: wrongPassword }),
      "--destination",
      urlOf(destination.config),
    ]);
    assert.equal(result.code, 2);
    const lines = result.stderr.trimEnd().split("\n");
    assert.equal(lines.length, 2, result.stderr);
    assert.match(
      lines[0] ?? "",
      /^error: Authentication failed on the source postgres@127\.0\.0\.1:\d+\/clirun_src_\w+: /,
    );
    assert.match(lines[1] ?? "", /^hint: Check the user name and password/);
    assertNoSecret([result.stdout, result.stderr], wrongPassword, "the wrong password");
  });

  for (const [signal, code] of [
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const) {
    test(`${signal} during a copy rolls the table back and exits ${code}`, async () => {
      const running = startCli([
        "run",
        ...urls(),
        "--source-schema",
        "bulk",
        "--target-schema",
        `bulk_${code}`,
      ]);
      await waitForStatementOn(destination.client, `COPY "bulk_${code}"."big"%`);
      running.child.kill(signal);
      const result = await running.result;
      outputs.push(result.stdout, result.stderr);
      assert.equal(result.code, code, result.stderr);
      assert.match(result.stderr, /^Interrupted — the table in flight was rolled back\.$/m);
      assert.doesNotMatch(result.stderr, /FAILED/);
      assert.deepEqual(await listTables(destination.client, `bulk_${code}`), []);
    });
  }

  test("the password of the connection URLs appears in no output of any command above", () => {
    assert.ok(outputs.length > 10);
    assertNoSecret(outputs, source.config.password ?? "");
  });
});
