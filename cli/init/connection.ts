import {
  check,
  describeEndpoint,
  validateSpecInput,
  type ConnectionConfig,
  type EndpointCheck,
  type MigrationSpec,
  type SslMode,
} from "../../engine/index.js";
import type { Output } from "../io.js";
import { renderEndpoint } from "../render/check.js";
import type { Prompter } from "./prompter.js";

export type Side = "source" | "destination";

/** How long `init` retries a refused connection: it tests "does it work now". */
const PROBE_RETRY_SECONDS = 2;

const SSL_CHOICES: { value: SslMode; name: string; description: string }[] = [
  { value: "prefer", name: "prefer", description: "TLS when the server offers it (libpq's default)" },
  { value: "require", name: "require", description: "always TLS, certificate not verified" },
  {
    value: "verify-full",
    name: "verify-full",
    description: "TLS with the certificate and host name verified",
  },
  { value: "disable", name: "disable", description: "never TLS" },
];

/** A connection object as the spec schema takes it: no undefined fields. */
export function connectionObject(config: ConnectionConfig): Record<string, unknown> {
  return Object.fromEntries(Object.entries(config).filter(([, value]) => value !== undefined));
}

/** A spec for testing connections: never written, never run. */
export function probeSpec(fields: {
  source: ConnectionConfig;
  destination: ConnectionConfig;
  sourceSchema: string;
  targetSchema?: string;
}): { spec?: MigrationSpec; problems: string[] } {
  const result = validateSpecInput({
    source: connectionObject(fields.source),
    destination: connectionObject(fields.destination),
    sourceSchema: fields.sourceSchema,
    ...(fields.targetSchema !== undefined ? { targetSchema: fields.targetSchema } : {}),
    waitTimeoutSeconds: PROBE_RETRY_SECONDS,
  });
  if (result.ok) return { spec: result.spec, problems: [] };
  return { problems: result.problems.map((problem) => `${problem.path}: ${problem.message}`) };
}

/** The connection fields of a pasted URL, or why it is not one. */
function parseUrl(url: string): ConnectionConfig | string {
  const result = validateSpecInput({ source: url, destination: url });
  if (result.ok) return result.spec.source;
  const problem = result.problems.find((p) => p.property === "source");
  return problem?.message ?? "not a postgres:// URL";
}

/**
 * `postgres://user:****@host/db`, also while the URL is being typed: everything after `user:` is hidden until
 * the `@` comes (a URL without a user name, which pgferry refuses anyway, is hidden a little too much).
 */
