import { randomBytes } from "node:crypto";
import pg from "pg";
import type { ConnectionConfig } from "../../engine/spec.js";

export type Major = 17 | 14;

/** Superuser URL of the test server of a major, started by test/run.ts or given in the environment. */
export function serverUrl(major: Major): string {
  const url = process.env[`PGFERRY_TEST_PG${major}_URL`];
  if (!url)
    throw new Error(`PGFERRY_TEST_PG${major}_URL is not set: run tests through \`npm test\` (test/run.ts).`);
  return url;
}

export function connectionConfig(major: Major, database: string): ConnectionConfig {
  const url = new URL(serverUrl(major));
  return {
    host: url.hostname,
    port: Number(url.port || 5432),
    database,
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    sslmode: "disable",
  };
}

export async function adminClient(major: Major, database = "postgres"): Promise<pg.Client> {
  const client = new pg.Client({ ...connectionConfig(major, database), ssl: false });
  client.on("error", () => undefined);
  await client.connect();
  return client;
}

export interface TestDatabase {
  readonly major: Major;
  readonly name: string;
  readonly config: ConnectionConfig;
  /** A superuser client on this database, for setting up and checking. */
  readonly client: pg.Client;
  drop(): Promise<void>;
}

/** A fresh, empty database on the test server of `major`; drop() ends every session on it first. */
export async function createDatabase(major: Major, prefix = "t"): Promise<TestDatabase> {
  const name = `${prefix}_${randomBytes(5).toString("hex")}`;
  const admin = await adminClient(major);
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const client = await adminClient(major, name);
  return {
    major,
    name,
    config: connectionConfig(major, name),
    client,
    async drop() {
      await client.end().catch(() => undefined);
      const closer = await adminClient(major);
      try {
        await closer.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", [
          name,
        ]);
        await closer.query(`DROP DATABASE IF EXISTS "${name}"`);
      } finally {
        await closer.end();
      }
    },
  };
}
