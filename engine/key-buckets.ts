import type pg from "pg";
import { keyHashSql, type KeyColumns } from "./keys.js";
import type { Fingerprint } from "./target-state.js";

/** Keys are spread over this many buckets by the low bits of their 64-bit hash. */
const BUCKETS = 65536;

export interface KeyNarrowing {
  /**
   * A `WHERE` condition on the source that keeps only the keys of buckets whose count or hash sum differs between
   * the two sides — the only places a key can be missing from the target. `null`: most buckets differ, keep all.
   */
  readonly sourceFilter: string | null;
  /** Count and hash sum of every source key (the sum of the source's buckets). */
  readonly sourceTotal: Fingerprint;
}

interface BucketRow {
  b: number;
  count: string;
  sum: string;
}

async function bucketPrints(client: pg.Client, fromWhere: string, keys: KeyColumns): Promise<BucketRow[]> {
  const { rows } = await client.query<BucketRow>(
    `SELECT (h & ${BUCKETS - 1})::int AS b, count(*)::text AS count, sum(h)::text AS sum
       FROM (SELECT ${keyHashSql(keys)} AS h ${fromWhere}) keys GROUP BY 1`,
  );
  return rows;
}

/**
 * Before comparing every key, compares per-bucket fingerprints of the keys on both servers (at the same time; at
 * most 65,536 small rows come back, whatever the table size). Scattered new keys — random UUIDs, say — touch a
 * small share of the buckets, so only that share of the source's keys has to travel and be anti-joined.
 */
export async function narrowByBuckets(
  source: pg.Client,
  destination: pg.Client,
  sourceFrom: string,
  targetFrom: string,
  keys: KeyColumns,
): Promise<KeyNarrowing> {
  const [sourceBuckets, targetBuckets] = await Promise.all([
    bucketPrints(source, sourceFrom, keys),
    bucketPrints(destination, targetFrom, keys),
  ]);
  const target = new Map(targetBuckets.map((row) => [row.b, row]));
  const bitmap = Buffer.alloc(BUCKETS / 8);
  let differing = 0;
  let count = 0n;
  let sum = 0n;
  for (const row of sourceBuckets) {
    count += BigInt(row.count);
    sum += BigInt(row.sum);
    const other = target.get(row.b);
    if (other?.count === row.count && other.sum === row.sum) continue;
    differing += 1;
    // get_bit(bytea, n) numbers bits from the least significant bit of the first byte.
    bitmap[row.b >> 3] = (bitmap[row.b >> 3] ?? 0) | (1 << (row.b & 7));
  }
  const sourceTotal = { count: count.toString(), sum: sum.toString() };
  if (differing > BUCKETS / 2) return { sourceFilter: null, sourceTotal };
  // A bytea bitmap makes the test O(1) per row on every version (a long IN list is hashed only from PG 14 on).
  const sourceFilter = `get_bit(decode('${bitmap.toString("hex")}', 'hex'), ((${keyHashSql(keys)}) & ${BUCKETS - 1})::int) = 1`;
  return { sourceFilter, sourceTotal };
}
