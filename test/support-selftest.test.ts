/**
 * Self-test of the test helpers in test/support: the SQL script runner (Pagila on PostgreSQL 17 and 14, tricky
 * statement splitting) and the table/schema fingerprints.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import pg from "pg";
import { startEmbeddedServer, type EmbeddedMajor, type EmbeddedServer } from "../cli/embedded-server.js";
import {
  assertTablesIdentical,
  databaseFingerprint,
  listTables,
  schemaFingerprint,
  tableFingerprint,
} from "./support/compare.js";
import { loadPagila, runSqlScript, splitSqlScript, SqlScriptError } from "./support/sql-script.js";

const MAJORS = [17, 14] as const;

interface Instance {
  server: EmbeddedServer;
  admin: pg.Client;
  pagila: pg.Client;
  loadMs: number;
}

const instances = new Map<EmbeddedMajor, Instance>();
const clients: pg.Client[] = [];

function instance(major: EmbeddedMajor): Instance {
  const found = instances.get(major);
  assert.ok(found, `PostgreSQL ${major} is not running`);
  return found;
}

async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  clients.push(client);
  return client;
}

/** Creates an empty database and returns a client connected to it. */
async function freshDatabase(major: EmbeddedMajor, name: string): Promise<pg.Client> {
  const { server, admin } = instance(major);
  await admin.query(`CREATE DATABASE "${name}"`);
  return connect(server.urlFor(name));
}

before(async () => {
  await Promise.all(
    MAJORS.map(async (major) => {
      const server = await startEmbeddedServer({ major });
      const admin = await connect(server.url);
      instances.set(major, { server, admin, pagila: admin, loadMs: 0 });
      const pagila = await freshDatabase(major, "pagila");
      const started = performance.now();
      await loadPagila(pagila);
      instances.set(major, { server, admin, pagila, loadMs: performance.now() - started });
    }),
  );
});

after(async () => {
  await Promise.allSettled(clients.map((client) => client.end()));
  await Promise.allSettled([...instances.values()].map(({ server }) => server.stop()));
});

async function count(client: pg.Client, sql: string): Promise<number> {
  const result = await client.query<{ n: string }>(`SELECT (${sql})::text AS n`);
  return Number(result.rows[0]?.n);
}

describe("loadPagila", () => {
  for (const major of MAJORS) {
    test(`loads Pagila on PostgreSQL ${major}`, async (t) => {
      const { pagila, loadMs } = instance(major);
      t.diagnostic(`Pagila loaded in ${Math.round(loadMs)} ms on PostgreSQL ${major}`);
      const expected = { actor: 200, film: 1000, rental: 16044, payment: 16049 };
      for (const [table, rows] of Object.entries(expected)) {
        assert.equal(await count(pagila, `SELECT count(*) FROM public.${table}`), rows, table);
      }
      const relkind = await pagila.query<{ relkind: string }>(
        `SELECT relkind FROM pg_class WHERE oid = 'public.payment'::regclass`,
      );
      assert.equal(relkind.rows[0]?.relkind, "p");
      // The session settings of the dump (search_path = '') were reset.
      assert.equal(await count(pagila, `SELECT count(*) FROM actor`), 200);
      const tables = await listTables(pagila, "public");
      assert.ok(tables.includes("payment"));
      assert.ok(!tables.includes("payment_p2022_01"), "partitions are not listed");
      assert.deepEqual(tables, [...tables].sort());
    });
  }
});

