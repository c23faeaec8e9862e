import type pg from "pg";
import { quoteIdent } from "./ident.js";
import { keyHashSql, type KeyColumns } from "./keys.js";
import type { Fingerprint } from "./target-state.js";

/** Keys are spread over this many buckets. */
const BUCKETS = 65536;

/** A `WHERE` condition on the key columns of the table under `alias`. */
export type KeyFilter = (alias?: string) => string;

/** One side of the comparison: a session, the table's `FROM` clause and its qualified name. */
export interface KeySide {
  readonly client: pg.Client;
  readonly from: string;
  readonly relation: string;
  /** pgferry loaded this table with `COPY … FREEZE` (the target), which sets its visibility map on PostgreSQL 14+. */
  readonly frozenByLoad: boolean;
}

export interface KeyNarrowing {
  /**
   * Keeps only the keys of buckets whose count or hash sum differs between the two sides — the only places a key
   * can be missing from the target. `null`: most buckets differ, keep all.
   */
  readonly filter: KeyFilter | null;
  /** Count and hash sum of every source key (the sum of the source's buckets). */
  readonly sourceTotal: Fingerprint;
  /** The query selecting `columns` of the source rows whose key may be missing from the target. */
  readonly sourceCandidatesSql: (columns: string) => string;
}

interface BucketRow {
  b: number;
  count: string;
  sum: string;
}

/**
 * How keys are assigned to buckets; both sides must use the same scheme. Each bucket's print is the count and the
 * sum of `keyHashSql` of its keys, so the buckets add up to the table's fingerprint whatever the scheme.
 */
export interface BucketScheme {
  readonly name: "key-prefix" | "key-hash";
  /** The bucket number (0 to BUCKETS - 1) of the key of the row under `alias`. */
  bucketSql(alias?: string): string;
  /** `(b, count, sum)` of the non-empty buckets of the rows of `side`, by index range scans when `indexed`. */
  printsSql(side: Pick<KeySide, "from">, indexed: boolean): string;
  /** `columns` of the rows of `side` in the buckets `bitmapSql` marks, by index range scans (prefix buckets). */
  selectInBucketsByIndexSql?(side: Pick<KeySide, "from">, bitmapSql: string, columns: string): string;
}

const aggregates = (keys: KeyColumns) => `count(*)::text AS count, sum(${keyHashSql(keys)})::text AS sum`;

/** Any key: the low bits of its 64-bit hash, aggregated by a hash table. */
function keyHashScheme(keys: KeyColumns): BucketScheme {
  const bucketSql = (alias = "") => `((${keyHashSql(keys, alias)}) & ${BUCKETS - 1})::int`;
  return {
    name: "key-hash",
    bucketSql,
    // The hash is computed once per row, for the bucket and the sum.
    printsSql: (side) =>
      `SELECT (h & ${BUCKETS - 1})::int AS b, count(*)::text AS count, sum(h)::text AS sum
         FROM (SELECT ${keyHashSql(keys)} AS h ${side.from}) keys GROUP BY 1`,
  };
}

/**
 * A single uuid key: its first 16 bits, so that a bucket is a range of the primary key index. Random (v4) UUIDs
 * fill the buckets evenly; time-ordered ones ascend and take the watermark path instead. Summing 65,536 index
 * ranges, when the index answers without visiting the heap, costs about half as much as a 65,536-group hash
 * aggregate over the table.
 */
function uuidPrefixScheme(keys: KeyColumns, column: string): BucketScheme {
  const bucketSql = (alias = "") => {
    const bytes = `uuid_send(${alias ? `${alias}.` : ""}${quoteIdent(column)})`;
    return `(get_byte(${bytes}, 0) << 8 | get_byte(${bytes}, 1))`;
  };
  const bound = (fill: string) => `(lpad(to_hex(b), 4, '0') || '${fill}')::uuid`;
  const inBucket = `${quoteIdent(column)} BETWEEN ${bound("0000-0000-0000-0000-000000000000")}
                                        AND ${bound("ffff-ffff-ffff-ffff-ffffffffffff")}`;
  return {
    name: "key-prefix",
    bucketSql,
    printsSql: (side, indexed) =>
      indexed
        ? `SELECT b, x.count, x.sum FROM generate_series(0, ${BUCKETS - 1}) b CROSS JOIN LATERAL (
             SELECT ${aggregates(keys)} ${side.from} WHERE ${inBucket}) x
            WHERE x.count <> '0'`
        : `SELECT ${bucketSql()} AS b, ${aggregates(keys)} ${side.from} GROUP BY 1`,
    selectInBucketsByIndexSql: (side, bitmapSql, columns) =>
      `SELECT x.* FROM generate_series(0, ${BUCKETS - 1}) b CROSS JOIN LATERAL (
         SELECT ${columns} ${side.from} WHERE ${inBucket}) x
        WHERE get_bit(${bitmapSql}, b) = 1`,
  };
}

