/**
 * Helpers proving that tables, schemas and databases are identical, within or across servers, without loading
 * table contents in memory.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import type pg from "pg";
import { to as copyTo } from "pg-copy-streams";

/** Row count and SHA-256 of a table's contents, see {@link tableFingerprint}. */
export interface TableFingerprint {
  rows: number;
  sha256: string;
}

export interface TableFingerprintOptions {
  /** Columns to include, in this order; default: every column, by position. */
  columns?: string[];
  /** Columns to leave out (they must exist). */
  excludeColumns?: string[];
}

/**
 * Session settings under which text output is deterministic across servers and versions. Beyond the usual ones,
 * `lc_monetary` fixes the output of `money` and an empty `search_path` makes `regclass`-like values always
 * schema-qualified.
 */
const DETERMINISTIC_SETTINGS: Record<string, string> = {
  DateStyle: "ISO, YMD",
  IntervalStyle: "postgres",
  TimeZone: "UTC",
  extra_float_digits: "3",
  bytea_output: "hex",
  client_encoding: "UTF8",
  lc_monetary: "C",
  search_path: "",
};

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Runs `body` with session settings changed, restoring the previous values afterwards. */
async function withSettings<T>(
  client: pg.Client,
  settings: Record<string, string>,
  body: () => Promise<T>,
): Promise<T> {
  const names = Object.keys(settings);
  const select = (pairs: number) =>
    `SELECT ${Array.from({ length: pairs }, (_, i) => `pg_catalog.set_config($${2 * i + 1}, $${2 * i + 2}, false)`).join(", ")}`;
  const saved = await client.query<string[]>({
    text: `SELECT ${names.map((_, i) => `pg_catalog.current_setting($${i + 1})`).join(", ")}`,
    values: names,
    rowMode: "array",
  });
  const previous = saved.rows[0] ?? [];
  await client.query(
    select(names.length),
    names.flatMap((name) => [name, settings[name]]),
  );
  let failed = false;
  try {
    return await body();
  } catch (error) {
    failed = true;
    throw error;
  } finally {
    // In an aborted transaction the restore fails too: keep the original error then.
    await client
      .query(
        select(names.length),
        names.flatMap((name, i) => [name, previous[i]]),
      )
      .catch((error: unknown) => {
        if (!failed) throw error;
      });
  }
}

/**
 * Fingerprints a table's contents: streams `COPY (SELECT <columns> FROM <table> ORDER BY <every column>::text
 * COLLATE "C") TO STDOUT` (text format, deterministic session settings) through SHA-256. The order is total and the
 * same on every server, whatever the column types (json, point, …): rows that sort equal print equal. Partitioned
 * tables include their partitions' rows; for an ordinary table only its own rows count (`FROM ONLY`, not those of
 * inheritance children). Also works for views. Rejects when the table does not exist.
 */
export async function tableFingerprint(
  client: pg.Client,
  schema: string,
  table: string,
  options: TableFingerprintOptions = {},
): Promise<TableFingerprint> {
  const described = await describeRelation(client, schema, table);
  let columns = options.columns ?? described.columns;
  for (const excluded of options.excludeColumns ?? []) {
    if (!described.columns.includes(excluded)) {
      throw new Error(
        `Cannot exclude column ${JSON.stringify(excluded)}: ${schema}.${table} has no such column`,
      );
    }
  }
  if (options.excludeColumns) columns = columns.filter((name) => !options.excludeColumns?.includes(name));
  const quoted = columns.map(quoteIdent);
  const only = described.relkind === "r" ? "ONLY " : "";
  const orderBy = quoted.length
    ? ` ORDER BY ${quoted.map((column) => `(${column})::pg_catalog.text COLLATE "C"`).join(", ")}`
    : "";
  const sql = `COPY (SELECT ${quoted.join(", ")} FROM ${only}${quoteIdent(schema)}.${quoteIdent(table)}${orderBy}) TO STDOUT`;
  return withSettings(client, DETERMINISTIC_SETTINGS, async () => {
    const hash = createHash("sha256");
    let rows = 0;
    for await (const chunk of client.query(copyTo(sql)) as AsyncIterable<Buffer>) {
      hash.update(chunk);
      // In text format every row is one line: newlines inside values are escaped as \n.
      for (let at = chunk.indexOf(0x0a); at !== -1; at = chunk.indexOf(0x0a, at + 1)) rows++;
    }
    return { rows, sha256: hash.digest("hex") };
  });
}