describe("splitSqlScript", () => {
  const statements = (text: string) => splitSqlScript(text).map((step) => step.sql);

  test("ignores semicolons in strings, identifiers, dollar quotes and comments", () => {
    assert.deepEqual(statements("SELECT 'a;b'; SELECT 'it''s;';"), ["SELECT 'a;b';", "SELECT 'it''s;';"]);
    assert.deepEqual(statements("SELECT $$a;b$$; SELECT 1"), ["SELECT $$a;b$$;", "SELECT 1"]);
    assert.deepEqual(
      statements(
        "CREATE FUNCTION f() RETURNS text AS $fn$ BEGIN RETURN $$x;y$$; END $fn$ LANGUAGE plpgsql;\nSELECT 2;",
      ),
      [
        "CREATE FUNCTION f() RETURNS text AS $fn$ BEGIN RETURN $$x;y$$; END $fn$ LANGUAGE plpgsql;",
        "SELECT 2;",
      ],
    );
    assert.deepEqual(statements("-- a comment; here\nSELECT 1; /* one; /* nested; */ */ SELECT 2;"), [
      "SELECT 1;",
      "SELECT 2;",
    ]);
    assert.deepEqual(statements('CREATE TABLE "we;ird" ("a""b;c" int);'), [
      'CREATE TABLE "we;ird" ("a""b;c" int);',
    ]);
    assert.deepEqual(statements("SELECT E'\\';', e'\\\\'; SELECT 'a\\';"), [
      "SELECT E'\\';', e'\\\\';",
      "SELECT 'a\\';",
    ]);
    assert.deepEqual(statements("SELECT x$y$z, $1; SELECT 1"), ["SELECT x$y$z, $1;", "SELECT 1"]);
    assert.deepEqual(
      statements(
        "CREATE FUNCTION g() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT CASE WHEN true THEN 1 END; SELECT 2; END;\nSELECT 3;",
      ),
      [
        "CREATE FUNCTION g() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT CASE WHEN true THEN 1 END; SELECT 2; END;",
        "SELECT 3;",
      ],
    );
  });

  test("skips meta-commands, reads COPY data and reports lines", () => {
    const steps = splitSqlScript(
      "\\restrict abc\nSET a = 1;\n\\connect other\nCOPY t (a, b) FROM stdin;\n1\tx;y\n\\N\t\\\\.\n\\.\nSELECT 1;\n\\unrestrict abc\n",
    );
    assert.deepEqual(steps, [
      { sql: "SET a = 1;", line: 2 },
      { sql: "COPY t (a, b) FROM stdin;", line: 4, copyData: "1\tx;y\n\\N\t\\\\.\n" },
      { sql: "SELECT 1;", line: 8 },
    ]);
    assert.throws(() => splitSqlScript("SELECT 'unterminated;"), /line 1/);
  });
});

describe("runSqlScript", () => {
  test("runs tricky statements and COPY blocks", async () => {
    const client = await freshDatabase(14, "tricky");
    await runSqlScript(
      client,
      [
        "SET no_such_setting_in_any_version = 0;",
        'CREATE TABLE "we;ird ""t""" (id int, "a;b" text);',
        "CREATE FUNCTION f() RETURNS text LANGUAGE plpgsql AS $fn$ BEGIN RETURN $$x;y$$; END $fn$;",
        "CREATE FUNCTION g() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT CASE WHEN true THEN 2 END; END;",
        `INSERT INTO "we;ird ""t""" VALUES (1, E'it\\'s; fine'), (2, f()), (3, 'semi;'); -- trailing; comment`,
        `COPY "we;ird ""t""" (id, "a;b") FROM stdin;`,
        "4\tcopied; with \\\\ backslash",
        "5\t\\N",
        "\\.",
        "\\unrestrict key",
      ].join("\n"),
    );
    const rows = await client.query<{ id: number; v: string | null }>(
      `SELECT id, "a;b" AS v FROM "we;ird ""t""" ORDER BY id`,
    );
    assert.deepEqual(
      rows.rows.map((row) => [row.id, row.v]),
      [
        [1, "it's; fine"],
        [2, "x;y"],
        [3, "semi;"],
        [4, "copied; with \\ backslash"],
        [5, null],
      ],
    );
    assert.equal(await count(client, "SELECT g()"), 2);
    await assert.rejects(
      runSqlScript(client, "SELECT 1;\n\nSELECT * FROM missing;"),
      (error: unknown) => error instanceof SqlScriptError && error.line === 3 && error.code === "42P01",
    );
  });
});

