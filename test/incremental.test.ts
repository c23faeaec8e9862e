import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { plan, run, type RunReport, type TableResult } from "../engine/index.js";
import { parseSyncState } from "../engine/target-state.js";
import { assertTablesIdentical, tableFingerprint } from "./support/compare.js";
import { createDatabase, type TestDatabase } from "./support/servers.js";
import { makeSpec } from "./support/spec.js";

const SCHEMA = `
  CREATE EXTENSION IF NOT EXISTS pgcrypto;
  CREATE TABLE int_keys (id bigserial PRIMARY KEY, note text, at timestamptz DEFAULT now());
  CREATE TABLE text_keys (code text PRIMARY KEY, label text);
  CREATE TABLE uuid_keys (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), n int);
  CREATE TABLE composite ("Tenant" int, seq text, made timestamp, payload jsonb, PRIMARY KEY ("Tenant", seq, made));
  CREATE TABLE no_key (x int, y text);
  INSERT INTO int_keys (note) SELECT 'row ' || g FROM generate_series(1, 1000) g;
  INSERT INTO text_keys SELECT 'k' || lpad(g::text, 5, '0'), 'label ' || g FROM generate_series(1, 500) g;
  INSERT INTO uuid_keys (n) SELECT g FROM generate_series(1, 800) g;
  INSERT INTO composite SELECT g % 7, 's' || g, timestamp '2024-01-01' + g * interval '1 minute', jsonb_build_object('g', g)
    FROM generate_series(1, 700) g;
  INSERT INTO no_key SELECT g, 'y' FROM generate_series(1, 10) g;`;

function byName(report: RunReport): Record<string, TableResult> {
  return Object.fromEntries(report.tables.map((t) => [t.name, t]));
}

