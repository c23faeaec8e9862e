import { quoteIdent, quoteLiteral } from "./ident.js";
import type { ColumnDef } from "./model.js";

/** The primary key columns of a table, with their source types, in key order. */
export type KeyColumns = readonly Pick<ColumnDef, "name" | "type">[];

const INTEGER_TYPES = new Set(["smallint", "integer", "bigint"]);

/**
 * One 64-bit hash per key, the same on every PostgreSQL version (these are the hash-partitioning functions, which
 * must stay stable across upgrades). Columns are hashed with different seeds and combined with XOR, so (a, b)
 * and (b, a) differ. Text forms depend on DateStyle/TimeZone/extra_float_digits, which both sessions pin.
 */
export function keyHashSql(keys: KeyColumns, alias = ""): string {
  const prefix = alias ? `${alias}.` : "";
  return keys
    .map((key, seed) => {
      const column = `${prefix}${quoteIdent(key.name)}`;
      if (INTEGER_TYPES.has(key.type)) return `hashint8extended(${column}::int8, ${seed})`;
      if (key.type === "uuid") return `uuid_hash_extended(${column}, ${seed})`;
      return `hashtextextended(${column}::text, ${seed})`;
    })
    .join(" # ");
}

export function keyTupleSql(keys: KeyColumns, alias = ""): string {
  const prefix = alias ? `${alias}.` : "";
  const list = keys.map((key) => `${prefix}${quoteIdent(key.name)}`).join(", ");
  return keys.length === 1 ? list : `(${list})`;
}

/** A key value given as the text of each column, as a typed SQL literal (row constructor for composite keys). */
export function keyLiteralSql(keys: KeyColumns, values: readonly string[]): string {
  const literals = keys.map((key, i) => `${quoteLiteral(values[i] ?? "")}::${key.type}`);
  return keys.length === 1 ? (literals[0] ?? "") : `(${literals.join(", ")})`;
}

export function keyOrderSql(keys: KeyColumns, direction: "ASC" | "DESC"): string {
  return keys.map((key) => `${quoteIdent(key.name)} ${direction}`).join(", ");
}

export function keyTextColumnsSql(keys: KeyColumns, alias = ""): string {
  const prefix = alias ? `${alias}.` : "";
  return keys.map((key, i) => `${prefix}${quoteIdent(key.name)}::text AS k${i}`).join(", ");
}

/** `WHERE`-ready membership test of the key in a list of keys given as text. */
export function keyInListSql(keys: KeyColumns, rows: readonly (readonly string[])[]): string {
  return `${keyTupleSql(keys)} IN (${rows.map((values) => keyLiteralSql(keys, values)).join(", ")})`;
}
