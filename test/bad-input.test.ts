/**
 * Issue 7, bad-input suite: every way of asking for something wrong, run through the CLI as a user would. Each
 * ends with exit code 2, exactly one `error:` line (and at most one `hint:` line), no stack trace, nothing on
 * stdout, and nothing written anywhere: the canary table in the source survives every injection attempt, and no
 * target schema appears in the destination.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import type { ConnectionConfig } from "../engine/index.js";
import { runCli, STACK_LINE, urlOf } from "./support/cli.js";
import { adminClient, createDatabase, type TestDatabase } from "./support/servers.js";

interface BadInput {
  name: string;
  /** Command line after `pgferry`; a YAML text in `spec` is written to a file and named last. */
  args?: (c: Context) => string[];
  spec?: (c: Context) => string;
  error: RegExp;
  hint?: RegExp;
  /** Runs against the databases: gets a target schema of its own, so that no two cases wait for one lock. */
  runtime?: boolean;
}

interface Context {
  src: string;
  dst: string;
  url(config: ConnectionConfig, overrides?: Partial<ConnectionConfig>, query?: string): string;
  source: TestDatabase;
  destination: TestDatabase;
  roles: { reader: string; noConnect: string; password: string };
}

/** A spec whose connections come from the environment (SRC_URL, DST_URL), plus `extra` lines. */
const yaml =
  (...extra: string[]) =>
  () =>
    ["source: ${SRC_URL}", "destination: ${DST_URL}", ...extra, ""].join("\n");

