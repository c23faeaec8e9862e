import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { PgferryError } from "./errors.js";
import type { ConnectionConfig } from "./spec.js";

export type Side = "source" | "destination";

/** `user@host:port/database`: how an endpoint is named in messages. Never includes the password. */
export function describeEndpoint(config: ConnectionConfig): string {
  return `${config.user}@${config.host}:${config.port}/${config.database}`;
}

/** A URL for the endpoint with the password left out (for reports, summaries and logs). */
export function redactedUrl(config: ConnectionConfig): string {
  const user = encodeURIComponent(config.user);
  const password = config.password ? ":****" : "";
  const query = config.sslmode ? `?sslmode=${config.sslmode}` : "";
  return `postgres://${user}${password}@${config.host}:${config.port}/${encodeURIComponent(config.database)}${query}`;
}

function sslOptions(config: ConnectionConfig): pg.ClientConfig["ssl"] {
  const mode = config.sslmode ?? "prefer";
  if (mode === "disable") return false;
  const ca = config.sslrootcert ? readFileSync(config.sslrootcert, "utf8") : undefined;
  if (mode === "verify-full") return { rejectUnauthorized: true, ...(ca ? { ca } : {}) };
  if (mode === "verify-ca") {
    // verify-ca checks the chain but not the host name, as libpq does.
    return { rejectUnauthorized: true, ...(ca ? { ca } : {}), checkServerIdentity: () => undefined };
  }
  return { rejectUnauthorized: false };
}

export function clientConfig(config: ConnectionConfig, ssl = sslOptions(config)): pg.ClientConfig {
  return {
    host: config.host,
    port: config.port,
    database: config.database,
    user: config.user,
    password: config.password ?? "",
    ssl,
    application_name: config.applicationName ?? "pgferry",
    connectionTimeoutMillis: (config.connectTimeoutSeconds ?? 10) * 1000,
    keepAlive: true,
  };
}

/** SQLSTATEs and socket errors that mean "try again in a moment": the server is starting or restarting. */
function isTransient(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  return code === "57P03" || code === "ECONNREFUSED" || code === "ECONNRESET" || code === "53300";
}

const SSL_UNSUPPORTED = /does not support SSL/i;

/**
 * Opens a client, retrying transient failures (server starting up, connection refused) with backoff for at most
 * `retryForSeconds`, and turns every failure into a PgferryError that says which side and what went wrong.
 */
export interface ConnectOptions {
  /** How long a refused connection or a server still starting up is retried (0: not at all). */
  retryForSeconds?: number;
  /** Stops the retrying. */
  signal?: AbortSignal;
  /** Told once, with the (redacted) reason, when the first attempt failed and retrying begins. */
  onFirstRetry?: (reason: string) => void;
}

export async function connect(
  config: ConnectionConfig,
  side: Side,
  { retryForSeconds = 0, signal, onFirstRetry }: ConnectOptions = {},
): Promise<pg.Client> {
  const deadline = Date.now() + retryForSeconds * 1000;
  let delay = 250;
  for (;;) {
    try {
      return await withoutIdleTimeouts(await connectOnce(config));
    } catch (error) {
      if (isTransient(error) && Date.now() + delay < deadline) {
        if (delay === 250) onFirstRetry?.(redactSecret(String((error as Error).message), config.password));
        await sleep(delay, undefined, { signal });
        delay = Math.min(delay * 2, 4000);
        continue;
      }
      throw classifyConnectError(error, config, side);
    }
  }
}

/**
 * A run keeps sessions idle on purpose: the source snapshot's transaction for the whole run, a worker's source
 * transaction while the destination builds indexes, the control session that holds the run lock. A server's idle
 * timeouts would end them, and with them the snapshot or the lock. `set_config` through `pg_settings`, because
 * `idle_session_timeout` only exists from PostgreSQL 14 on.
 */
const NO_IDLE_TIMEOUTS_SQL = `SELECT set_config(name, '0', false) FROM pg_settings
  WHERE name IN ('idle_in_transaction_session_timeout', 'idle_session_timeout')`;

async function withoutIdleTimeouts(client: pg.Client): Promise<pg.Client> {
  try {
    await client.query(NO_IDLE_TIMEOUTS_SQL);
    return client;
  } catch (error) {
    await client.end().catch(() => undefined);
    throw error;
  }
}

