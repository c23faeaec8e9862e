/**
 * Issue 7, security: a distinctive password, given in URLs (flags, environment, spec), in a spec's `password`
 * field and through `${NAME}`, shows up in no output channel: CLI stdout and stderr of run / plan / check (text and
 * --json), the RunReport, progress events, thrown errors, and PostgreSQL error text that echoes a value. (The
 * Action's outputs and summary: test/action-run.test.ts; Pulumi outputs: test/provider-lifecycle.test.ts.)
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { run, type ConnectionConfig, type RunReport } from "../engine/index.js";
import { runCli, urlOf, type CliResult } from "./support/cli.js";
import { adminClient, createDatabase, type Major, type TestDatabase } from "./support/servers.js";
import { makeSpec } from "./support/spec.js";

/** Every character URLs encode, and one that JSON and YAML might escape differently. */
const PASSWORD = "Pgf3rry!S3cr3t:p@ss/w0rd#%?&=é";
const ROLE = `sec_${randomBytes(4).toString("hex")}`;

/** The forms a leak could take: raw, percent-encoded, and as a JSON string body. */
function leakForms(secret: string): string[] {
  return [...new Set([secret, encodeURIComponent(secret), JSON.stringify(secret).slice(1, -1)])];
}

describe("security: the password appears in no output", () => {
  let source: TestDatabase;
  let destination: TestDatabase;
  let workDir: string;
  const outputs: { what: string; text: string }[] = [];
  const as = (db: TestDatabase): ConnectionConfig => ({ ...db.config, user: ROLE, password: PASSWORD });
  const cli = async (what: string, args: string[], env: Record<string, string> = {}): Promise<CliResult> => {
    const result = await runCli(args, { cwd: workDir, env });
    outputs.push(
      { what: `${what} (stdout)`, text: result.stdout },
      { what: `${what} (stderr)`, text: result.stderr },
    );
    return result;
  };

  before(async () => {
    [source, destination] = await Promise.all([createDatabase(14, "sec_src"), createDatabase(17, "sec_dst")]);
    for (const major of [14, 17] as Major[]) {
      const admin = await adminClient(major);
      await admin
        .query(`CREATE ROLE ${ROLE} LOGIN PASSWORD '${PASSWORD.replaceAll("'", "''")}'`)
        .finally(() => admin.end());
    }
    await source.client.query(`
      CREATE TABLE users (id int PRIMARY KEY, email text);
      INSERT INTO users SELECT g, 'u' || g || '@example.com' FROM generate_series(1, 100) g;
      -- A value equal to the password: PostgreSQL quotes values in error details.
      CREATE TABLE tokens (id int PRIMARY KEY, value text);
      INSERT INTO tokens VALUES (1, '${PASSWORD.replaceAll("'", "''")}');
      GRANT USAGE ON SCHEMA public TO ${ROLE};
      GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${ROLE};`);
    await destination.client.query(`GRANT CREATE ON DATABASE "${destination.name}" TO ${ROLE}`);
    workDir = mkdtempSync(path.join(os.tmpdir(), "pgferry-secrets-"));
  });
  after(async () => {
    await Promise.all([source?.drop(), destination?.drop()]);
    for (const major of [14, 17] as Major[]) {
      const admin = await adminClient(major);
      await admin.query(`DROP ROLE IF EXISTS ${ROLE}`).finally(() => admin.end());
    }
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  test("CLI run with URLs in flags: --json report and progress", async () => {
    const result = await cli("run --json", [
      "run",
      "--source",
      urlOf(as(source)),
      "--destination",
      urlOf(as(destination)),
      "--json",
    ]);
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout) as RunReport;
    assert.equal(report.source?.user, ROLE);
  });

  test("CLI run from PGFERRY_*_URL: a table whose PostgreSQL error quotes the password", async () => {
    // A unique index added by hand in the target, and a source row that collides with it on the password value.
    await destination.client.query("CREATE UNIQUE INDEX tokens_value ON migrated.tokens (value)");
    await source.client.query(`INSERT INTO tokens VALUES (2, '${PASSWORD.replaceAll("'", "''")}')`);
    const env = { PGFERRY_SOURCE_URL: urlOf(as(source)), PGFERRY_DESTINATION_URL: urlOf(as(destination)) };
    const text = await cli("run incremental", ["run", "--mode", "incremental"], env);
    assert.equal(text.code, 1, text.stderr);
    const json = await cli("run incremental --json", ["run", "--mode", "incremental", "--json"], env);
    const tokens = (JSON.parse(json.stdout) as RunReport).tables.find((t) => t.name === "tokens");
    assert.equal(tokens?.error?.code, "23505");
    assert.match(
      tokens?.error?.detail ?? "",
      /^Key \(value\)=\(\*\*\*\*\) already exists\.$/,
      "redacted, not absent",
    );
  });

  test("CLI plan and check from a spec with password fields and ${NAME}", async () => {
    const file = path.join(workDir, "pgferry.yml");
    writeFileSync(
      file,
      [
        "source:",
        `  host: ${source.config.host}`,
        `  port: ${source.config.port}`,
        `  database: ${source.name}`,
        `  user: ${ROLE}`,
        `  password: ${JSON.stringify(PASSWORD)}`,
        "  sslmode: disable",
        "destination: ${SECRET_DESTINATION_URL}",
        "mode: incremental",
        "",
      ].join("\n"),
    );
    const env = { SECRET_DESTINATION_URL: urlOf(as(destination)) };
    for (const command of ["plan", "check"]) {
      assert.equal((await cli(command, [command, "pgferry.yml"], env)).code, 0);
      assert.equal((await cli(`${command} --json`, [command, "pgferry.yml", "--json"], env)).code, 0);
    }
  });

  test("CLI errors: the password as a wrong password, in an invalid URL, in broken YAML", async () => {
    const wrong = await cli("wrong password", [
      "run",
      "--source",
      urlOf(source.config, { password: PASSWORD }),
      "--destination",
      urlOf(as(destination)),
    ]);
    assert.equal(wrong.code, 2);
    assert.match(wrong.stderr, /Authentication failed/);

    const badPort = await cli("invalid URL", [
      "run",
      "--source",
      urlOf(as(source), { port: 99999 }),
      "--destination",
      urlOf(as(destination)),
    ]);
    assert.equal(badPort.code, 2);
    assert.match(badPort.stderr, /invalid URL "postgres:\/\/sec_\w+:\*\*\*\*@/);

    writeFileSync(
      path.join(workDir, "broken.yml"),
      `source: ${urlOf(as(source))}\ndestination: [${urlOf(as(destination))}\nmode: full\n`,
    );
    const broken = await cli("broken YAML", ["plan", "broken.yml"]);
    assert.equal(broken.code, 2);
    writeFileSync(
      path.join(workDir, "typed.yml"),
      `source: ${urlOf(as(source))}\ndestination: 42\njobs: [${PASSWORD}]\n`,
    );
    assert.equal((await cli("wrong types", ["plan", "typed.yml"])).code, 2);
  });

  test("engine API: report, events and thrown errors", async () => {
    const events: unknown[] = [];
    const spec = makeSpec(as(source), as(destination), { mode: "incremental" });
    const report = await run(spec, { onEvent: (event) => events.push(event) });
    outputs.push(
      { what: "RunReport", text: JSON.stringify(report) },
      { what: "events", text: JSON.stringify(events) },
    );
    const failed = report.tables.find((t) => t.name === "tokens");
    assert.equal(failed?.status, "failed", "the hand-made unique index still collides");
    assert.match(JSON.stringify(failed?.error), /\*\*\*\*/);

    for (const [what, config] of [
      ["wrong password", { ...source.config, password: PASSWORD }],
      ["unknown host", { ...as(source), host: "no-such-host.invalid" }],
      // A URL pasted into the database field by mistake.
      ["missing database", { ...as(source), database: urlOf(as(source)) }],
    ] as const) {
      const error = await run(makeSpec(config, as(destination))).then(
        () => assert.fail(`${what}: the run succeeded`),
        (e: unknown) => e as Error & { hint?: string },
      );
      outputs.push({
        what: `thrown (${what})`,
        text: `${error.message}\n${error.hint ?? ""}\n${String(error.cause ?? "")}`,
      });
    }
  });

  test("the password appears in none of the outputs above", () => {
    assert.ok(outputs.length >= 20, `${outputs.length} outputs collected`);
    for (const { what, text } of outputs) {
      for (const form of leakForms(PASSWORD)) {
        assert.ok(!text.includes(form), `${what} shows the password:\n${text}`);
      }
    }
  });
});
