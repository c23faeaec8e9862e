import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import type { CheckReport } from "../engine/index.js";
import { freePort } from "../cli/embedded-server.js";
import { assertNoSecret, runCli, STACK_LINE, urlOf, type CliResult } from "./support/cli.js";
import { adminClient, createDatabase, type TestDatabase } from "./support/servers.js";

describe("pgferry check", () => {
  let source: TestDatabase;
  let destination: TestDatabase;
  const suffix = randomBytes(4).toString("hex");
  const reader = { name: `reader_${suffix}`, password: `reader-${randomBytes(8).toString("hex")}` };
  const writer = { name: `writer_${suffix}`, password: `writer-${randomBytes(8).toString("hex")}` };
  const outputs: string[] = [];
  const cli = async (args: string[], env: Record<string, string> = {}): Promise<CliResult> => {
    const started = Date.now();
    const result = await runCli(args, { env });
    outputs.push(result.stdout, result.stderr);
    assert.ok(Date.now() - started < 20_000, "a check answers quickly, even for an unreachable server");
    return result;
  };

  before(async () => {
    [source, destination] = await Promise.all([
      createDatabase(14, "clichk_src"),
      createDatabase(17, "clichk_dst"),
    ]);
    await source.client.query(`
      CREATE TABLE users (id serial PRIMARY KEY, email text);
      CREATE TABLE secrets (id int PRIMARY KEY, value text);
      CREATE ROLE ${reader.name} LOGIN PASSWORD '${reader.password}';
      GRANT USAGE ON SCHEMA public TO ${reader.name};
      GRANT SELECT ON users TO ${reader.name};`);
    // A role that may connect but not create anything in the destination database.
    await destination.client.query(`CREATE ROLE ${writer.name} LOGIN PASSWORD '${writer.password}'`);
  });
  after(async () => {
    await Promise.all([source?.drop(), destination?.drop()]);
    for (const [major, role] of [
      [14, reader.name],
      [17, writer.name],
    ] as const) {
      const admin = await adminClient(major);
      await admin.query(`DROP ROLE IF EXISTS ${role}`).finally(() => admin.end());
    }
  });

  const sourceUrl = (overrides = {}) => urlOf(source.config, overrides);
  const destinationUrl = (overrides = {}) => urlOf(destination.config, overrides);

  test("both endpoints fine: every check is ticked and the exit code is 0", async () => {
    const result = await cli(["check", "--source", sourceUrl(), "--destination", destinationUrl()]);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(
      result.stdout,
      /^Source +postgres@127\.0\.0\.1:\d+\/clichk_src_\w+ +\(PostgreSQL 14\.\d+\)$/m,
    );
    assert.match(result.stdout, /^ {2}✓ source SELECT privilege: SELECT granted on every selected table$/m);
    assert.match(result.stdout, /^ {2}✓ destination CREATE privilege: CREATE granted on the database/m);
    assert.match(result.stdout, /^✓ Both connections work and have the privileges a run needs\.$/m);
  });

  test("an unreachable server (closed port) is told apart, with a hint", async () => {
    const port = await freePort();
    const result = await cli(["check", "--source", sourceUrl({ port }), "--destination", destinationUrl()]);
    assert.equal(result.code, 2);
    assert.match(
      result.stdout,
      new RegExp(`^ {2}✗ connection: Cannot reach the source postgres@127\\.0\\.0\\.1:${port}/`, "m"),
    );
    assert.match(result.stdout, /^ {4}hint: Check the host and port/m);
    assert.match(result.stdout, /^✗ 1 problem: fix it and run `pgferry check` again\.$/m);
  });

  test("a wrong password is an authentication failure, and the wrong password is not shown either", async () => {
    const wrong = "definitely-wrong-pw";
    const result = await cli([
      "check",
      "--source",
      sourceUrl(),
      "--destination",
      destinationUrl({ password: wrong }),
    ]);
    assert.equal(result.code, 2);
    assert.match(result.stdout, /^ {2}✗ connection: Authentication failed on the destination postgres@/m);
    assertNoSecret([result.stdout, result.stderr], wrong, "the wrong password");
  });

  test("a missing database is told apart", async () => {
    const result = await cli([
      "check",
      "--source",
      sourceUrl({ database: "no_such_db" }),
      "--destination",
      destinationUrl(),
    ]);
    assert.equal(result.code, 2);
    assert.match(
      result.stdout,
      /^ {2}✗ connection: The source database "no_such_db" does not exist on 127\.0\.0\.1:\d+\.$/m,
    );
  });

  test("a source table the user may not read is a missing privilege", async () => {
    const result = await cli([
      "check",
      "--source",
      sourceUrl({ user: reader.name, password: reader.password }),
      "--destination",
      destinationUrl(),
    ]);
    assert.equal(result.code, 2);
    assert.match(result.stdout, /^ {2}✓ connection: connected$/m);
    assert.match(result.stdout, /^ {2}✗ source SELECT privilege: no SELECT privilege on: secrets$/m);
    // Leaving that table out makes the check pass.
    const narrowed = await cli([
      "check",
      "--source",
      sourceUrl({ user: reader.name, password: reader.password }),
      "--destination",
      destinationUrl(),
      "--exclude",
      "secrets",
    ]);
    assert.equal(narrowed.code, 0, narrowed.stdout);
    assertNoSecret(outputs, reader.password, "the reader's password");
  });

  test("a destination user without CREATE on the database is a missing privilege", async () => {
    const result = await cli([
      "check",
      "--source",
      sourceUrl(),
      "--destination",
      destinationUrl({ user: writer.name, password: writer.password }),
    ]);
    assert.equal(result.code, 2);
    assert.match(
      result.stdout,
      /^ {2}✗ destination CREATE privilege: no CREATE privilege on the database to create schema "migrated"$/m,
    );
    assertNoSecret(outputs, writer.password, "the writer's password");
  });

  test("--json prints the CheckReport; without UTF-8 the marks are ASCII", async () => {
    const json = await cli([
      "check",
      "--source",
      sourceUrl(),
      "--destination",
      destinationUrl({ password: "nope-nope" }),
      "--json",
    ]);
    assert.equal(json.code, 2);
    const report = JSON.parse(json.stdout) as CheckReport;
    assert.equal(report.ok, false);
    assert.equal(report.source.ok, true);
    assert.equal(report.destination.error?.kind, "authentication");

    const ascii = await cli(
      ["check", "--source", sourceUrl(), "--destination", destinationUrl({ database: "gone" })],
      {
        LANG: "C",
        LC_ALL: "C",
      },
    );
    assert.match(ascii.stdout, /^ {2}\[ok\] connection: connected$/m);
    assert.match(ascii.stdout, /^ {2}\[x\] connection: The destination database "gone" does not exist/m);
    assert.doesNotMatch(ascii.stdout, /[✓✗]/);
  });

  test("no stack trace and no password in any output", () => {
    for (const output of outputs) assert.doesNotMatch(output, STACK_LINE);
    assertNoSecret(outputs, source.config.password ?? "");
  });
});