async function connectOnce(config: ConnectionConfig): Promise<pg.Client> {
  const client = new pg.Client(clientConfig(config));
  // An idle client whose server goes away emits 'error'; without a listener that would crash the process.
  client.on("error", () => undefined);
  try {
    await client.connect();
    return client;
  } catch (error) {
    await client.end().catch(() => undefined);
    const mode = config.sslmode ?? "prefer";
    if (mode === "prefer" && error instanceof Error && SSL_UNSUPPORTED.test(error.message)) {
      const plain = new pg.Client(clientConfig(config, false));
      plain.on("error", () => undefined);
      try {
        await plain.connect();
        return plain;
      } catch (plainError) {
        await plain.end().catch(() => undefined);
        throw plainError;
      }
    }
    throw error;
  }
}

export function classifyConnectError(error: unknown, config: ConnectionConfig, side: Side): PgferryError {
  // A URL pasted into the database or user field would carry the password into the message.
  const where = redactSecret(`${side} ${describeEndpoint(config)}`, config.password);
  const code = (error as { code?: string }).code ?? "";
  const message = redactSecret(error instanceof Error ? error.message : String(error), config.password);
  if (["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH"].includes(code)) {
    return new PgferryError("unreachable", `Cannot reach the ${where}: ${message}.`, {
      hint: "Check the host and port, and that the server is running and accepts TCP connections.",
    });
  }
  if (/timeout expired|Connection terminated due to connection timeout/i.test(message)) {
    return new PgferryError("unreachable", `Cannot reach the ${where}: the connection timed out.`, {
      hint: "Check the host and port, firewalls, and connectTimeoutSeconds.",
    });
  }
  if (code === "28P01" || code === "28000") {
    return new PgferryError("authentication", `Authentication failed on the ${where}: ${message}.`, {
      hint: "Check the user name and password (and pg_hba.conf on the server).",
    });
  }
  if (code === "3D000") {
    return new PgferryError(
      "database-missing",
      `The ${side} database "${redactSecret(config.database, config.password)}" does not exist on ${config.host}:${config.port}.`,
    );
  }
  if (code === "42501") {
    return new PgferryError("privilege", `Permission denied on the ${where}: ${message}.`, {
      hint: "The user needs CONNECT on the database.",
    });
  }
  if (SSL_UNSUPPORTED.test(message) || /certificate|SSL|TLS|self[- ]signed/i.test(message)) {
    return new PgferryError("tls", `TLS failed on the ${where}: ${message}.`, {
      hint: "Check sslmode and sslrootcert, and that the server has TLS enabled.",
    });
  }
  return new PgferryError("unreachable", `Cannot connect to the ${where}: ${message}.`);
}

/** Removes a password (and its URL-encoded form) from text that might echo it, such as a driver error. */
export function redactSecret(text: string, secret: string | undefined): string {
  if (!secret) return text;
  let result = text.replaceAll(secret, "****");
  const encoded = encodeURIComponent(secret);
  if (encoded !== secret) result = result.replaceAll(encoded, "****");
  return result;
}

/**
 * Settings that make text COPY output exact and identical on both sides: ISO dates, UTC, shortest-exact floats,
 * hex bytea, UTF-8, and `C` monetary formatting so money survives text form.
 */
export const SESSION_SETTINGS_SQL = [
  "SET DateStyle TO ISO, YMD",
  "SET IntervalStyle TO postgres",
  "SET TimeZone TO 'UTC'",
  "SET extra_float_digits TO 3",
  "SET bytea_output TO hex",
  "SET client_encoding TO 'UTF8'",
  "SET lc_monetary TO 'C'",
  "SET xmloption TO content",
  "SET standard_conforming_strings TO on",
].join("; ");

export async function withClient<T>(
  config: ConnectionConfig,
  side: Side,
  work: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const client = await connect(config, side);
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The server's version string (`17.2`, `14.11 (Debian …)`), for reports. */
export async function serverVersion(client: pg.Client): Promise<string | undefined> {
  const { rows } = await client.query<{ v: string }>("SELECT current_setting('server_version') AS v");
  return rows[0]?.v;
}