async function describeRelation(
  client: pg.Client,
  schema: string,
  table: string,
): Promise<{ relkind: string; columns: string[] }> {
  const result = await client.query<{ relkind: string; attname: string | null }>(
    `SELECT c.relkind, a.attname
       FROM pg_catalog.pg_class c
       JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
       LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
      WHERE n.nspname = $1 AND c.relname = $2
      ORDER BY a.attnum`,
    [schema, table],
  );
  const first = result.rows[0];
  if (!first) throw new Error(`Table ${JSON.stringify(schema)}.${JSON.stringify(table)} does not exist`);
  return {
    relkind: first.relkind,
    columns: result.rows.flatMap((row) => (row.attname === null ? [] : [row.attname])),
  };
}

/** Names of a schema's ordinary and partitioned tables (not partitions), sorted bytewise. */
export async function listTables(client: pg.Client, schema: string): Promise<string[]> {
  const result = await client.query<{ relname: string }>(
    `SELECT c.relname
       FROM pg_catalog.pg_class c
       JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND NOT c.relispartition
      ORDER BY c.relname COLLATE "C"`,
    [schema],
  );
  return result.rows.map((row) => row.relname);
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function groupBy<Row extends Record<string, unknown>>(rows: Row[], key: keyof Row): Map<unknown, Row[]> {
  const groups = new Map<unknown, Row[]>();
  for (const row of rows) {
    const group = groups.get(row[key]);
    if (group) group.push(row);
    else groups.set(row[key], [row]);
  }
  return groups;
}

function withoutKey<Row extends Record<string, unknown>>(row: Row, key: keyof Row): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...row };
  delete copy[key as string];
  return copy;
}

/**
 * A stable, pretty-printed JSON description of a schema's structure: the schema's owner and privileges; tables,
 * partitions, foreign tables, views and materialized views (kind, owner, privileges, options, partitioning,
 * inheritance, view definition, columns with type, NOT NULL, default, identity, generation and collation,
 * constraints, indexes, triggers); sequences (parameters, owner, OWNED BY and last value); functions and procedures
 * (definitions); types (enums, domains, composites, ranges). Object names are sorted bytewise and the schema's own
 * name is removed from definitions (`public.film` → `film`), so two schemas with the same structure can be
 * compared. Compare fingerprints taken on the same PostgreSQL major version. `{ "exists": false }` for a missing
 * schema.
 */
export async function schemaFingerprint(client: pg.Client, schema: string): Promise<string> {
  return withSettings(client, DETERMINISTIC_SETTINGS, async () => {
    const value = await describeSchema(client, schema);
    const prefix = (
      await client.query<{ prefix: string }>(`SELECT pg_catalog.quote_ident($1) || '.' AS prefix`, [schema])
    ).rows[0]?.prefix;
    const pattern = prefix
      ? new RegExp(
          `${prefix.startsWith('"') ? "" : "(?<![\\w$\\u0080-\\uffff])"}${prefix.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`,
          "g",
        )
      : undefined;
    const normalise = (item: Json): Json => {
      if (typeof item === "string") return pattern ? item.replace(pattern, "") : item;
      if (Array.isArray(item)) return item.map(normalise);
      if (item && typeof item === "object") {
        return Object.fromEntries(Object.entries(item).map(([key, entry]) => [key, normalise(entry)]));
      }
      return item;
    };
    return JSON.stringify(normalise(value), null, 1);
  });
}

