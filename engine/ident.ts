/**
 * The one place identifiers and literals become SQL text. A table is a `TableRef`, never a dotted string: a
 * table may well be named `a.b`.
 */

export interface TableRef {
  readonly schema: string;
  readonly name: string;
}

export function quoteIdent(name: string): string {
  if (name.length === 0) throw new Error("an SQL identifier cannot be empty");
  if (name.includes("\0")) throw new Error("an SQL identifier cannot contain a NUL character");
  return `"${name.replaceAll('"', '""')}"`;
}

export function qualify(ref: TableRef): string {
  return `${quoteIdent(ref.schema)}.${quoteIdent(ref.name)}`;
}

export function quoteIdentList(names: readonly string[]): string {
  return names.map(quoteIdent).join(", ");
}

/**
 * A string literal that is correct whatever `standard_conforming_strings` says: with a backslash present it is
 * written as an escape string (E'…') with backslashes doubled, as libpq's PQescapeLiteral does.
 */
export function quoteLiteral(value: string): string {
  if (value.includes("\0")) throw new Error("an SQL literal cannot contain a NUL character");
  const escaped = value.replaceAll("'", "''");
  return value.includes("\\") ? ` E'${escaped.replaceAll("\\", "\\\\")}'` : `'${escaped}'`;
}
