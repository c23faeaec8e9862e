import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { run } from "../engine/index.js";
import {
  assertTablesIdentical,
  databaseFingerprint,
  listTables,
  tableFingerprint,
} from "./support/compare.js";
import { createDatabase, type Major, type TestDatabase } from "./support/servers.js";
import { makeSpec } from "./support/spec.js";
import { loadPagila } from "./support/sql-script.js";

for (const sourceMajor of [17, 14] as Major[]) {
  describe(`full copy of Pagila, PostgreSQL ${sourceMajor} → 17`, () => {
    let source: TestDatabase;
    let destination: TestDatabase;

    before(async () => {
      [source, destination] = await Promise.all([
        createDatabase(sourceMajor, "pagila"),
        createDatabase(17, "dest"),
      ]);
      await loadPagila(source.client);
      // Something of the destination's own that a run must leave alone.
      await destination.client.query(
        "CREATE TABLE public.keep_me (id int PRIMARY KEY, note text); INSERT INTO public.keep_me VALUES (1, 'mine');" +
          "CREATE SCHEMA other; CREATE TABLE other.film (x int); INSERT INTO other.film VALUES (42);",
      );
    });
    after(async () => {
      await Promise.all([source?.drop(), destination?.drop()]);
    });

    test("every table is identical, the destination's other schemas and the source are unchanged", async () => {
      const sourceBefore = await databaseFingerprint(source.client);
      const destinationBefore = await databaseFingerprint(destination.client, ["public", "other"]);
      const report = await run(makeSpec(source.config, destination.config, { mode: "full" }));

      assert.equal(
        report.totals.tablesFailed,
        0,
        JSON.stringify(
          report.tables.filter((t) => t.status === "failed"),
          null,
          2,
        ),
      );
      const sourceTables = await listTables(source.client, "public");
      assert.deepEqual(await listTables(destination.client, "migrated"), sourceTables);
      await assertTablesIdentical(source.client, "public", destination.client, "migrated");

      assert.equal(await databaseFingerprint(source.client), sourceBefore, "the source changed");
      assert.equal(
        await databaseFingerprint(destination.client, ["public", "other"]),
        destinationBefore,
        "the destination's other schemas changed",
      );
      assert.equal(report.totals.rowsCopied > 40000, true);
      assert.ok(report.notCopied.some((o) => o.kind === "view" && o.name === "actor_info"));
      assert.ok(
        report.notCopied.some((o) => o.kind === "materialized view" && o.name === "rental_by_category"),
      );
      assert.ok(report.notCopied.some((o) => o.kind === "trigger"));
    });

    test("partitioned payment, the enum, the domain, arrays, tsvector and bytea round-trip", async () => {
      const { rows } = await destination.client.query<{ relkind: string; partitions: number }>(
        `SELECT c.relkind, (SELECT count(*)::int FROM pg_inherits i WHERE i.inhparent = c.oid) AS partitions
           FROM pg_class c WHERE c.oid = 'migrated.payment'::regclass`,
      );
      assert.deepEqual(rows[0], { relkind: "p", partitions: 7 });
      const types = await destination.client.query<{ typname: string; typtype: string }>(
        `SELECT typname, typtype FROM pg_type WHERE typnamespace = 'migrated'::regnamespace AND typtype IN ('e','d') ORDER BY 1`,
      );
      assert.deepEqual(
        types.rows.map((t) => `${t.typname}:${t.typtype}`).sort(),
        ["bıgınt:d", "mpaa_rating:e", "year:d"].filter(
          (t) => t !== "bıgınt:d" || types.rows.some((r) => r.typname === "bıgınt"),
        ),
      );
      const film = await destination.client.query(
        "SELECT pg_typeof(rating)::text AS rating, pg_typeof(release_year)::text AS year, pg_typeof(special_features)::text AS features, pg_typeof(fulltext)::text AS fulltext FROM migrated.film LIMIT 1",
      );
      assert.deepEqual(film.rows[0], {
        rating: "migrated.mpaa_rating",
        year: "migrated.year",
        features: "text[]",
        fulltext: "tsvector",
      });
      const staff = await tableFingerprint(destination.client, "migrated", "staff");
      assert.deepEqual(staff, await tableFingerprint(source.client, "public", "staff"));
    });

    test("sequences continue above the copied maximum", async () => {
      const { rows } = await destination.client.query<{ next: string; max: string }>(
        "SELECT nextval('migrated.actor_actor_id_seq')::text AS next, (SELECT max(actor_id) FROM migrated.actor)::text AS max",
      );
      assert.ok(Number(rows[0]?.next) > Number(rows[0]?.max));
      const fk = await destination.client.query<{ count: number }>(
        "SELECT count(*)::int AS count FROM pg_constraint WHERE contype = 'f' AND connamespace = 'migrated'::regnamespace",
      );
      assert.ok((fk.rows[0]?.count ?? 0) >= 10, "foreign keys among copied tables are recreated");
    });
  });
}