async function describeSchema(client: pg.Client, schema: string): Promise<Json> {
  const query = async (sql: string) => (await client.query<Record<string, Json>>(sql, [schema])).rows;
  const namespace = await query(
    `SELECT pg_catalog.pg_get_userbyid(nspowner) AS owner, nspacl::text AS acl
       FROM pg_catalog.pg_namespace WHERE nspname = $1`,
  );
  if (!namespace[0]) return { exists: false };

  const relations = await query(
    `SELECT c.oid::int8::text AS oid, c.relname AS name, c.relkind AS kind, c.relpersistence AS persistence,
            pg_catalog.pg_get_userbyid(c.relowner) AS owner, c.relacl::text AS acl, c.reloptions::text AS options,
            CASE WHEN c.relkind = 'p' THEN pg_catalog.pg_get_partkeydef(c.oid) END AS partition_key,
            CASE WHEN c.relispartition THEN pg_catalog.pg_get_expr(c.relpartbound, c.oid) END AS partition_bound,
            (SELECT pg_catalog.array_agg(i.inhparent::pg_catalog.regclass::text ORDER BY i.inhseqno)
               FROM pg_catalog.pg_inherits i WHERE i.inhrelid = c.oid) AS parents,
            CASE WHEN c.relkind IN ('v', 'm') THEN pg_catalog.pg_get_viewdef(c.oid) END AS definition
       FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'f', 'v', 'm')
      ORDER BY c.relname COLLATE "C"`,
  );
  const columns = groupBy(
    await query(
      `SELECT c.oid::int8::text AS oid, a.attname AS name, pg_catalog.format_type(a.atttypid, a.atttypmod) AS type,
              a.attnotnull AS not_null, pg_catalog.pg_get_expr(d.adbin, d.adrelid) AS default,
              a.attidentity AS identity, a.attgenerated AS generated,
              CASE WHEN a.attcollation <> t.typcollation
                   THEN pg_catalog.quote_ident(cn.nspname) || '.' || pg_catalog.quote_ident(co.collname) END
                AS collation
         FROM pg_catalog.pg_attribute a
         JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
         JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
         LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
         LEFT JOIN pg_catalog.pg_collation co ON co.oid = a.attcollation
         LEFT JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace
        WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'f', 'v', 'm') AND a.attnum > 0 AND NOT a.attisdropped
        ORDER BY a.attnum`,
    ),
    "oid",
  );
  const constraints = groupBy(
    await query(
      `SELECT c.oid::int8::text AS oid, co.conname AS name, pg_catalog.pg_get_constraintdef(co.oid) AS definition
         FROM pg_catalog.pg_constraint co
         JOIN pg_catalog.pg_class c ON c.oid = co.conrelid
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1
        ORDER BY co.conname COLLATE "C", co.contype`,
    ),
    "oid",
  );
  const indexes = groupBy(
    await query(
      `SELECT c.oid::int8::text AS oid, ic.relname AS name, pg_catalog.pg_get_indexdef(i.indexrelid) AS definition
         FROM pg_catalog.pg_index i
         JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
         JOIN pg_catalog.pg_class c ON c.oid = i.indrelid
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1
        ORDER BY ic.relname COLLATE "C"`,
    ),
    "oid",
  );
  const triggers = groupBy(
    await query(
      `SELECT c.oid::int8::text AS oid, tg.tgname AS name, pg_catalog.pg_get_triggerdef(tg.oid) AS definition,
              tg.tgenabled AS enabled
         FROM pg_catalog.pg_trigger tg
         JOIN pg_catalog.pg_class c ON c.oid = tg.tgrelid
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND NOT tg.tgisinternal
        ORDER BY tg.tgname COLLATE "C"`,
    ),
    "oid",
  );
  const byName = <Row extends Record<string, Json>>(rows: Row[] | undefined) =>
    Object.fromEntries(
      (rows ?? []).map((row) => [row.name as string, withoutKey(withoutKey(row, "oid"), "name")]),
    );

  const tables: Record<string, Json> = {};
  for (const relation of relations) {
    const oid = relation.oid;
    tables[relation.name as string] = {
      ...(withoutKey(withoutKey(relation, "oid"), "name") as Record<string, Json>),
      columns: (columns.get(oid) ?? []).map((column) => withoutKey(column, "oid") as Record<string, Json>),
      constraints: byName(constraints.get(oid)) as Record<string, Json>,
      indexes: byName(indexes.get(oid)) as Record<string, Json>,
      triggers: byName(triggers.get(oid)) as Record<string, Json>,
    };
  }

  const sequences = await query(
    `SELECT c.relname AS name, pg_catalog.format_type(s.seqtypid, NULL) AS type, s.seqstart::text AS start,
            s.seqincrement::text AS increment, s.seqmin::text AS min, s.seqmax::text AS max,
            s.seqcache::text AS cache, s.seqcycle AS cycle, c.relpersistence AS persistence,
            pg_catalog.pg_get_userbyid(c.relowner) AS owner, c.relacl::text AS acl,
            (SELECT pg_catalog.quote_ident(tn.nspname) || '.' || pg_catalog.quote_ident(t.relname) || '.'
                    || pg_catalog.quote_ident(a.attname)
               FROM pg_catalog.pg_depend d
               JOIN pg_catalog.pg_class t ON t.oid = d.refobjid
               JOIN pg_catalog.pg_namespace tn ON tn.oid = t.relnamespace
               JOIN pg_catalog.pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
              WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objid = c.oid
                AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.deptype IN ('a', 'i')
              LIMIT 1) AS owned_by,
            pg_catalog.pg_sequence_last_value(c.oid)::text AS last_value
       FROM pg_catalog.pg_class c
       JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_catalog.pg_sequence s ON s.seqrelid = c.oid
      WHERE n.nspname = $1 AND c.relkind = 'S'
      ORDER BY c.relname COLLATE "C"`,
  );
  const routines = await query(
    `SELECT * FROM (
       SELECT p.proname || '(' || pg_catalog.pg_get_function_identity_arguments(p.oid) || ')' AS name,
              p.prokind AS kind, pg_catalog.pg_get_userbyid(p.proowner) AS owner, p.proacl::text AS acl,
              CASE WHEN p.prokind <> 'a' THEN pg_catalog.pg_get_functiondef(p.oid) END AS definition
         FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = $1) routines
      ORDER BY name COLLATE "C"`,
  );
  const types = await query(
    `SELECT t.typname AS name, t.typtype AS kind, pg_catalog.pg_get_userbyid(t.typowner) AS owner,
            CASE WHEN t.typtype = 'd' THEN pg_catalog.format_type(t.typbasetype, t.typtypmod) END AS base,
            t.typnotnull AS not_null, t.typdefault AS default,
            (SELECT pg_catalog.array_agg(e.enumlabel::text ORDER BY e.enumsortorder)
               FROM pg_catalog.pg_enum e WHERE e.enumtypid = t.oid) AS labels,
            (SELECT pg_catalog.array_agg(co.conname || ': ' || pg_catalog.pg_get_constraintdef(co.oid)
                                         ORDER BY co.conname COLLATE "C")
               FROM pg_catalog.pg_constraint co WHERE co.contypid = t.oid) AS constraints,
            (SELECT pg_catalog.array_agg(pg_catalog.quote_ident(a.attname) || ' '
                                         || pg_catalog.format_type(a.atttypid, a.atttypmod) ORDER BY a.attnum)
               FROM pg_catalog.pg_attribute a
              WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped) AS attributes,
            (SELECT pg_catalog.format_type(r.rngsubtype, NULL)
               FROM pg_catalog.pg_range r WHERE r.rngtypid = t.oid) AS range_subtype
       FROM pg_catalog.pg_type t
       JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
       LEFT JOIN pg_catalog.pg_class c ON c.oid = t.typrelid
      WHERE n.nspname = $1 AND (t.typrelid = 0 OR c.relkind = 'c')
        AND NOT EXISTS (SELECT FROM pg_catalog.pg_type a WHERE a.typarray = t.oid)
      ORDER BY t.typname COLLATE "C"`,
  );
  return {
    exists: true,
    ...namespace[0],
    tables,
    sequences: byName(sequences) as Record<string, Json>,
    routines: byName(routines) as Record<string, Json>,
    types: byName(types) as Record<string, Json>,
  };
}

