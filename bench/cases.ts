/**
 * The contenders. Each case prepares its target (untimed), then runs one or more timed steps (each a command or
 * a shell-less pipe of commands), then checks what landed in the target (untimed). Every full copy writes a
 * fresh target: its own database on the destination server, or pgferry's target schema.
 */
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import type pg from "pg";
import type { MigrationSpec } from "../engine/spec.js";
import { createTableSql, removeNewRows, type DatasetSize } from "./dataset.js";
import { nodeChild } from "./node-children.js";
import type { Command } from "./proc.js";
import { dropDatabase, recreateDatabase, withDb, type BenchServer } from "./servers.js";
import type { Tools } from "./tools.js";

export const SOURCE_DB = "bench";
const TARGET_SCHEMA = "migrated";

export type CaseGroup = "full" | "once" | "incremental";

export interface BenchCase {
  id: string;
  label: string;
  group: CaseGroup;
  /** What the case copies: the baseline of a ratio must have copied the same. */
  tables: "orders+events" | "orders" | "orders delta" | "tokens delta";
  skipReason?: string;
  prepare(): Promise<void>;
  /** Timed steps, run one after the other; the case's time is their sum. */
  steps: Command[][];
  /** Verifies the target after the run; may return a note (such as the delta path taken). */
  check(stdouts: string[]): Promise<string | undefined>;
  /** Frees what the run wrote, so that it weighs on nobody else's run. */
  cleanup(): Promise<void>;
}

export interface CaseContext {
  source: BenchServer;
  destination: BenchServer;
  size: DatasetSize;
  tools: Tools;
}