export function maskUrlPassword(url: string): string {
  let masked = url;
  const head = /^[a-z][a-z0-9+.-]*:\/\/[^:/?#@]*:/i.exec(url)?.[0];
  if (head !== undefined && url.length > head.length) {
    // Up to the last `@`: an unencoded `@` in the password must not end the masking early.
    const at = url.lastIndexOf("@");
    masked = `${head}****${at > head.length ? url.slice(at) : ""}`;
  }
  return masked.replace(/([?&]password=)[^&#]*/gi, "$1****");
}

export interface ConnectionAnswer {
  config: ConnectionConfig;
  /** The source schema, asked with the source connection (the check reads it). */
  schema: string;
}

/**
 * Asks for one side's connection (field by field, or a pasted URL), tests it on the spot with `check`, and asks
 * again (or aborts) until it works.
 */
export async function askConnection(options: {
  side: Side;
  ask: Prompter;
  output: Output;
  /** For the destination: the source already chosen, so that the check can run. */
  source?: ConnectionAnswer;
  env: Readonly<Record<string, string | undefined>>;
}): Promise<ConnectionAnswer | undefined> {
  const { side, ask, output } = options;
  const title = side === "source" ? "Source" : "Destination";
  let previous: ConnectionAnswer | undefined;
  let method: "fields" | "url" = "fields";
  for (;;) {
    method = await ask.select({
      message: `How do you want to give the ${side} connection?`,
      choices: [
        { name: "Host, port, database, user, password", value: "fields" as const },
        { name: "Paste a connection URL (postgres://…)", value: "url" as const },
      ],
      default: method,
    });
    const config =
      method === "url" ? await askUrl(side, ask) : await askFields(ask, previous?.config, options.env);
    output.secrets.add(config.password);
    const schema =
      side === "source"
        ? await ask.input({
            message: "Source schema (whose tables are copied)",
            default: previous?.schema ?? "public",
            validate: (value) => (value.trim() !== "" ? true : "a schema name is needed"),
          })
        : "";
    const answer: ConnectionAnswer = { config, schema: schema.trim() };
    previous = answer;

    output.info(output.errStyle.dim(`Testing ${describeEndpoint(config)}…`));
    const result = await testConnection(side, answer, options.source);
    for (const line of renderEndpoint(title, result, output.errStyle)) output.info(line);
    if (result.ok) return answer;

    const next = await ask.select({
      message: `The ${side} check failed. What now?`,
      choices: [
        { name: "Enter the connection again", value: "retry" as const },
        ...(result.error
          ? []
          : [{ name: "Keep it anyway (fix the privileges before running)", value: "keep" as const }]),
        { name: "Abort (nothing is written)", value: "abort" as const },
      ],
    });
    if (next === "keep") return answer;
    if (next === "abort") return undefined;
  }
}

async function askFields(
  ask: Prompter,
  previous: ConnectionConfig | undefined,
  env: Readonly<Record<string, string | undefined>>,
): Promise<ConnectionConfig> {
  const host = await ask.input({
    message: "Host",
    default: previous?.host ?? "localhost",
    validate: (value) => (value.trim() !== "" ? true : "a host name or address is needed"),
  });
  const port = await ask.input({
    message: "Port",
    default: String(previous?.port ?? 5432),
    validate: (value) =>
      /^\d+$/.test(value.trim()) && Number(value) >= 1 && Number(value) <= 65535
        ? true
        : "a port number, 1 to 65535",
  });
  const database = await ask.input({
    message: "Database",
    ...(previous?.database ? { default: previous.database } : {}),
    validate: (value) => (value.trim() !== "" ? true : "a database name is needed"),
  });
  const user = await ask.input({
    message: "User",
    default: previous?.user ?? env.PGUSER ?? "postgres",
    validate: (value) => (value.trim() !== "" ? true : "a user name is needed"),
  });
  const password = await ask.password({
    message: `Password (not written to the file; empty for none)`,
  });
  const sslmode = await ask.select({
    message: "TLS (sslmode)",
    choices: SSL_CHOICES,
    default: previous?.sslmode ?? "prefer",
  });
  return {
    host: host.trim(),
    port: Number(port),
    database: database.trim(),
    user: user.trim(),
    ...(password !== "" ? { password } : {}),
    ...(sslmode !== "prefer" ? { sslmode } : {}),
  };
}

async function askUrl(side: Side, ask: Prompter): Promise<ConnectionConfig> {
  const url = await ask.input({
    message: `${side === "source" ? "Source" : "Destination"} URL`,
    validate: (value) => {
      const parsed = parseUrl(value.trim());
      return typeof parsed === "string" ? parsed : true;
    },
    display: maskUrlPassword,
  });
  const parsed = parseUrl(url.trim());
  if (typeof parsed === "string") throw new Error(`URL accepted by validation but not parsed: ${parsed}`);
  if (parsed.password !== undefined) return parsed;
  const password = await ask.password({ message: "Password (not written to the file; empty for none)" });
  return password === "" ? parsed : { ...parsed, password };
}

async function testConnection(
  side: Side,
  answer: ConnectionAnswer,
  source: ConnectionAnswer | undefined,
): Promise<EndpointCheck> {
  const sourceAnswer = side === "source" ? answer : source;
  if (!sourceAnswer) throw new Error("the destination is tested after the source");
  const probe = probeSpec({
    source: sourceAnswer.config,
    destination: answer.config,
    sourceSchema: sourceAnswer.schema,
  });
  if (!probe.spec) {
    return {
      endpoint: describeEndpoint(answer.config),
      ok: false,
      error: { kind: "spec", message: probe.problems.join("; ") },
      checks: [],
    };
  }
  const report = await check(probe.spec);
  return side === "source" ? report.source : report.destination;
}