/** Names of the database's user schemas: all but pg_catalog, information_schema, pg_toast* and pg_temp*. */
async function listUserSchemas(client: pg.Client): Promise<string[]> {
  const result = await client.query<{ nspname: string }>(
    `SELECT nspname FROM pg_catalog.pg_namespace
      WHERE nspname NOT IN ('pg_catalog', 'information_schema')
        AND nspname NOT LIKE 'pg\\_toast%' AND nspname NOT LIKE 'pg\\_temp\\_%'
      ORDER BY nspname COLLATE "C"`,
  );
  return result.rows.map((row) => row.nspname);
}

/**
 * A stable JSON description of a database: for each schema (default: every user schema, see above), its
 * {@link schemaFingerprint} and the {@link tableFingerprint} of each of its tables ({@link listTables}). Equal
 * strings mean nothing changed, e.g. "the source is unchanged" or "the destination's other schemas are unchanged".
 */
export async function databaseFingerprint(client: pg.Client, schemas?: string[]): Promise<string> {
  const result: Record<string, Json> = {};
  for (const schema of schemas ?? (await listUserSchemas(client))) {
    const tables: Record<string, Json> = {};
    for (const table of await listTables(client, schema)) {
      tables[table] = { ...(await tableFingerprint(client, schema, table)) };
    }
    result[schema] = { structure: JSON.parse(await schemaFingerprint(client, schema)) as Json, tables };
  }
  return JSON.stringify(result, null, 1);
}