describe("fingerprints", () => {
  test("Pagila's tables are identical on 14 and 17", async () => {
    const old = instance(14).pagila;
    const recent = instance(17).pagila;
    const film14 = await tableFingerprint(old, "public", "film");
    const film17 = await tableFingerprint(recent, "public", "film");
    assert.equal(film14.rows, 1000);
    assert.deepEqual(film14, film17);
    await assertTablesIdentical(old, "public", recent, "public");
  });

  test("changing one row changes the fingerprint", async () => {
    const client = instance(17).pagila;
    const before = await tableFingerprint(client, "public", "film");
    await client.query("BEGIN");
    try {
      await client.query("UPDATE public.film SET rental_rate = rental_rate + 0.01 WHERE film_id = 500");
      const changed = await tableFingerprint(client, "public", "film");
      assert.equal(changed.rows, before.rows);
      assert.notEqual(changed.sha256, before.sha256);
      await assert.rejects(
        assertTablesIdentical(instance(14).pagila, "public", client, "public", ["actor", "film"]),
        (error: Error) =>
          /film: .* 1000 rows .* 1000 rows/.test(error.message) && !/actor/.test(error.message),
      );
    } finally {
      await client.query("ROLLBACK");
    }
    assert.deepEqual(await tableFingerprint(client, "public", "film"), before);
  });

  test("NULL and empty string differ; options and odd names", async () => {
    const client = await freshDatabase(17, "odd");
    const schema = 'we "ird".sch€ma';
    await runSqlScript(
      client,
      `CREATE SCHEMA "we ""ird"".sch€ma";
       CREATE TABLE "we ""ird"".sch€ma"."t.1" ("a b" text, "c""d" jsonb, p point, x xml);
       CREATE TABLE "we ""ird"".sch€ma"."t.2" (LIKE "we ""ird"".sch€ma"."t.1");
       INSERT INTO "we ""ird"".sch€ma"."t.1" VALUES (NULL, '{"k": 1}', '(1,2)', '<a/>'), ('x', NULL, NULL, NULL);
       INSERT INTO "we ""ird"".sch€ma"."t.2" VALUES ('', '{"k": 1}', '(1,2)', '<a/>'), ('x', NULL, NULL, NULL);`,
    );
    assert.deepEqual(await listTables(client, schema), ["t.1", "t.2"]);
    const one = await tableFingerprint(client, schema, "t.1");
    const two = await tableFingerprint(client, schema, "t.2");
    assert.equal(one.rows, 2);
    assert.notEqual(one.sha256, two.sha256);
    assert.deepEqual(
      await tableFingerprint(client, schema, "t.1", { excludeColumns: ["a b"] }),
      await tableFingerprint(client, schema, "t.2", { columns: ['c"d', "p", "x"] }),
    );
    await assert.rejects(tableFingerprint(client, schema, "t.1", { excludeColumns: ["nope"] }), /nope/);
    await assert.rejects(tableFingerprint(client, schema, "missing"), /does not exist/);
  });

  test("schema and database fingerprints are stable and see changes", async () => {
    const client = await freshDatabase(17, "fingerprints");
    await loadPagila(client);
    const schemaBefore = await schemaFingerprint(client, "public");
    const databaseBefore = await databaseFingerprint(client);
    assert.equal(await schemaFingerprint(client, "public"), schemaBefore);
    assert.equal(await databaseFingerprint(client), databaseBefore);
    assert.ok(!schemaBefore.includes("public."), "the schema name is normalised out");
    assert.deepEqual(JSON.parse(await schemaFingerprint(client, "nope")), { exists: false });

    // The same structure under another schema name gives the same fingerprint.
    await client.query("ALTER SCHEMA public RENAME TO renamed");
    assert.equal(await schemaFingerprint(client, "renamed"), schemaBefore);
    await client.query("ALTER SCHEMA renamed RENAME TO public");

    await client.query("SELECT nextval('public.actor_actor_id_seq')");
    assert.notEqual(await schemaFingerprint(client, "public"), schemaBefore);
    await client.query("CREATE SCHEMA migrated");
    const afterSequence = await databaseFingerprint(client, ["public"]);
    await client.query("CREATE INDEX ON public.film (length)");
    assert.notEqual(await databaseFingerprint(client, ["public"]), afterSequence);
    await client.query("DELETE FROM public.film_actor WHERE actor_id = 1");
    const databaseAfter = JSON.parse(await databaseFingerprint(client)) as Record<
      string,
      { tables: Record<string, { rows: number }> }
    >;
    assert.equal(databaseAfter.public?.tables.film_actor?.rows, 5462 - 19);
    assert.deepEqual(databaseAfter.migrated?.tables, {});

    await client.query(
      "CREATE TABLE migrated.t (id serial, j int GENERATED ALWAYS AS IDENTITY, g int GENERATED ALWAYS AS (j * 2) STORED)",
    );
    const migrated = JSON.parse(await schemaFingerprint(client, "migrated")) as {
      sequences: Record<string, { owned_by: string }>;
      tables: Record<
        string,
        { columns: { name: string; default: string | null; identity: string; generated: string }[] }
      >;
    };
    assert.equal(migrated.sequences.t_id_seq?.owned_by, "t.id");
    assert.equal(migrated.sequences.t_j_seq?.owned_by, "t.j");
    assert.deepEqual(
      migrated.tables.t?.columns.map(({ name, default: value, identity, generated }) => [
        name,
        value,
        identity,
        generated,
      ]),
      [
        ["id", "nextval('t_id_seq'::regclass)", "", ""],
        ["j", null, "a", ""],
        ["g", "(j * 2)", "", "s"],
      ],
    );
  });
});
