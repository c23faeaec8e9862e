/**
 * The bucket comparison behind the anti-join: a uuid key's buckets are ranges of its first 16 bits, read by index
 * range scans or by a hash aggregate depending on the visibility map; both ways must give the same prints, and the
 * candidates they select must contain every missing key.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { bucketSchemeOf, narrowByBuckets, type KeySide } from "../engine/key-buckets.js";
import { keyHashSql, type KeyColumns } from "../engine/keys.js";
import { createDatabase, type TestDatabase } from "./support/servers.js";

const UUID_KEY: KeyColumns = [{ name: "id", type: "uuid" }];
const TEXT_INT_KEY: KeyColumns = [
  { name: "code", type: "text" },
  { name: "n", type: "integer" },
];

describe("key buckets", () => {
  let source: TestDatabase;
  let destination: TestDatabase;

  before(async () => {
    [source, destination] = await Promise.all([createDatabase(14, "kb_src"), createDatabase(17, "kb_dst")]);
    const setup = `
      CREATE TABLE tokens (id uuid PRIMARY KEY, n int);
      CREATE TABLE tokens_fresh (id uuid PRIMARY KEY, n int);
      CREATE TABLE coded (code text, n int, PRIMARY KEY (code, n));`;
    await Promise.all([source.client.query(setup), destination.client.query(setup)]);
    await source.client.query(`
      INSERT INTO tokens SELECT md5('t' || g)::uuid, g FROM generate_series(1, 20000) g;
      -- The extremes of the key space, where bucket bounds are easiest to get wrong.
      INSERT INTO tokens VALUES ('00000000-0000-0000-0000-000000000000', 0),
                                ('ffffffff-ffff-ffff-ffff-ffffffffffff', -1);
      INSERT INTO coded SELECT 'c' || (g % 97), g FROM generate_series(1, 5000) g;`);
    await source.client.query("VACUUM ANALYZE tokens, coded");
    // Never vacuumed: its visibility map is empty, so the source reads its buckets by hash aggregate.
    await source.client.query("INSERT INTO tokens_fresh SELECT * FROM tokens");
  });
  after(async () => {
    await Promise.all([source?.drop(), destination?.drop()]);
  });

  const side = (database: TestDatabase, table: string): KeySide => ({
    client: database.client,
    from: `FROM public.${table}`,
    relation: `public.${table}`,
    frozenByLoad: false,
  });

  test("a uuid key's prints are the same by index ranges and by hash aggregate, and add up to the table's", async () => {
    const scheme = bucketSchemeOf(UUID_KEY);
    assert.equal(scheme.name, "key-prefix");
    const prints = async (indexed: boolean) => {
      const { rows } = await source.client.query<{ b: number; count: string; sum: string }>(
        `${scheme.printsSql(side(source, "tokens"), indexed)} ORDER BY 1`,
      );
      return rows.map((row) => `${row.b}:${row.count}:${row.sum}`);
    };
    const [byRanges, byHash] = [await prints(true), await prints(false)];
    assert.ok(byRanges.length > 10_000, `${byRanges.length} non-empty buckets`);
    assert.deepEqual(byRanges, byHash);
    assert.ok(byRanges[0]?.startsWith("0:"), "the lowest uuid is in bucket 0");
    assert.ok(byRanges.at(-1)?.startsWith("65535:"), "the highest uuid is in bucket 65535");

    const total = byRanges.reduce(
      (sum, row) => {
        const [, count, hash] = row.split(":");
        return { count: sum.count + BigInt(count ?? 0), sum: sum.sum + BigInt(hash ?? 0) };
      },
      { count: 0n, sum: 0n },
    );
    const { rows } = await source.client.query<{ count: string; sum: string }>(
      `SELECT count(*)::text AS count, sum(${keyHashSql(UUID_KEY)})::text AS sum FROM tokens`,
    );
    assert.deepEqual({ count: total.count.toString(), sum: total.sum.toString() }, rows[0]);
  });

  for (const [name, keys, table, columns] of [
    ["uuid", UUID_KEY, "tokens", "id"],
    ["uuid (table never vacuumed)", UUID_KEY, "tokens_fresh", "id"],
    ["composite text and integer", TEXT_INT_KEY, "coded", "code, n"],
  ] as const) {
    test(`${name} key: the candidates hold every missing key and few others`, async () => {
      // The target: all source rows but a scattered 40, plus one row the source no longer has.
      await destination.client.query(`TRUNCATE ${table}`);
      const { rows: sourceRows } = await source.client.query<Record<string, string>>(
        `SELECT ${columns} FROM ${table}`,
      );
      const keyOf = (row: Record<string, unknown>) =>
        columns
          .split(", ")
          .map((c) => String(row[c]))
          .join("|");
      const missing = new Set(sourceRows.filter((_, i) => i % 500 === 7).map(keyOf));
      const kept = sourceRows.filter((row) => !missing.has(keyOf(row)));
      const values = kept.map((row) =>
        columns
          .split(", ")
          .map((c) => `'${String(row[c])}'`)
          .join(", "),
      );
      await destination.client.query(
        `INSERT INTO ${table} (${columns}) VALUES ${values.map((v) => `(${v})`).join(", ")}`,
      );
      await destination.client.query(
        table !== "coded"
          ? `INSERT INTO ${table} VALUES ('12345678-0000-0000-0000-000000000000', 1)`
          : "INSERT INTO coded VALUES ('gone', 1)",
      );
      await destination.client.query(`VACUUM ANALYZE ${table}`);

      const narrowing = await narrowByBuckets(side(source, table), side(destination, table), keys);
      assert.equal(narrowing.sourceTotal.count, String(sourceRows.length));
      const { rows: candidates } = await source.client.query<Record<string, string>>(
        narrowing.sourceCandidatesSql(columns),
      );
      const candidateKeys = new Set(candidates.map(keyOf));
      for (const key of missing) assert.ok(candidateKeys.has(key), `missing key ${key} is a candidate`);
      assert.ok(candidates.length < sourceRows.length / 4, `${candidates.length} candidates`);
      assert.ok(narrowing.filter, "narrowed");
      const { rows: filtered } = await destination.client.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM ${table} t WHERE ${narrowing.filter("t")}`,
      );
      assert.ok((filtered[0]?.n ?? 0) < sourceRows.length / 4);
    });
  }
});