/**
 * Asserts that tables hold the same rows on both sides: for each table (default: every table of the source
 * schema, see {@link listTables}), the destination table must exist with the same column names in the same order
 * and the same {@link tableFingerprint}. Fails with one message listing every differing table with both row counts.
 */
export async function assertTablesIdentical(
  source: pg.Client,
  sourceSchema: string,
  dest: pg.Client,
  destSchema: string,
  tables?: string[],
): Promise<void> {
  const names = tables ?? (await listTables(source, sourceSchema));
  const differences: string[] = [];
  for (const table of names) {
    const sourceColumns = (await describeRelation(source, sourceSchema, table)).columns;
    let destColumns: string[];
    try {
      destColumns = (await describeRelation(dest, destSchema, table)).columns;
    } catch {
      differences.push(`${table}: missing from the destination schema ${JSON.stringify(destSchema)}`);
      continue;
    }
    if (JSON.stringify(sourceColumns) !== JSON.stringify(destColumns)) {
      differences.push(
        `${table}: columns differ, source (${sourceColumns.join(", ")}) vs destination (${destColumns.join(", ")})`,
      );
      continue;
    }
    const expected = await tableFingerprint(source, sourceSchema, table);
    const actual = await tableFingerprint(dest, destSchema, table);
    if (expected.rows !== actual.rows || expected.sha256 !== actual.sha256) {
      differences.push(
        `${table}: source ${sourceSchema}.${table} has ${expected.rows} rows (sha256 ${expected.sha256.slice(0, 12)}), ` +
          `destination ${destSchema}.${table} has ${actual.rows} rows (sha256 ${actual.sha256.slice(0, 12)})`,
      );
    }
  }
  if (differences.length > 0) {
    assert.fail(`${differences.length} of ${names.length} tables differ:\n  ${differences.join("\n  ")}`);
  }
}