const CASES: BadInput[] = [
  // The spec file: syntax, shape, types and values.
  { name: "malformed YAML", spec: () => "source: [unclosed\nmode: full\n", error: /invalid YAML/ },
  {
    name: "a YAML list instead of a mapping",
    spec: () => "- users\n- orders\n",
    error: /expected an object, found a list/,
  },
  {
    name: "wrong type: jobs is a word",
    spec: yaml("jobs: two"),
    error: /jobs: expected integer, found string "two"/,
  },
  {
    name: "wrong type: tables is a number",
    spec: yaml("tables: 42"),
    error: /tables: expected a list, found number 42/,
  },
  {
    name: "unknown key",
    spec: yaml("tabels: [users]"),
    error: /unknown key "tabels" — did you mean "tables"\?/,
  },
  {
    name: "unknown mode",
    spec: yaml("mode: sideways"),
    error: /mode: must be one of full, incremental, tables \(found "sideways"\)/,
  },
  {
    name: "unknown strategy",
    spec: yaml("mode: tables", "tables:", "  - name: users", "    strategy: merge"),
    error: /strategy: must be one of recreate, delta \(found "merge"\)/,
  },
  { name: "empty table list", spec: yaml("tables: []"), error: /tables: must list at least one table/ },
  {
    name: "tables mode without tables",
    spec: yaml("mode: tables"),
    error: /tables: is required when mode is "tables"/,
  },
  {
    name: "a table listed twice",
    spec: yaml("tables: [users, users]"),
    error: /table "users" is listed twice/,
  },
  {
    name: "a table both selected and excluded",
    spec: yaml("tables: [users]", "exclude: [users]"),
    error: /"users" is both selected .* and excluded/,
  },
  {
    name: "target schema public",
    spec: yaml("targetSchema: public"),
    error: /"public" cannot be the target schema/,
  },
  {
    name: "target schema pg_catalog",
    spec: yaml("targetSchema: pg_catalog"),
    error: /"pg_catalog" cannot be the target schema/,
  },
  {
    name: "target schema equal to the source schema of the same database",
    spec: (c) =>
      [
        "source: ${SRC_URL}",
        `destination: ${c.src.replace("127.0.0.1", "localhost")}`,
        "sourceSchema: app",
        "targetSchema: app",
        "",
      ].join("\n"),
    error: /"app" is also the source schema, and source and destination are the same database/,
  },
  { name: "jobs = 0", spec: yaml("jobs: 0"), error: /jobs: must be between 1 and 64 \(found 0\)/ },
  {
    name: "jobs huge",
    spec: yaml("jobs: 100000"),
    error: /jobs: must be between 1 and 64 \(found 100000\)/,
  },
  {
    name: "missing environment variable",
    spec: () => "source: ${SRC_URL}\ndestination: ${PGFERRY_TEST_NOT_SET}\n",
    error: /destination: environment variable PGFERRY_TEST_NOT_SET is not set/,
  },
  {
    name: "invalid URL (port out of range)",
    spec: () => "source: postgres://u:p@host:99999/db\ndestination: ${DST_URL}\n",
    error: /source: invalid URL/,
  },
  {
    name: "unsupported URL parameter",
    spec: () => "source: ${SRC_URL}&ssl=true\ndestination: ${DST_URL}\n",
    error: /unsupported URL parameter "ssl": use sslmode=require/,
  },
  {
    name: "connection object without a host",
    spec: () => "source:\n  database: app\n  user: me\ndestination: ${DST_URL}\n",
    error: /source\.host: is required/,
  },
  // Flags and commands.
  {
    name: "unknown command",
    args: () => ["frobnicate"],
    error: /unknown command 'frobnicate'/,
    hint: /add --help/,
  },
  {
    name: "not a postgres URL",
    args: (c) => ["run", "--source", "mysql://u:p@host/db", "--destination", c.dst],
    error: /--source: must be a postgres:\/\/ or postgresql:\/\/ URL/,
  },
  // Against the servers: refused before any table is touched.
  {
    name: "unknown table",
    runtime: true,
    args: (c) => ["run", "--source", c.src, "--destination", c.dst, "--tables", "nope"],
    error: /Table "nope" not found in source schema "public"/,
    hint: /Available: canary, ident, parted, users/,
  },
  {
    name: "table name trying SQL injection",
    runtime: true,
    args: (c) => [
      "run",
      "--source",
      c.src,
      "--destination",
      c.dst,
      "--tables",
      "users; DROP TABLE canary; --",
    ],
    error: /Table "users; DROP TABLE canary; --" not found/,
    hint: /Available/,
  },
  {
    name: "table name trying to break out of quotes",
    runtime: true,
    args: (c) => [
      "run",
      "--source",
      c.src,
      "--destination",
      c.dst,
      "--mode",
      "incremental",
      "--tables",
      'canary" CASCADE; DROP TABLE "canary',
    ],
    error: /Table "canary" CASCADE; DROP TABLE "canary" not found/,
    hint: /Available/,
  },
  {
    name: "source schema trying SQL injection",
    runtime: true,
    args: (c) => [
      "run",
      "--source",
      c.src,
      "--destination",
      c.dst,
      "--source-schema",
      "public'; DROP TABLE canary; --",
    ],
    error: /The source schema "public'; DROP TABLE canary; --" does not exist/,
  },
  {
    name: "a partition instead of its table",
    runtime: true,
    args: (c) => ["run", "--source", c.src, "--destination", c.dst, "--tables", "parted_1"],
    error: /"parted_1" is a partition: select the partitioned table instead/,
  },
  {
    name: "every table excluded",
    runtime: true,
    args: (c) => ["run", "--source", c.src, "--destination", c.dst, "--exclude", "canary,ident,parted,users"],
    error: /Nothing to copy/,
  },
  {
    name: "a delta on a table whose key is excluded",
    runtime: true,
    args: (c) => [
      "run",
      "--source",
      c.src,
      "--destination",
      c.dst,
      "--mode",
      "tables",
      "--tables",
      "ident",
      "--strategy",
      "delta",
      "--exclude-auto-generated",
    ],
    error:
      /Table "ident": strategy delta needs its primary key, but excludeAutoGenerated would leave out "id"/,
    hint: /strategy: recreate/,
  },
  {
    name: "unreachable host",
    runtime: true,
    args: (c) => [
      "run",
      "--source",
      c.src.replace("127.0.0.1", "no-such-host.invalid"),
      "--destination",
      c.dst,
    ],
    error: /Cannot reach the source postgres@no-such-host\.invalid:\d+\/.*ENOTFOUND/,
    hint: /Check the host and port/,
  },
  {
    name: "connection refused, after waitTimeoutSeconds",
    runtime: true,
    spec: (c) =>
      [
        `source: ${c.url(c.source.config, { port: 1 })}`,
        "destination: ${DST_URL}",
        "waitTimeoutSeconds: 1",
        "",
      ].join("\n"),
    error: /Cannot reach the source postgres@127\.0\.0\.1:1\/.*ECONNREFUSED/,
    hint: /Check the host and port/,
  },
  {
    name: "wrong password",
    runtime: true,
    args: (c) => [
      "run",
      "--source",
      c.url(c.source.config, { password: "wrong-password" }),
      "--destination",
      c.dst,
    ],
    error: /Authentication failed on the source/,
    hint: /Check the user name and password/,
  },
  {
    name: "missing database",
    runtime: true,
    args: (c) => [
      "run",
      "--source",
      c.src,
      "--destination",
      c.url(c.destination.config, { database: "no_such_db" }),
    ],
    error: /The destination database "no_such_db" does not exist/,
  },
  {
    name: "no CONNECT privilege",
    runtime: true,
    args: (c) => [
      "run",
      "--source",
      c.url(c.source.config, { user: c.roles.noConnect, password: c.roles.password }),
      "--destination",
      c.dst,
    ],
    error: /Permission denied on the source .*permission denied for database/,
    hint: /CONNECT/,
  },
  {
    name: "no SELECT privilege on a source table",
    runtime: true,
    args: (c) => [
      "run",
      "--source",
      c.url(c.source.config, { user: c.roles.reader, password: c.roles.password }),
      "--destination",
      c.dst,
    ],
    error:
      /The source user may not read tables "canary", "ident", "parted" of schema "public" \(no SELECT privilege\)/,
    hint: /GRANT SELECT/,
  },
  {
    name: "no CREATE privilege on the destination",
    runtime: true,
    args: (c) => [
      "run",
      "--source",
      c.src,
      "--destination",
      c.url(c.destination.config, { user: c.roles.reader, password: c.roles.password }),
    ],
    error: /Cannot prepare target schema "bad_\w+": permission denied for database/,
    hint: /needs CREATE on the database/,
  },
  {
    name: "TLS required, server without TLS",
    runtime: true,
    args: (c) => ["run", "--source", c.url(c.source.config, {}, "sslmode=require"), "--destination", c.dst],
    error: /TLS failed on the source .*does not support SSL/,
    hint: /sslmode/,
  },
  {
    name: "verify-full with a CA file that does not exist",
    runtime: true,
    args: (c) => [
      "run",
      "--source",
      c.url(c.source.config, {}, "sslmode=verify-full&sslrootcert=/nonexistent/ca.pem"),
      "--destination",
      c.dst,
    ],
    error:
      /Cannot connect to the source .*: ENOENT: no such file or directory, open '\/nonexistent\/ca\.pem'/,
  },
];

