import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { run } from "../engine/index.js";
import { assertTablesIdentical, tableFingerprint } from "./support/compare.js";
import { createDatabase, type Major, type TestDatabase } from "./support/servers.js";
import { makeSpec } from "./support/spec.js";

const TYPES_SQL = `
  CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy', 'it''s "complicated"');
  CREATE DOMAIN positive_int AS integer CHECK (VALUE > 0);
  CREATE DOMAIN short_text AS varchar(20) NOT NULL DEFAULT 'x';
  CREATE TYPE address AS (street text, number int, tags text[]);
  CREATE TYPE float_range AS RANGE (SUBTYPE = float8);
  CREATE TABLE every_type (
    id int PRIMARY KEY,
    n numeric(30, 10), n_free numeric, r real, d double precision, small smallint, big bigint,
    money_col money, bool_col boolean,
    ts timestamp(6), tstz timestamptz, dt date, t time, ttz timetz, iv interval,
    js json, jb jsonb, x xml,
    arr int[], arr2 text[][], arr_mood mood[], arr_addr address[],
    rng int4range, drng daterange, tsr tstzrange, frng float_range,
    by bytea, u uuid, ip inet, net cidr, mac macaddr, b bit(5), vb varbit,
    m mood, p positive_int, s short_text, a address,
    tv tsvector, tq tsquery, pt point, bx box, c char(3), vc varchar(10), txt text, nm name, o oid
  );
  INSERT INTO every_type VALUES
  (1, 12345678901234567890.0123456789, 'NaN', 'Infinity', '-Infinity', -32768, 9223372036854775807,
   '$1,234.56', true,
   '2024-02-29 23:59:59.999999', '2024-06-01 12:00:00.123456+05:30', '0001-01-01', '24:00:00', '12:34:56.789+02', '1 year 2 mons -3 days 04:05:06.7',
   '{"b": 1, "a": [1, 2.50, null], "dup": 1, "dup": 2}', '{"b": 1, "a": [1, 2.50, null]}', '<doc a="1">text &amp; more</doc>',
   '{1,NULL,3}', '{{"a b","c\\"d"},{"e,f","NULL"}}', '{sad,happy,"it''s \\"complicated\\""}',
   ARRAY[ROW('Main St', 1, '{x,y}')::address, NULL],
   '[1,10)', '[2024-01-01,infinity)', '(,"2024-01-01 00:00:00+00"]', '[1.5,2.5]',
   '\\x00ff5c0a0d09', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '192.168.0.1/24', '10.0.0.0/8', '08:00:2b:01:02:03', B'10101', B'1',
   'it''s "complicated"', 42, 'short', ROW('Elm "St"', 2, '{"q,r",NULL}'),
   'a fat cat:1A sat', 'fat & (rat | cat)', '(1.5,-2)', '((0,0),(1,1))', 'ab', 'hello', 'x', 'nm', 12345),
  (2, -0.0000000001, 0, 'NaN', 1.0e-300, 0, -9223372036854775808,
   '-0.01', false,
   'infinity', '-infinity', 'infinity', '00:00:00', '00:00:00+00', '-178000000 years',
   'null', '"string"', '<a/>',
   '{}', '{}', '{}', '{}',
   'empty', 'empty', 'empty', 'empty',
   '\\x', '00000000-0000-0000-0000-000000000000', '::1', '::/0', '00:00:00:00:00:00', B'00000', B'',
   'sad', 1, '', ROW(NULL, NULL, NULL),
   '', '!a', '(0,0)', '((0,0),(0,0))', '', '', '', '', 0),
  (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
   NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 3, DEFAULT, NULL, NULL,
   NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
  -- The text-format escaping traps: tabs, newlines, carriage returns, backslashes, the literal \\N, empty vs NULL.
  CREATE TABLE escapes (id int PRIMARY KEY, v text, arr text[]);
  INSERT INTO escapes VALUES
    (1, E'tab\\there', ARRAY[E'new\\nline', E'cr\\rhere']), (2, E'back\\\\slash', ARRAY['\\N', 'N']),
    (3, '\\N', ARRAY['', NULL]), (4, '', '{}'), (5, NULL, NULL), (6, E'\\\\.', ARRAY[E'\\\\.']),
    (7, 'ünïcødé ✓ 𝄞', ARRAY['"', '{', '}', ',', ' lead', 'trail ']);`;

for (const sourceMajor of [17, 14] as Major[]) {
  describe(`type round trip, PostgreSQL ${sourceMajor} → 17`, () => {
    let source: TestDatabase;
    let destination: TestDatabase;

    before(async () => {
      [source, destination] = await Promise.all([
        createDatabase(sourceMajor, "types"),
        createDatabase(17, "types_dst"),
      ]);
      await source.client.query(TYPES_SQL);
    });
    after(async () => {
      await Promise.all([source?.drop(), destination?.drop()]);
    });

    test("every common type and every escaping trap survives a full copy exactly", async () => {
      const report = await run(makeSpec(source.config, destination.config));
      assert.equal(report.totals.tablesFailed, 0, JSON.stringify(report.tables, null, 2));
      await assertTablesIdentical(source.client, "public", destination.client, "migrated");
      const formats = Object.fromEntries(report.tables.map((t) => [t.name, t.copyFormat]));
      // Arrays and composites of user types carry type OIDs in binary form: those tables go as text.
      assert.deepEqual(formats, { every_type: "text", escapes: "binary" });
    });

    test("values compare equal as values too, not only as text", async () => {
      const checks = [
        "SELECT n::text, n_free::text, r::text, d::text, money_col::numeric::text, iv::text FROM %s.every_type ORDER BY id",
        "SELECT jb::text, js::text, x::text, arr_mood::text, a::text, arr_addr::text FROM %s.every_type ORDER BY id",
        "SELECT v, arr, v IS NULL AS is_null FROM %s.escapes ORDER BY id",
      ];
      for (const sql of checks) {
        const expected = await source.client.query(sql.replace("%s", "public"));
        const actual = await destination.client.query(sql.replace("%s", "migrated"));
        assert.deepEqual(actual.rows, expected.rows);
      }
    });

    test("a domain's constraint and default and the enum's label order are recreated", async () => {
      const domain = await destination.client.query<{ def: string | null; checks: string[] }>(
        `SELECT t.typdefault AS def, ARRAY(SELECT pg_get_constraintdef(c.oid) FROM pg_constraint c WHERE c.contypid = t.oid) AS checks
           FROM pg_type t WHERE t.oid = 'migrated.short_text'::regtype`,
      );
      assert.equal(domain.rows[0]?.def, "'x'::character varying");
      await assert.rejects(
        destination.client.query("SELECT (-1)::migrated.positive_int"),
        /violates check constraint/,
      );
      const labels = await destination.client.query<{ l: string[] }>(
        "SELECT enum_range(NULL::migrated.mood)::text[] AS l",
      );
      assert.deepEqual(labels.rows[0]?.l, ["sad", "ok", "happy", `it's "complicated"`]);
      assert.deepEqual(
        await tableFingerprint(destination.client, "migrated", "escapes"),
        await tableFingerprint(source.client, "public", "escapes"),
      );
    });
  });
}
