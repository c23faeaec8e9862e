import { setTimeout as sleep } from "node:timers/promises";
import type pg from "pg";
import { connect, SESSION_SETTINGS_SQL, type ConnectOptions } from "./connection.js";
import { PgferryError } from "./errors.js";
import type { ConnectionConfig } from "./spec.js";

/**
 * The source side of a run: one coordinator transaction that exports its snapshot, and worker transactions that
 * import it, so every table is read as of the same instant (DESIGN.md §2 rules 2 and 3).
 */
export class SourceSnapshot {
  private constructor(
    readonly coordinator: pg.Client,
    readonly snapshotId: string,
    private readonly config: ConnectionConfig,
  ) {}

  static async open(config: ConnectionConfig, options: ConnectOptions = {}): Promise<SourceSnapshot> {
    const client = await connect(config, "source", options);
    try {
      await client.query(SESSION_SETTINGS_SQL);
      await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
      const { rows } = await client.query<{ id: string }>("SELECT pg_export_snapshot() AS id");
      return new SourceSnapshot(client, rows[0]?.id ?? "", config);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
  }

  /** A new read-only session that sees exactly the coordinator's snapshot. */
  async openWorker(): Promise<pg.Client> {
    const client = await connect(this.config, "source");
    try {
      await client.query(SESSION_SETTINGS_SQL);
      await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
      await client.query(`SET TRANSACTION SNAPSHOT '${this.snapshotId.replaceAll("'", "''")}'`);
      return client;
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
  }

  async close(): Promise<void> {
    await this.coordinator.query("ROLLBACK").catch(() => undefined);
    await this.coordinator.end().catch(() => undefined);
  }
}

/** Two int4 halves of the advisory lock key: a fixed pgferry class and a hash of database + schema. */
const LOCK_CLASS = 0x70676672; // "pgfr"
const LOCK_POLL_MS = 200;

export async function acquireTargetLock(
  client: pg.Client,
  targetSchema: string,
  behaviour: "wait" | "fail",
  waitSeconds: number,
  onWait: () => void,
  signal?: AbortSignal,
): Promise<void> {
  const tryLock = async () => {
    const { rows } = await client.query<{ ok: boolean }>(
      `SELECT pg_try_advisory_lock(${LOCK_CLASS}, hashtext(current_database() || '.' || $1)) AS ok`,
      [targetSchema],
    );
    return rows[0]?.ok === true;
  };
  if (await tryLock()) return;
  const busy = new PgferryError(
    "locked",
    `Another pgferry run holds the lock on target schema "${targetSchema}"${behaviour === "wait" ? ` (waited ${waitSeconds} s)` : ""}.`,
    {
      hint:
        behaviour === "fail"
          ? "Wait for it to finish, or set onLocked: wait (--on-locked wait)."
          : "Raise waitTimeoutSeconds (--wait-timeout), or retry later.",
    },
  );
  if (behaviour === "fail") throw busy;
  onWait();
  // Polled rather than a blocking pg_advisory_lock(): an interrupted run must stop waiting at once.
  const deadline = Date.now() + waitSeconds * 1000;
  while (Date.now() < deadline) {
    await sleep(LOCK_POLL_MS, undefined, { signal });
    if (await tryLock()) return;
  }
  throw busy;
}

export async function releaseTargetLock(client: pg.Client, targetSchema: string): Promise<void> {
  await client.query(`SELECT pg_advisory_unlock(${LOCK_CLASS}, hashtext(current_database() || '.' || $1))`, [
    targetSchema,
  ]);
}