async function countRows(client: pg.Client, schema: string, table: string): Promise<number> {
  const { rows } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM "${schema}"."${table}"`);
  return Number(rows[0]?.n ?? 0);
}

async function countIndexes(client: pg.Client, schema: string, table: string): Promise<number> {
  const { rows } = await client.query<{ n: string }>(
    "SELECT count(*) AS n FROM pg_indexes WHERE schemaname = $1 AND tablename = $2",
    [schema, table],
  );
  return Number(rows[0]?.n ?? 0);
}

/** Checks row counts (and, for copies that build them, the primary key and secondary index) of a target. */
async function checkTarget(
  context: CaseContext,
  database: string,
  schema: string,
  tables: ("orders" | "events")[],
  indexesPerTable: number,
): Promise<void> {
  await withDb(context.destination, database, async (client) => {
    for (const table of tables) {
      const rows = await countRows(client, schema, table);
      if (rows !== context.size[table]) throw new Error(`${database}.${schema}.${table}: ${rows} rows`);
      const indexes = await countIndexes(client, schema, table);
      if (indexes < indexesPerTable) throw new Error(`${database}.${schema}.${table}: ${indexes} indexes`);
    }
  });
}

function parseChild(stdout: string): { rowsCopied: number; tables?: { name: string; path?: string }[] } {
  const line = stdout.trim().split("\n").pop() ?? "{}";
  return JSON.parse(line) as { rowsCopied: number; tables?: { name: string; path?: string }[] };
}

function pgferrySpec(
  context: CaseContext,
  database: string,
  overrides: Pick<MigrationSpec, "mode" | "jobs" | "tables">,
): Partial<MigrationSpec> {
  return {
    source: context.source.configFor(SOURCE_DB),
    destination: context.destination.configFor(database),
    targetSchema: TARGET_SCHEMA,
    ...overrides,
  };
}

function pgferryFull(context: CaseContext, jobs: number, tables: ("orders" | "events")[]): BenchCase {
  const database = "target_pgferry";
  return {
    id: tables.length === 1 ? `pgferry-${tables[0]}` : `pgferry-j${jobs}`,
    label:
      tables.length === 1 ? `pgferry full, ${tables[0]} only, jobs ${jobs}` : `pgferry full, jobs ${jobs}`,
    group: "full",
    tables: tables.length === 1 ? "orders" : "orders+events",
    async prepare() {
      await recreateDatabase(context.destination, database);
    },
    steps: [
      [
        nodeChild(
          "pgferry-child",
          "BENCH_SPEC",
          pgferrySpec(context, database, { mode: "full", jobs, tables: tables.map((name) => ({ name })) }),
        ),
      ],
    ],
    async check() {
      await checkTarget(context, database, TARGET_SCHEMA, tables, 2);
      return undefined;
    },
    cleanup: () => dropDatabase(context.destination, database),
  };
}

function psqlPipe(context: CaseContext): BenchCase {
  const database = "target_pipe";
  const pipe = (table: "orders" | "events"): Command[] => [
    {
      command: "psql",
      args: [
        "-X",
        "-v",
        "ON_ERROR_STOP=1",
        "-d",
        context.source.urlFor(SOURCE_DB),
        "-c",
        `\\copy (SELECT * FROM ${table}) TO STDOUT (FORMAT binary)`,
      ],
    },
    {
      command: "psql",
      args: [
        "-X",
        "-q",
        "-v",
        "ON_ERROR_STOP=1",
        "-d",
        context.destination.urlFor(database),
        "-c",
        `\\copy ${table} FROM STDIN (FORMAT binary)`,
      ],
    },
  ];
  return {
    id: "psql-pipe",
    label: "psql \\copy binary pipe (tables with PK exist)",
    group: "full",
    tables: "orders+events",
    ...(context.tools.psql.available ? {} : { skipReason: context.tools.psql.skipReason }),
    async prepare() {
      await recreateDatabase(context.destination, database);
      await withDb(context.destination, database, async (client) => {
        await client.query(createTableSql("orders"));
        await client.query(createTableSql("events"));
      });
    },
    steps: [pipe("orders"), pipe("events")],
    async check() {
      await checkTarget(context, database, "public", ["orders", "events"], 1);
      return undefined;
    },
    cleanup: () => dropDatabase(context.destination, database),
  };
}

function pgcopydb(context: CaseContext): BenchCase {
  const database = "target_pgcopydb";
  const workDir = path.join(os.tmpdir(), "pgferry-bench-pgcopydb");
  const filters = path.join(os.tmpdir(), "pgferry-bench-pgcopydb.filters");
  return {
    id: "pgcopydb",
    label: "pgcopydb clone --table-jobs 2 --index-jobs 2",
    group: "full",
    tables: "orders+events",
    ...(context.tools.pgcopydb.available ? {} : { skipReason: context.tools.pgcopydb.skipReason }),
    async prepare() {
      await recreateDatabase(context.destination, database);
      await fs.rm(workDir, { recursive: true, force: true });
      await fs.writeFile(filters, "[include-only-table]\npublic.orders\npublic.events\n");
    },
    steps: [
      [
        {
          command: "pgcopydb",
          args: [
            "clone",
            "--source",
            context.source.urlFor(SOURCE_DB),
            "--target",
            context.destination.urlFor(database),
            "--table-jobs",
            "2",
            "--index-jobs",
            "2",
            "--filters",
            filters,
            "--dir",
            workDir,
          ],
        },
      ],
    ],
    async check() {
      await checkTarget(context, database, "public", ["orders", "events"], 2);
      return undefined;
    },
    async cleanup() {
      await dropDatabase(context.destination, database);
      await fs.rm(workDir, { recursive: true, force: true });
      await fs.rm(filters, { force: true });
    },
  };
}

function pgDumpPipe(context: CaseContext): BenchCase {
  const database = "target_dump";
  const skipReason = context.tools.pgDump.skipReason ?? context.tools.psql.skipReason;
  return {
    id: "pg-dump",
    label: "pg_dump -t orders -t events | psql",
    group: "full",
    tables: "orders+events",
    ...(skipReason ? { skipReason } : {}),
    async prepare() {
      await recreateDatabase(context.destination, database);
    },
    steps: [
      [
        {
          command: "pg_dump",
          args: [
            "--no-owner",
            "--no-acl",
            "-t",
            "public.orders",
            "-t",
            "public.events",
            "-d",
            context.source.urlFor(SOURCE_DB),
          ],
        },
        {
          command: "psql",
          args: ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", context.destination.urlFor(database)],
        },
      ],
    ],
    async check() {
      await checkTarget(context, database, "public", ["orders", "events"], 2);
      return undefined;
    },
    cleanup: () => dropDatabase(context.destination, database),
  };
}

function insertBatches(context: CaseContext): BenchCase {
  const database = "target_insert";
  return {
    id: "insert-batches",
    label: "original tool: SELECT all into Node, INSERT batches of 100",
    group: "once",
    tables: "orders",
    async prepare() {
      await recreateDatabase(context.destination, database);
      await withDb(context.destination, database, (client) => client.query(createTableSql("orders")));
    },
    steps: [
      [
        nodeChild("insert-batches", "BENCH_CHILD", {
          source: context.source.configFor(SOURCE_DB),
          destination: context.destination.configFor(database),
          table: "orders",
          targetSchema: "public",
        }),
      ],
    ],
    async check() {
      await checkTarget(context, database, "public", ["orders"], 1);
      return undefined;
    },
    cleanup: () => dropDatabase(context.destination, database),
  };
}

export const INCREMENTAL_DB = "target_inc";

function incremental(
  context: CaseContext,
  table: "orders" | "tokens",
  how: "pgferry" | "all-keys",
): BenchCase {
  const key = table === "orders" ? "bigint" : "uuid";
  const check = async (stdouts: string[]) => {
    const result = parseChild(stdouts[0] ?? "");
    if (result.rowsCopied !== context.size.newRows)
      throw new Error(`${how} ${table}: copied ${result.rowsCopied} rows, expected ${context.size.newRows}`);
    // Removing exactly the new rows both checks the copy and resets the target for the next case.
    await withDb(context.destination, INCREMENTAL_DB, (client) =>
      removeNewRows(client, TARGET_SCHEMA, table, context.size),
    );
    const path = result.tables?.[0]?.path;
    return path ? `path: ${path}` : undefined;
  };
  const step =
    how === "pgferry"
      ? nodeChild(
          "pgferry-child",
          "BENCH_SPEC",
          pgferrySpec(context, INCREMENTAL_DB, { mode: "incremental", jobs: 2, tables: [{ name: table }] }),
        )
      : nodeChild("all-keys-in-node", "BENCH_CHILD", {
          source: context.source.configFor(SOURCE_DB),
          destination: context.destination.configFor(INCREMENTAL_DB),
          table,
          targetSchema: TARGET_SCHEMA,
        });
  return {
    id: `${how}-${key}`,
    label:
      how === "pgferry" ? `pgferry incremental, ${key} key` : `original tool: all keys in Node, ${key} key`,
    group: "incremental",
    tables: table === "orders" ? "orders delta" : "tokens delta",
    async prepare() {},
    steps: [[step]],
    check,
    async cleanup() {},
  };
}

/** The cases copying orders and events, run round-robin for `rounds` rounds. */
export function fullCases(context: CaseContext): BenchCase[] {
  return [
    pgferryFull(context, 1, ["orders", "events"]),
    pgferryFull(context, 2, ["orders", "events"]),
    pgferryFull(context, 1, ["orders"]),
    psqlPipe(context),
    pgcopydb(context),
    pgDumpPipe(context),
  ];
}

export function onceCases(context: CaseContext): BenchCase[] {
  return [insertBatches(context)];
}

/** The delta cases (the target already holds the table minus the source's new rows), run round-robin. */
export function incrementalCases(context: CaseContext): BenchCase[] {
  return [
    incremental(context, "orders", "pgferry"),
    incremental(context, "orders", "all-keys"),
    incremental(context, "tokens", "pgferry"),
    incremental(context, "tokens", "all-keys"),
  ];
}

/** The incremental target: a pgferry full copy of orders and tokens, before the new rows reach the source. */
export function incrementalSetup(context: CaseContext): Command {
  return nodeChild(
    "pgferry-child",
    "BENCH_SPEC",
    pgferrySpec(context, INCREMENTAL_DB, {
      mode: "full",
      jobs: 2,
      tables: [{ name: "orders" }, { name: "tokens" }],
    }),
  );
}
