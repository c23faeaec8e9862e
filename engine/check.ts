import type pg from "pg";
import { connect, describeEndpoint, serverVersion } from "./connection.js";
import { isPgferryError, type ErrorKind } from "./errors.js";
import type { MigrationSpec } from "./spec.js";

export interface CheckItem {
  readonly name: string;
  readonly ok: boolean;
  readonly message: string;
}

export interface EndpointCheck {
  /** `user@host:port/database`, never with a password. */
  readonly endpoint: string;
  readonly ok: boolean;
  readonly serverVersion?: string;
  /** Set when the connection itself failed. */
  readonly error?: { kind: ErrorKind; message: string; hint?: string };
  readonly checks: readonly CheckItem[];
}

export interface CheckReport {
  readonly ok: boolean;
  readonly source: EndpointCheck;
  readonly destination: EndpointCheck;
}

/**
 * Tests both connections and the privileges a run needs: on the source, USAGE on the schema and SELECT on every
 * selected table; on the destination, a writable server and CREATE on the database (or on the target schema when
 * it exists, or its ownership). Never throws for a failed check; the report says what failed and why.
 */
export async function check(spec: MigrationSpec): Promise<CheckReport> {
  const [source, destination] = await Promise.all([
    checkEndpoint(spec, "source", checkSource),
    checkEndpoint(spec, "destination", checkDestination),
  ]);
  return { ok: source.ok && destination.ok, source, destination };
}

async function checkEndpoint(
  spec: MigrationSpec,
  side: "source" | "destination",
  checks: (client: pg.Client, spec: MigrationSpec) => Promise<CheckItem[]>,
): Promise<EndpointCheck> {
  const config = spec[side];
  const endpoint = describeEndpoint(config);
  let client: pg.Client;
  try {
    // No retrying here: a check answers at once what a run would meet.
    client = await connect(config, side);
  } catch (error) {
    if (!isPgferryError(error)) throw error;
    return {
      endpoint,
      ok: false,
      error: { kind: error.kind, message: error.message, ...(error.hint ? { hint: error.hint } : {}) },
      checks: [],
    };
  }
  try {
    const version = await serverVersion(client);
    const items = await checks(client, spec);
    return {
      endpoint,
      ok: items.every((item) => item.ok),
      ...(version ? { serverVersion: version } : {}),
      checks: items,
    };
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function checkSource(client: pg.Client, spec: MigrationSpec): Promise<CheckItem[]> {
  const schema = spec.sourceSchema;
  const { rows } = await client.query<{ exists: boolean; usage: boolean | null }>(
    `SELECT n.oid IS NOT NULL AS exists, has_schema_privilege(n.oid, 'USAGE') AS usage
       FROM (SELECT 1) one LEFT JOIN pg_namespace n ON n.nspname = $1`,
    [schema],
  );
  const row = rows[0];
  if (!row?.exists)
    return [{ name: "source schema", ok: false, message: `schema "${schema}" does not exist` }];
  if (!row.usage)
    return [{ name: "source schema", ok: false, message: `no USAGE privilege on schema "${schema}"` }];
  const tables = await client.query<{ name: string; can_select: boolean }>(
    `SELECT c.relname AS name, has_table_privilege(c.oid, 'SELECT') AS can_select
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY 1`,
    [schema],
  );
  const wanted = spec.tables ? new Set(spec.tables.map((t) => t.name)) : null;
  const excluded = new Set(spec.exclude);
  const selected = tables.rows.filter((t) => (!wanted || wanted.has(t.name)) && !excluded.has(t.name));
  const present = new Set(tables.rows.map((t) => t.name));
  const missing = wanted ? [...wanted].filter((name) => !present.has(name) && !excluded.has(name)) : [];
  const unreadable = selected.filter((t) => !t.can_select).map((t) => t.name);
  return [
    { name: "source schema", ok: true, message: `schema "${schema}" is readable` },
    {
      name: "source tables",
      ok: missing.length === 0 && selected.length > 0,
      message:
        missing.length > 0
          ? `not found in "${schema}": ${missing.join(", ")}`
          : selected.length === 0
            ? `no table of "${schema}" is selected`
            : `${selected.length} table(s) selected`,
    },
    {
      name: "source SELECT privilege",
      ok: unreadable.length === 0,
      message:
        unreadable.length === 0
          ? "SELECT granted on every selected table"
          : `no SELECT privilege on: ${unreadable.join(", ")}`,
    },
  ];
}

async function checkDestination(client: pg.Client, spec: MigrationSpec): Promise<CheckItem[]> {
  const { rows } = await client.query<{
    in_recovery: boolean;
    read_only: string;
    schema_exists: boolean;
    can_create_in_db: boolean;
    can_create_in_schema: boolean | null;
  }>(
    `SELECT pg_is_in_recovery() AS in_recovery, current_setting('default_transaction_read_only') AS read_only,
            n.oid IS NOT NULL AS schema_exists,
            has_database_privilege(current_database(), 'CREATE') AS can_create_in_db,
            CASE WHEN n.oid IS NOT NULL THEN has_schema_privilege(n.oid, 'CREATE') END AS can_create_in_schema
       FROM (SELECT 1) one LEFT JOIN pg_namespace n ON n.nspname = $1`,
    [spec.targetSchema],
  );
  const row = rows[0];
  const writable = row !== undefined && !row.in_recovery && row.read_only !== "on";
  const canCreate = row?.schema_exists ? Boolean(row.can_create_in_schema) : Boolean(row?.can_create_in_db);
  return [
    {
      name: "destination writable",
      ok: writable,
      message: writable
        ? "the server accepts writes"
        : "the server is read-only (a standby, or default_transaction_read_only)",
    },
    {
      name: "destination CREATE privilege",
      ok: canCreate,
      message: row?.schema_exists
        ? canCreate
          ? `CREATE granted on existing schema "${spec.targetSchema}"`
          : `no CREATE privilege on schema "${spec.targetSchema}"`
        : canCreate
          ? `CREATE granted on the database (schema "${spec.targetSchema}" will be created)`
          : `no CREATE privilege on the database to create schema "${spec.targetSchema}"`,
    },
  ];
}
