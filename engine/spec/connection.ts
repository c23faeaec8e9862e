import type { ConnectionConfig, SslMode } from "../spec.js";
import { isRecord } from "./path.js";
import { redactConnectionString } from "./redact.js";
import { closestMatch } from "./similar.js";

export const DEFAULT_PORT = 5432;
export const SSL_MODES: readonly SslMode[] = ["disable", "prefer", "require", "verify-ca", "verify-full"];
const URL_PARAMETERS = ["sslmode", "sslrootcert", "application_name", "connect_timeout", "host"];

export interface ParsedConnection {
  config?: ConnectionConfig;
  /** Messages about the URL; none quotes the password. */
  problems: string[];
}

/**
 * `postgres://user:password@host:port/database?sslmode=require` as connection fields, percent-encoding decoded.
 * Parsed with WHATWG `URL`: user name and password must percent-encode `@ : / ? #`, as libpq requires too.
 */
export function parseConnectionUrl(text: string): ParsedConnection {
  let url: URL;
  try {
    // WHATWG URL refuses user info before an empty host (`postgres://user@/db?host=/run/postgresql`), which libpq
    // reads as the default host: give it that host by name.
    url = new URL(text.replace(/^(postgres(?:ql)?:\/\/[^/?#]*@)(?=[/?#:]|$)/i, "$1localhost"));
  } catch {
    return {
      problems: [
        `invalid URL ${JSON.stringify(redactConnectionString(text))}: expected postgres://user:password@host:port/database; percent-encode special characters of the user name and password (@ as %40, / as %2F, # as %23)`,
      ],
    };
  }
  const problems: string[] = [];
  if (url.protocol !== "postgres:" && url.protocol !== "postgresql:") {
    problems.push("must be a postgres:// or postgresql:// URL");
  }
  const decode = (part: string, what: string): string => {
    try {
      return decodeURIComponent(part);
    } catch {
      problems.push(`the URL's ${what} has an invalid percent-encoding (write % as %25)`);
      return part;
    }
  };
  if (url.hash !== "") problems.push("the URL contains a # that is not percent-encoded (write it as %23)");

  let host = decode(url.hostname, "host").replace(/^\[(.*)\]$/, "$1");
  if (host.includes(",")) problems.push("the URL names several hosts; pgferry connects to one");
  const user = decode(url.username, "user name");
  if (user === "") problems.push("the URL names no user: postgres://USER@host/database");
  const password = url.password === "" ? undefined : decode(url.password, "password");
  const database = decode(url.pathname.replace(/^\//, ""), "database name");
  if (database === "") problems.push("the URL names no database: postgres://user@host/DATABASE");

  if (url.port === "0") problems.push("the URL's port must be between 1 and 65535");
  const config: ConnectionConfig = {
    host: "",
    port: url.port === "" ? DEFAULT_PORT : Number(url.port),
    database,
    user,
  };
  if (password !== undefined) config.password = password;
  for (const [name, value] of url.searchParams) {
    switch (name) {
      case "sslmode":
        if ((SSL_MODES as readonly string[]).includes(value)) config.sslmode = value as SslMode;
        else problems.push(`sslmode=${value} in the URL: must be one of ${SSL_MODES.join(", ")}`);
        break;
      case "sslrootcert":
        config.sslrootcert = value;
        break;
      case "application_name":
        config.applicationName = value;
        break;
      case "connect_timeout": {
        const seconds = Number(value);
        if (value !== "" && Number.isFinite(seconds) && seconds > 0) config.connectTimeoutSeconds = seconds;
        else problems.push(`connect_timeout=${value} in the URL: must be a number of seconds greater than 0`);
        break;
      }
      case "host":
        host = value;
        break;
      default:
        problems.push(unsupportedParameter(name));
    }
  }
  config.host = host === "" ? "localhost" : host;
  return problems.length > 0 ? { problems } : { config, problems };
}

function unsupportedParameter(name: string): string {
  const shown = JSON.stringify(name);
  if (name === "ssl") return `unsupported URL parameter ${shown}: use sslmode=require (or verify-full)`;
  const suggestion = closestMatch(name, URL_PARAMETERS);
  return suggestion === undefined
    ? `unsupported URL parameter ${shown} (supported: ${URL_PARAMETERS.join(", ")})`
    : `unsupported URL parameter ${shown} — did you mean "${suggestion}"?`;
}

/** A connection object that passed the schema, with the port defaulted and nothing undefined left in. */
export function connectionFromObject(value: Record<string, unknown>): ConnectionConfig {
  const config: ConnectionConfig = {
    host: value.host as string,
    port: (value.port as number | undefined) ?? DEFAULT_PORT,
    database: value.database as string,
    user: value.user as string,
  };
  if (typeof value.password === "string") config.password = value.password;
  if (typeof value.sslmode === "string") config.sslmode = value.sslmode as SslMode;
  if (typeof value.sslrootcert === "string") config.sslrootcert = value.sslrootcert;
  if (typeof value.applicationName === "string") config.applicationName = value.applicationName;
  if (typeof value.connectTimeoutSeconds === "number")
    config.connectTimeoutSeconds = value.connectTimeoutSeconds;
  return config;
}

/** A URL string or a connection object (already checked against the schema) as connection fields. */
export function parseConnection(value: unknown): ParsedConnection {
  if (typeof value === "string") return parseConnectionUrl(value);
  if (isRecord(value)) return { config: connectionFromObject(value), problems: [] };
  return { problems: ["expected a postgres:// URL or a connection object"] };
}

const LOOPBACK = new Set(["", "localhost", "127.0.0.1", "::1"]);

/** Whether two connections reach the same database of the same server, as far as their names tell. */
export function sameDatabase(a: ConnectionConfig, b: ConnectionConfig): boolean {
  const host = (name: string) => (LOOPBACK.has(name.toLowerCase()) ? "localhost" : name.toLowerCase());
  return host(a.host) === host(b.host) && a.port === b.port && a.database === b.database;
}
