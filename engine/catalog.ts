import type pg from "pg";
import { PgferryError } from "./errors.js";
import { quoteIdent } from "./ident.js";
import {
  COLUMNS_SQL,
  CONSTRAINTS_SQL,
  INDEXES_SQL,
  NOT_COPIED_SQL,
  SEQUENCES_SQL,
  TABLES_SQL,
  TYPES_SQL,
} from "./catalog-queries.js";
import type {
  ColumnDef,
  ConstraintDef,
  IndexDef,
  NotCopied,
  PartitionDef,
  SequenceDef,
  SourceCatalog,
  TableDef,
  UserTypeDef,
} from "./model.js";

/**
 * Defaults that make the database produce the value: sequences, UUID generators and the clock. `now()` and
 * friends are STABLE, not VOLATILE, so they are named here; user functions are judged by their volatility.
 */
const GENERATING_DEFAULT =
  /\b(nextval|gen_random_uuid|uuid_generate_v[1-5]|uuid_generate_v1mc|uuidv[47]|now|clock_timestamp|statement_timestamp|transaction_timestamp|timeofday|random)\s*\(|\b(CURRENT_TIMESTAMP|CURRENT_DATE|CURRENT_TIME|LOCALTIMESTAMP|LOCALTIME)\b/i;

export function isGeneratingDefault(expression: string | null, callsVolatileFunction: boolean): boolean {
  if (expression === null) return false;
  return callsVolatileFunction || GENERATING_DEFAULT.test(expression);
}

interface TableRow {
  oid: string;
  name: string;
  kind: "r" | "p";
  is_partition: boolean;
  unlogged: boolean;
  partition_key: string | null;
  partition_bound: string | null;
  parent_oid: string | null;
  estimated_rows: number;
  estimated_bytes: string;
  can_select: boolean;
}

interface ColumnRow {
  table_oid: string;
  attnum: number;
  name: string;
  type: string;
  type_oid: string;
  not_null: boolean;
  default_expr: string | null;
  generated_expr: string | null;
  identity: "" | "a" | "d";
  collation: string | null;
  binary_unsafe: boolean;
  default_sequence_oid: string | null;
  identity_sequence_oid: string | null;
  default_calls_volatile: boolean;
}

interface SequenceRow {
  oid: string;
  name: string;
  data_type: string;
  start: string;
  increment: string;
  min: string;
  max: string;
  cache: string;
  cycle: boolean;
  last_value: string | null;
  owner_table: string | null;
  owner_column: string | null;
}

interface ConstraintRow {
  table_oid: string;
  name: string;
  type: ConstraintDef["type"];
  definition: string;
  columns: string[];
  referenced_table: string | null;
}

interface IndexRow {
  table_oid: string;
  name: string;
  is_unique: boolean;
  columns: string[];
  tail: string;
}

interface TypeRow {
  oid: string;
  name: string;
  kind: "e" | "d" | "c" | "r";
  base_type: string | null;
  not_null: boolean;
  default_expr: string | null;
  collation: string | null;
  labels: string[];
  check_names: string[];
  check_defs: string[];
  attribute_names: string[];
  attribute_types: string[];
  range_subtype: string | null;
}

function groupBy<T>(rows: readonly T[], key: (row: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const row of rows) {
    const k = key(row);
    const list = groups.get(k);
    if (list) list.push(row);
    else groups.set(k, [row]);
  }
  return groups;
}

/**
 * Reads the definitions of every table of `schema` (partitions folded into their root) in the client's current
 * transaction. The caller has opened the snapshot; this sets `search_path` for the transaction only.
 */
export async function readSourceCatalog(client: pg.Client, schema: string): Promise<SourceCatalog> {
  const schemaRow = await client.query<{ oid: string }>(
    "SELECT oid::int8 AS oid FROM pg_namespace WHERE nspname = $1",
    [schema],
  );
  const schemaOid = schemaRow.rows[0]?.oid;
  if (schemaOid === undefined) {
    throw new PgferryError("table-missing", `The source schema "${schema}" does not exist.`);
  }
  await client.query(`SET LOCAL search_path TO ${quoteIdent(schema)}, pg_catalog`);
  const version = Number(
    (await client.query<{ v: string }>("SELECT current_setting('server_version_num') AS v")).rows[0]?.v,
  );

  const tableRows = (await client.query<TableRow>(TABLES_SQL, [schemaOid])).rows;
  const allOids = tableRows.map((row) => row.oid);
  const [columnRows, constraintRows, indexRows, typeRows, notCopiedRows] = [
    (await client.query<ColumnRow>(COLUMNS_SQL, [allOids])).rows,
    (await client.query<ConstraintRow>(CONSTRAINTS_SQL, [allOids, schemaOid])).rows,
    (await client.query<IndexRow>(INDEXES_SQL, [allOids])).rows,
    (await client.query<TypeRow>(TYPES_SQL, [allOids, schemaOid])).rows,
    (await client.query<NotCopied>(NOT_COPIED_SQL, [schemaOid])).rows,
  ];
  const sequenceOids = [
    ...new Set(
      columnRows
        .flatMap((row) => [row.default_sequence_oid, row.identity_sequence_oid])
        .filter((oid) => oid !== null),
    ),
  ];
  const sequenceRows = (await client.query<SequenceRow>(SEQUENCES_SQL, [sequenceOids])).rows;
  const sequences = new Map(sequenceRows.map((row) => [row.oid, toSequence(row)]));

  const columnsByTable = groupBy(columnRows, (row) => row.table_oid);
  const constraintsByTable = groupBy(constraintRows, (row) => row.table_oid);
  const indexesByTable = groupBy(indexRows, (row) => row.table_oid);
  const childrenByParent = groupBy(
    tableRows.filter((row) => row.is_partition && row.parent_oid !== null),
    (row) => row.parent_oid ?? "",
  );

  const partitionsOf = (oid: string): PartitionDef[] =>
    (childrenByParent.get(oid) ?? []).map((child) => ({
      name: child.name,
      bound: child.partition_bound ?? "DEFAULT",
      partitionKey: child.kind === "p" ? child.partition_key : null,
      partitions: partitionsOf(child.oid),
    }));

  const tables: TableDef[] = tableRows
    .filter((row) => !row.is_partition)
    .map((row) => {
      const constraints = (constraintsByTable.get(row.oid) ?? []).map(toConstraint);
      return Object.freeze({
        ref: { schema, name: row.name },
        oid: Number(row.oid),
        partitioned: row.kind === "p",
        partitionKey: row.partition_key,
        partitions: partitionsOf(row.oid),
        unlogged: row.unlogged,
        columns: (columnsByTable.get(row.oid) ?? []).map((column) => toColumn(column, sequences)),
        primaryKey: constraints.find((c) => c.type === "p") ?? null,
        constraints: constraints.filter((c) => c.type === "u" || c.type === "c" || c.type === "x"),
        foreignKeys: constraints.filter((c) => c.type === "f"),
        indexes: (indexesByTable.get(row.oid) ?? []).map(toIndex),
        estimatedRows: Math.round(row.estimated_rows),
        estimatedBytes: Number(row.estimated_bytes),
        canSelect: row.can_select,
      });
    });

  const identitySequenceOids = new Set(
    columnRows.map((row) => row.identity_sequence_oid).filter((oid) => oid !== null),
  );
  return Object.freeze({
    schema,
    serverVersion: version,
    tables,
    types: typeRows.map(toUserType),
    sequences: [...sequences.entries()]
      .filter(([oid]) => !identitySequenceOids.has(oid))
      .map(([, seq]) => seq),
    notCopied: notCopiedRows,
    partitionNames: new Set(tableRows.filter((row) => row.is_partition).map((row) => row.name)),
  });
}

function toSequence(row: SequenceRow): SequenceDef {
  return Object.freeze({
    oid: Number(row.oid),
    name: row.name,
    dataType: row.data_type,
    start: row.start,
    increment: row.increment,
    min: row.min,
    max: row.max,
    cache: row.cache,
    cycle: row.cycle,
    lastValue: row.last_value,
    isCalled: row.last_value !== null,
    ...(row.owner_table && row.owner_column
      ? { ownedBy: { table: row.owner_table, column: row.owner_column } }
      : {}),
  });
}

function toColumn(row: ColumnRow, sequences: ReadonlyMap<string, SequenceDef>): ColumnDef {
  const defaultSequence = row.default_sequence_oid ? sequences.get(row.default_sequence_oid) : undefined;
  const identitySequence = row.identity_sequence_oid ? sequences.get(row.identity_sequence_oid) : undefined;
  return Object.freeze({
    name: row.name,
    attnum: row.attnum,
    type: row.type,
    typeOid: Number(row.type_oid),
    notNull: row.not_null,
    defaultExpr: row.default_expr,
    identity: row.identity,
    generatedExpr: row.generated_expr,
    collation: row.collation,
    binarySafe: !row.binary_unsafe,
    autoGenerated:
      row.identity !== "" ||
      row.generated_expr !== null ||
      isGeneratingDefault(row.default_expr, row.default_calls_volatile),
    ...(defaultSequence ? { defaultSequence } : {}),
    ...(identitySequence ? { identitySequence } : {}),
  });
}

function toConstraint(row: ConstraintRow): ConstraintDef {
  return Object.freeze({
    name: row.name,
    type: row.type,
    definition: row.definition,
    columns: row.columns,
    referencedTable: row.referenced_table,
  });
}

function toIndex(row: IndexRow): IndexDef {
  if (!row.tail.startsWith(" USING ")) {
    throw new Error(`unexpected pg_get_indexdef() output for index ${row.name}: ${row.tail.slice(0, 40)}`);
  }
  return Object.freeze({ name: row.name, unique: row.is_unique, tail: row.tail, columns: row.columns });
}

function toUserType(row: TypeRow): UserTypeDef {
  const oid = Number(row.oid);
  switch (row.kind) {
    case "e":
      return { kind: "enum", oid, name: row.name, labels: row.labels };
    case "d":
      return {
        kind: "domain",
        oid,
        name: row.name,
        baseType: row.base_type ?? "text",
        notNull: row.not_null,
        defaultExpr: row.default_expr,
        collation: row.collation,
        checks: row.check_names.map((name, i) => ({ name, definition: row.check_defs[i] ?? "" })),
      };
    case "c":
      return {
        kind: "composite",
        oid,
        name: row.name,
        attributes: row.attribute_names.map((name, i) => ({
          name,
          type: row.attribute_types[i] ?? "text",
          collation: null,
        })),
      };
    case "r":
      return { kind: "range", oid, name: row.name, subtype: row.range_subtype ?? "integer" };
  }
}
