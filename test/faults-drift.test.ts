/**
 * Issue 7, fault suite item 7: target tables altered or dropped by hand between two incremental runs are detected
 * and reported (the table keeps what it has), or rebuilt when the strategy says so; and objects a user built on
 * the copied tables are never dropped behind their back.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import { run, type MigrationSpec, type RunReport, type TableResult } from "../engine/index.js";
import { assertSameRows, assertNoLeftovers, rowsFingerprint } from "./support/faults.js";
import { createDatabase, type TestDatabase } from "./support/servers.js";
import { makeSpec } from "./support/spec.js";

const TABLES = ["items", "notes", "tags"];

function byName(report: RunReport): Record<string, TableResult> {
  return Object.fromEntries(report.tables.map((t) => [t.name, t]));
}

describe("faults: the target changed by hand between runs", () => {
  let source: TestDatabase;
  let destination: TestDatabase;
  let nextKey = 1000;
  const incremental = (overrides: Partial<MigrationSpec> = {}) =>
    makeSpec(source.config, destination.config, { mode: "incremental", ...overrides });
  const recreate = (table: string) =>
    makeSpec(source.config, destination.config, {
      mode: "tables",
      tables: [{ name: table, strategy: "recreate" }],
    });

  before(async () => {
    [source, destination] = await Promise.all([
      createDatabase(17, "drift_src"),
      createDatabase(17, "drift_dst"),
    ]);
    await source.client.query(`
      CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL, qty int);
      CREATE TABLE notes (id int PRIMARY KEY, item_id int REFERENCES items, body text);
      CREATE TABLE tags (code text PRIMARY KEY, label text);
      INSERT INTO items SELECT g, 'item ' || g, g FROM generate_series(1, 500) g;
      INSERT INTO notes SELECT g, g, 'note ' || g FROM generate_series(1, 500) g;
      INSERT INTO tags SELECT 't' || g, 'tag ' || g FROM generate_series(1, 50) g;`);
  });
  after(async () => {
    await Promise.all([source?.drop(), destination?.drop()]);
  });
  // Each case starts from a target in sync with the source, and new source rows in every table.
  beforeEach(async () => {
    await destination.client.query("DROP SCHEMA IF EXISTS migrated CASCADE");
    await run(incremental());
    const key = (nextKey += 10);
    await source.client.query(
      `INSERT INTO items VALUES (${key}, 'new', 1); INSERT INTO notes VALUES (${key}, 1, 'new');
       INSERT INTO tags VALUES ('new${key}', 'new')`,
    );
  });

  for (const [what, sql, message] of [
    [
      "a column dropped",
      "ALTER TABLE migrated.items DROP COLUMN qty",
      /column "qty" \(integer\) was added in the source/,
    ],
    [
      "a column's type changed",
      "ALTER TABLE migrated.items ALTER COLUMN name TYPE varchar(20)",
      /column "name" is text in the source but character varying\(20\) in the target/,
    ],
    [
      "a column added",
      "ALTER TABLE migrated.items ADD COLUMN extra int",
      /column "extra" is not in the source/,
    ],
    [
      "the primary key dropped",
      "ALTER TABLE migrated.items DROP CONSTRAINT items_pkey CASCADE",
      /primary key \(none\) differs from the source's \(id\)/,
    ],
  ] as const) {
    test(`${what} by hand: reported as schema drift, the table keeps its rows, the others sync; recreate rebuilds it`, async () => {
      await destination.client.query(sql);
      const before = await rowsFingerprint(destination.client, "migrated", "items");
      const report = await run(incremental());
      const tables = byName(report);
      assert.equal(tables.items?.status, "failed");
      assert.equal(tables.items?.error?.code, "schema-drift");
      assert.match(tables.items?.error?.message ?? "", message);
      assert.match(tables.items?.error?.hint ?? "", /recreate/);
      assert.equal(await rowsFingerprint(destination.client, "migrated", "items"), before);
      assert.deepEqual([tables.notes?.status, tables.tags?.status], ["ok", "ok"]);
      await assertSameRows(source, destination, ["notes", "tags"]);

      const rebuilt = byName(await run(recreate("items")));
      assert.deepEqual([rebuilt.items?.action, rebuilt.items?.status], ["recreate", "ok"]);
      assert.equal((await run(incremental())).totals.tablesFailed, 0);
      await assertSameRows(source, destination, TABLES);
      await assertNoLeftovers(source, destination);
    });
  }

  test("a table dropped by hand is created again and copied whole", async () => {
    await destination.client.query("DROP TABLE migrated.notes");
    const tables = byName(await run(incremental()));
    assert.deepEqual([tables.notes?.action, tables.notes?.status], ["create", "ok"]);
    await assertSameRows(source, destination, TABLES);
  });

  test("a table renamed by hand is left alone; recreating the source's name fails cleanly on the index name it kept", async () => {
    await destination.client.query("ALTER TABLE migrated.tags RENAME TO my_tags");
    const kept = await rowsFingerprint(destination.client, "migrated", "my_tags");
    const tables = byName(await run(incremental()));
    assert.equal(tables.my_tags, undefined);
    assert.deepEqual(
      [tables.tags?.action, tables.tags?.status, tables.tags?.error?.code],
      ["create", "failed", "42P07"],
    );
    assert.match(tables.tags?.error?.message ?? "", /relation "tags_pkey" already exists/);
    const { rows } = await destination.client.query("SELECT to_regclass('migrated.tags')::text AS tags");
    assert.deepEqual(rows[0], { tags: null }, "nothing half-created");
    assert.equal(
      await rowsFingerprint(destination.client, "migrated", "my_tags"),
      kept,
      "the renamed table is untouched",
    );
    await assertSameRows(source, destination, ["items", "notes"]);
    await assertNoLeftovers(source, destination);
  });

  test("rows deleted by hand are found missing (every key compared) and copied again", async () => {
    await destination.client.query(
      "DELETE FROM migrated.notes WHERE item_id BETWEEN 100 AND 199; DELETE FROM migrated.items WHERE id BETWEEN 100 AND 199",
    );
    const tables = byName(await run(incremental()));
    assert.equal(tables.items?.path, "anti-join");
    assert.equal(tables.items?.rowsCopied, 101);
    await assertSameRows(source, destination, TABLES);
  });

  test("rows changed by hand are not detected by incremental (keys only); a recreate restores them", async () => {
    await destination.client.query("UPDATE migrated.items SET name = 'changed by hand' WHERE id <= 10");
    const tables = byName(await run(incremental()));
    assert.equal(tables.items?.rowsCopied, 1);
    const changed = await destination.client.query(
      "SELECT 1 FROM migrated.items WHERE name = 'changed by hand'",
    );
    assert.equal(changed.rowCount, 10, "documented: incremental never rewrites rows it already has");
    await run(recreate("items"));
    await assertSameRows(source, destination, TABLES);
  });

  test("a user's view in another schema on a copied table is never dropped: a full refresh of that table fails instead", async () => {
    await destination.client.query(
      "CREATE VIEW public.item_names AS SELECT id, name FROM migrated.items; CREATE VIEW migrated.tag_labels AS SELECT label FROM migrated.tags",
    );
    try {
      const before = await rowsFingerprint(destination.client, "migrated", "items");
      const report = await run(makeSpec(source.config, destination.config, { mode: "full" }));
      const tables = byName(report);
      for (const name of ["items", "tags"]) {
        assert.equal(tables[name]?.status, "failed", name);
        assert.equal(tables[name]?.error?.code, "2BP01");
        assert.match(tables[name]?.error?.hint ?? "", /incremental/);
        assert.doesNotMatch(tables[name]?.error?.hint ?? "", /CASCADE/);
      }
      assert.match(tables.items?.error?.detail ?? "", /view item_names depends on table (migrated\.)?items/);
      assert.equal(await rowsFingerprint(destination.client, "migrated", "items"), before);
      // notes references items: its foreign key to the kept table is restored at the end.
      assert.equal(tables.notes?.status, "ok");
      assert.equal(report.foreignKeysSkipped, undefined);
      const views = await destination.client.query(
        "SELECT 1 FROM pg_views WHERE viewname IN ('item_names', 'tag_labels')",
      );
      assert.equal(views.rowCount, 2, "both views are still there");
      // Incremental never drops a table, so it works with the views in place.
      assert.equal((await run(incremental())).totals.tablesFailed, 0);
      await assertSameRows(source, destination, TABLES);
    } finally {
      await destination.client.query("DROP VIEW IF EXISTS public.item_names, migrated.tag_labels");
    }
  });
});