export function bucketSchemeOf(keys: KeyColumns): BucketScheme {
  const only = keys.length === 1 ? keys[0] : undefined;
  return only?.type === "uuid" ? uuidPrefixScheme(keys, only.name) : keyHashScheme(keys);
}

/**
 * Whether index range scans can answer from the index alone: the visibility map marks at least 80% of the table
 * all-visible (as last recorded by VACUUM or ANALYZE), or pgferry's own frozen load set it and nothing has
 * recorded otherwise since. Otherwise every key would cost a heap visit, in key order: a hash aggregate is cheaper.
 */
async function indexAnswersAlone(side: KeySide): Promise<boolean> {
  const { rows } = await side.client.query<{ pages: number; visible: number; version: number }>(
    `SELECT relpages AS pages, relallvisible AS visible, current_setting('server_version_num')::int AS version
       FROM pg_class WHERE oid = $1::regclass AND relkind = 'r'`,
    [side.relation],
  );
  const row = rows[0];
  if (!row) return false;
  if (row.pages > 0) return row.visible >= 0.8 * row.pages;
  return side.frozenByLoad && row.version >= 140000;
}

async function bucketPrints(
  side: KeySide,
  scheme: BucketScheme,
): Promise<{ rows: BucketRow[]; indexed: boolean }> {
  const indexed = scheme.name === "key-prefix" && (await indexAnswersAlone(side));
  // 65,536 index range scans look expensive enough to the planner to be compiled by JIT, which takes longer than
  // the query (the setting lasts until the table's transaction ends).
  if (indexed) await side.client.query("SET LOCAL jit = off");
  const { rows } = await side.client.query<BucketRow>(scheme.printsSql(side, indexed));
  return { rows, indexed };
}

/**
 * Before comparing every key, compares per-bucket fingerprints of the keys on both servers (at the same time; at
 * most 65,536 small rows come back, whatever the table size). Scattered new keys — random UUIDs, say — touch a
 * small share of the buckets, so only that share of the source's keys has to travel and be anti-joined.
 */
export async function narrowByBuckets(
  source: KeySide,
  target: KeySide,
  keys: KeyColumns,
): Promise<KeyNarrowing> {
  const scheme = bucketSchemeOf(keys);
  const [sourceBuckets, targetBuckets] = await Promise.all([
    bucketPrints(source, scheme),
    bucketPrints(target, scheme),
  ]);
  const targetByBucket = new Map(targetBuckets.rows.map((row) => [row.b, row]));
  const bitmap = Buffer.alloc(BUCKETS / 8);
  let differing = 0;
  let count = 0n;
  let sum = 0n;
  for (const row of sourceBuckets.rows) {
    count += BigInt(row.count);
    sum += BigInt(row.sum);
    const other = targetByBucket.get(row.b);
    if (other?.count === row.count && other.sum === row.sum) continue;
    differing += 1;
    // get_bit(bytea, n) numbers bits from the least significant bit of the first byte.
    bitmap[row.b >> 3] = (bitmap[row.b >> 3] ?? 0) | (1 << (row.b & 7));
  }
  const sourceTotal = { count: count.toString(), sum: sum.toString() };
  if (differing > BUCKETS / 2) {
    return {
      filter: null,
      sourceTotal,
      sourceCandidatesSql: (columns) => `SELECT ${columns} ${source.from}`,
    };
  }
  // A bytea bitmap makes the test O(1) per row on every version (a long IN list is hashed only from PG 14 on).
  const bitmapSql = `decode('${bitmap.toString("hex")}', 'hex')`;
  const filter: KeyFilter = (alias = "") => `get_bit(${bitmapSql}, ${scheme.bucketSql(alias)}) = 1`;
  const byIndex = sourceBuckets.indexed ? scheme.selectInBucketsByIndexSql : undefined;
  return {
    filter,
    sourceTotal,
    sourceCandidatesSql: (columns) =>
      byIndex ? byIndex(source, bitmapSql, columns) : `SELECT ${columns} ${source.from} WHERE ${filter()}`,
  };
}