describe("incremental sync", () => {
  let source: TestDatabase;
  let destination: TestDatabase;
  const spec = () => makeSpec(source.config, destination.config, { mode: "incremental", jobs: 2 });
  const keyed = ["int_keys", "text_keys", "uuid_keys", "composite"];

  before(async () => {
    [source, destination] = await Promise.all([createDatabase(14, "inc_src"), createDatabase(17, "inc_dst")]);
    await source.client.query(SCHEMA);
  });
  after(async () => {
    await Promise.all([source?.drop(), destination?.drop()]);
  });

  test("the first run on an empty target creates and copies every keyed table; a key-less table is skipped", async () => {
    const report = await run(spec());
    const tables = byName(report);
    for (const name of keyed) {
      assert.equal(tables[name]?.action, "create", name);
      assert.equal(tables[name]?.status, "ok", name);
    }
    assert.deepEqual([tables.no_key?.status, tables.no_key?.reason], ["skipped", "no primary key"]);
    assert.equal(report.totals.tablesCreated, 4);
    assert.equal(report.totals.tablesSkipped, 1);
    assert.equal(report.totals.rowsCopied, 1000 + 500 + 800 + 700);
    await assertTablesIdentical(source.client, "public", destination.client, "migrated", keyed);
  });

  test("new rows, also below the current maximum key, are copied exactly once", async () => {
    await source.client.query(`
      INSERT INTO int_keys (note) SELECT 'new ' || g FROM generate_series(1, 25) g;
      INSERT INTO int_keys (id, note) VALUES (-5, 'below the watermark');
      INSERT INTO text_keys VALUES ('k00000a', 'between existing keys'), ('zzz', 'above');
      INSERT INTO uuid_keys (n) SELECT g FROM generate_series(1, 30) g;
      INSERT INTO composite VALUES (3, 'new', '2030-01-01', '{}'), (0, 'a', '1999-01-01', null);`);
    const planned = byName(await plan(spec()));
    assert.equal(planned.int_keys?.rowsCopied, 26);
    assert.equal(planned.text_keys?.rowsCopied, 2);
    assert.equal(planned.uuid_keys?.rowsCopied, 30);
    assert.equal(planned.composite?.rowsCopied, 2);

    const report = await run(spec());
    const tables = byName(report);
    assert.deepEqual(
      keyed.map((name) => [name, tables[name]?.action, tables[name]?.rowsCopied]),
      [
        ["int_keys", "delta", 26],
        ["text_keys", "delta", 2],
        ["uuid_keys", "delta", 30],
        ["composite", "delta", 2],
      ],
    );
    // Keys below the watermark cannot take the fast path; keys above it can.
    assert.equal(tables.int_keys?.path, "anti-join");
    assert.equal(tables.int_keys?.targetRowsBefore, 1000);
    assert.equal(tables.int_keys?.targetRowsAfter, 1026);
    assert.equal(report.totals.tablesSynced, 4);
    await assertTablesIdentical(source.client, "public", destination.client, "migrated", keyed);
    // The sync state an anti-join records is computed without scanning the target again: it must be exact.
    for (const name of ["int_keys", "uuid_keys"]) {
      assert.equal(tables[name]?.path, "anti-join", name);
      await assertRecordedStateExact(
        name,
        name === "int_keys" ? "hashint8extended(id, 0)" : "uuid_hash_extended(id, 0)",
      );
    }
  });

  /** The sync state recorded in the table's comment matches a fresh count and hash sum of its keys. */
  async function assertRecordedStateExact(table: string, hashSql: string): Promise<void> {
    const { rows } = await destination.client.query<{
      comment: string;
      count: string;
      sum: string;
      top: string;
    }>(
      `SELECT obj_description('migrated.${table}'::regclass, 'pg_class') AS comment, count(*)::text AS count,
              sum(${hashSql})::text AS sum,
              (SELECT t.id::text FROM migrated.${table} t ORDER BY t.id DESC LIMIT 1) AS top FROM migrated.${table}`,
    );
    const row = rows[0];
    const state = parseSyncState(row?.comment ?? null);
    assert.deepEqual(state?.target, { count: row?.count, sum: row?.sum }, table);
    assert.deepEqual(state?.source, state?.target, `${table}: every source key is in the target`);
    assert.deepEqual(state?.watermark, [row?.top], table);
  }

  test("ascending new keys take the watermark path", async () => {
    await source.client.query(
      "INSERT INTO int_keys (note) SELECT 'more ' || g FROM generate_series(1, 10) g",
    );
    const tables = byName(await run(spec()));
    assert.equal(tables.int_keys?.path, "watermark");
    assert.equal(tables.int_keys?.rowsCopied, 10);
    await assertTablesIdentical(source.client, "public", destination.client, "migrated", ["int_keys"]);
  });

  test("a run with no source change copies nothing and reports every table up to date", async () => {
    const report = await run(spec());
    assert.equal(report.totals.rowsCopied, 0);
    assert.equal(report.totals.tablesUpToDate, 4);
    for (const name of keyed) assert.equal(byName(report)[name]?.status, "up-to-date", name);
  });

  test("updates and deletes in the source are not propagated, and the fast path survives deletions", async () => {
    const before = await tableFingerprint(destination.client, "migrated", "int_keys");
    await source.client.query(
      "UPDATE int_keys SET note = 'changed' WHERE id <= 10; DELETE FROM int_keys WHERE id BETWEEN 11 AND 20",
    );
    const first = byName(await run(spec()));
    assert.equal(first.int_keys?.status, "up-to-date");
    assert.deepEqual(await tableFingerprint(destination.client, "migrated", "int_keys"), before);
    await source.client.query("INSERT INTO int_keys (note) VALUES ('after delete')");
    const second = byName(await run(spec()));
    assert.equal(second.int_keys?.rowsCopied, 1);
    assert.equal(
      second.int_keys?.path,
      "watermark",
      "the recorded sync state proves the deleted keys are not new",
    );
  });

  test("the target sequence is advanced past the copied maximum", async () => {
    const { rows } = await destination.client.query<{ next: string; max: string }>(
      "SELECT nextval('migrated.int_keys_id_seq')::text AS next, (SELECT max(id) FROM migrated.int_keys)::text AS max",
    );
    assert.ok(Number(rows[0]?.next) > Number(rows[0]?.max));
  });

  test("a column added in the source fails the table with the difference named; recreate rebuilds it", async () => {
    await source.client.query("ALTER TABLE text_keys ADD COLUMN extra int");
    const report = await run(spec());
    const textKeys = byName(report).text_keys;
    assert.equal(textKeys?.status, "failed");
    assert.equal(textKeys?.error?.code, "schema-drift");
    assert.match(textKeys?.error?.message ?? "", /column "extra" \(integer\) was added in the source/);
    assert.match(textKeys?.error?.hint ?? "", /strategy: recreate/);
    assert.equal(report.totals.tablesFailed, 1);
    const rebuilt = await run(
      makeSpec(source.config, destination.config, {
        mode: "tables",
        tables: [{ name: "text_keys", strategy: "recreate" }],
      }),
    );
    assert.equal(byName(rebuilt).text_keys?.action, "recreate");
    await assertTablesIdentical(source.client, "public", destination.client, "migrated", ["text_keys"]);
  });
});