/** Lines a run may print on stderr before it fails, besides the error itself. */
const PROGRESS =
  /^(\d+ tables? to process|Using \.\/pgferry\.yml|Cannot reach the (source|destination) .* yet \(.*\); retrying for up to \d+ s…)$/;

describe(
  "bad input: exit 2, one clear error line, no stack trace, nothing touched",
  { concurrency: 4 },
  () => {
    let source: TestDatabase;
    let destination: TestDatabase;
    let workDir: string;
    const suffix = randomBytes(4).toString("hex");
    const roles = {
      reader: `bad_reader_${suffix}`,
      noConnect: `bad_noconnect_${suffix}`,
      password: "a-password-for-bad-input",
    };
    let context: Context;

    before(async () => {
      [source, destination] = await Promise.all([
        createDatabase(17, "bad_src"),
        createDatabase(17, "bad_dst"),
      ]);
      await source.client.query(`
      CREATE TABLE canary (id int PRIMARY KEY);
      INSERT INTO canary VALUES (1);
      CREATE TABLE users (id int PRIMARY KEY, name text);
      CREATE TABLE ident (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v text);
      CREATE TABLE parted (id int PRIMARY KEY) PARTITION BY RANGE (id);
      CREATE TABLE parted_1 PARTITION OF parted FOR VALUES FROM (0) TO (100);
      CREATE ROLE ${roles.reader} LOGIN PASSWORD '${roles.password}';
      CREATE ROLE ${roles.noConnect} LOGIN PASSWORD '${roles.password}';
      GRANT USAGE ON SCHEMA public TO ${roles.reader};
      GRANT SELECT ON users TO ${roles.reader};
      REVOKE CONNECT ON DATABASE "${source.name}" FROM PUBLIC;
      GRANT CONNECT ON DATABASE "${source.name}" TO ${roles.reader};`);
      workDir = mkdtempSync(path.join(os.tmpdir(), "pgferry-bad-input-"));
      const url = (config: ConnectionConfig, overrides: Partial<ConnectionConfig> = {}, query?: string) => {
        const plain = urlOf(config, overrides);
        return query ? plain.replace("sslmode=disable", query) : plain;
      };
      context = { src: url(source.config), dst: url(destination.config), url, source, destination, roles };
    });
    // Checked once every case has run: nothing was written by any of them.
    after(async () => {
      const { rows } = await source.client.query<{ n: number }>("SELECT count(*)::int AS n FROM canary");
      assert.equal(rows[0]?.n, 1, "the canary table is still there, untouched");
      const schemas = await destination.client.query<{ nspname: string }>(
        "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'bad\\_%' OR nspname = 'migrated'",
      );
      assert.deepEqual(schemas.rows, [], "no case created anything in the destination");
      await Promise.all([source?.drop(), destination?.drop()]);
      const admin = await adminClient(17);
      await admin.query(`DROP ROLE IF EXISTS ${roles.reader}, ${roles.noConnect}`).finally(() => admin.end());
      if (workDir) rmSync(workDir, { recursive: true, force: true });
    });

    CASES.forEach((bad, index) => {
      test(bad.name, async () => {
        const args = bad.args?.(context) ?? ["run"];
        if (bad.spec) {
          const file = `case-${index}.yml`;
          writeFileSync(path.join(workDir, file), bad.spec(context));
          args.push(file);
        }
        if (bad.runtime) args.push("--target-schema", `bad_${index}`);
        const result = await runCli(args, {
          cwd: workDir,
          env: { SRC_URL: context.src, DST_URL: context.dst },
        });
        assert.equal(result.code, 2, `${args.join(" ")}\n${result.stderr}`);
        assert.equal(result.stdout, "");
        assert.doesNotMatch(result.stderr, STACK_LINE);
        const lines = result.stderr
          .trimEnd()
          .split("\n")
          .filter((line) => !PROGRESS.test(line));
        const errors = lines.filter((line) => line.startsWith("error: "));
        const hints = lines.filter((line) => /^(hint: |\(add --help)/.test(line));
        assert.equal(errors.length, 1, result.stderr);
        assert.equal(
          errors.length + hints.length,
          lines.length,
          `only an error and a hint:\n${result.stderr}`,
        );
        assert.ok(hints.length <= 1, result.stderr);
        if (bad.spec && !bad.runtime) {
          assert.match(errors[0] ?? "", /^error: case-\d+\.yml:\d+:\d+: /, "names file:line:column");
        }
        assert.match(errors[0] ?? "", bad.error);
        if (bad.hint) assert.match(hints[0] ?? "", bad.hint);
      });
    });
  },
);
