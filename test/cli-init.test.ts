import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, afterEach, before, describe, test } from "node:test";
import { loadSpecFile } from "../engine/index.js";
import { cliCommand, cliEnv, runCli, urlOf } from "./support/cli.js";
import { listTables } from "./support/compare.js";
import { KEYS, PtySession } from "./support/pty.js";
import { createDatabase, type TestDatabase } from "./support/servers.js";

const SOURCE_SQL = `
  CREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL, created_at timestamptz DEFAULT now());
  CREATE TABLE orders (id serial PRIMARY KEY, user_id int REFERENCES users, total numeric(10, 2));
  CREATE TABLE audit_log (at timestamptz DEFAULT now(), actor text, action text);
  INSERT INTO users (email) SELECT 'u' || g || '@example.com' FROM generate_series(1, 300) g;
  INSERT INTO orders (user_id, total) SELECT 1 + g % 300, g FROM generate_series(1, 900) g;
  INSERT INTO audit_log (actor, action) SELECT 'u' || g, 'login' FROM generate_series(1, 40) g;
  ANALYZE;`;

/** `? Question` as inquirer draws a prompt that waits for an answer. */
const prompt = (text: string) => `? ${text}`;

describe("pgferry init, driven through a terminal", () => {
  let source: TestDatabase;
  let destination: TestDatabase;
  let dir: string;
  const sessions: PtySession[] = [];

  const start = (cwd: string, args: string[] = []) => {
    const session = new PtySession(cliCommand(["init", ...args]), { cwd, env: cliEnv() });
    sessions.push(session);
    return session;
  };
  const finish = (session: PtySession) => session.exited;
  /** Answers the field-by-field connection questions. */
  const answerFields = async (session: PtySession, config: TestDatabase["config"], password: string) => {
    await session.expect(prompt("Host"));
    session.line(config.host);
    await session.expect(prompt("Port"));
    session.line(String(config.port));
    await session.expect(prompt("Database"));
    session.line(config.database);
    await session.expect(prompt("User"));
    session.line(config.user);
    await session.expect(prompt("Password"));
    session.line(password);
    await session.expect(prompt("TLS (sslmode)"));
    session.send(KEYS.up + KEYS.enter); // from "prefer" up to the last choice, "disable"
  };

  before(async () => {
    [source, destination] = await Promise.all([
      createDatabase(14, "cliinit_src"),
      createDatabase(17, "cliinit_dst"),
    ]);
    await source.client.query(SOURCE_SQL);
    dir = mkdtempSync(path.join(os.tmpdir(), "pgferry-cli-init-"));
  });
  afterEach(async () => {
    // A test that failed half-way leaves its terminal waiting for an answer: close it.
    for (const session of sessions.splice(0)) {
      session.kill();
      await session.exited;
    }
  });
  after(async () => {
    await Promise.all([source?.drop(), destination?.drop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  test("incremental: a wrong password is asked again, the destination URL is pasted, the spec is written without a password", async () => {
    const cwd = mkdtempSync(path.join(dir, "incremental-"));
    const password = source.config.password ?? "";
    const destinationPassword = destination.config.password ?? "";
    const session = start(cwd);
    await session.expect(prompt("What do you want to do?"));
    session.send(KEYS.down + KEYS.enter); // incremental
    await session.expect(prompt("How do you want to give the source connection?"));
    session.send(KEYS.enter); // field by field
    await answerFields(session, source.config, "wrong-password");
    await session.expect(prompt("Source schema"));
    session.send(KEYS.enter); // public
    await session.expect("✗ connection: Authentication failed on the source");
    await session.expect(prompt("The source check failed. What now?"));
    session.send(KEYS.enter); // enter it again
    await session.expect(prompt("How do you want to give the source connection?"));
    session.send(KEYS.enter);
    // The previous answers are the defaults now: only the password is typed again.
    for (const question of ["Host", "Port", "Database", "User"]) {
      await session.expect(prompt(question));
      session.send(KEYS.enter);
    }
    await session.expect(prompt("Password"));
    session.line(password);
    await session.expect(prompt("TLS (sslmode)"));
    session.send(KEYS.enter); // the previous answer, "disable"
    await session.expect(prompt("Source schema"));
    session.send(KEYS.enter);
    await session.expect("✓ source SELECT privilege");

    await session.expect(prompt("How do you want to give the destination connection?"));
    session.send(KEYS.down + KEYS.enter); // paste a URL
    await session.expect(prompt("Destination URL"));
    session.line(urlOf(destination.config));
    await session.expect("✓ destination CREATE privilege");

    await session.expect(prompt("Tables to copy"));
    const tableList = await session.expect("users");
    assert.match(tableList, /audit_log +~40 rows +\(no primary key: skipped by incremental sync\)/);
    session.send(KEYS.down + KEYS.space + KEYS.enter); // leave out orders
    await session.expect(prompt("Target schema"));
    session.send(KEYS.enter); // migrated
    await session.expect(/tables +all 2 of 3, except orders/);
    await session.expect(prompt("Write pgferry.yml?"));
    session.send(KEYS.enter);
    await session.expect("✓ Wrote pgferry.yml");
    await session.expect("export PGFERRY_SOURCE_PASSWORD='…'");
    await session.expect("export PGFERRY_DESTINATION_PASSWORD='…'");
    await session.expect("pgferry plan");
    const exit = await finish(session);
    assert.equal(exit.code, 0, session.screen);

    const file = path.join(cwd, "pgferry.yml");
    const text = readFileSync(file, "utf8");
    for (const secret of [password, destinationPassword]) {
      assert.ok(!text.includes(secret), "a password is in the spec file");
      assert.ok(!session.rawOutput.includes(secret), "a password was shown on the terminal");
      assert.ok(
        !session.rawOutput.includes(encodeURIComponent(secret)),
        "a password was shown on the terminal",
      );
    }
    assert.match(text, /password: \$\{PGFERRY_SOURCE_PASSWORD\}/);
    assert.match(text, /password: \$\{PGFERRY_DESTINATION_PASSWORD\}/);

    const env = { PGFERRY_SOURCE_PASSWORD: password, PGFERRY_DESTINATION_PASSWORD: destinationPassword };
    const spec = await loadSpecFile(file, { env });
    assert.equal(spec.mode, "incremental");
    assert.deepEqual(spec.exclude, ["orders"]);
    assert.equal(spec.tables, undefined);
    assert.equal(spec.targetSchema, "migrated");
    assert.deepEqual(
      [spec.source.database, spec.source.sslmode, spec.destination.database, spec.destination.password],
      [source.name, "disable", destination.name, destinationPassword],
    );

    // What init prints next works as printed: pgferry check finds ./pgferry.yml.
    const checked = await runCli(["check"], { cwd, env });
    assert.equal(checked.code, 0, checked.stdout + checked.stderr);
  });

  test("tables mode: per-table strategy and auto-generated exclusion, then the written spec runs", async () => {
    const cwd = mkdtempSync(path.join(dir, "tables-"));
    const password = source.config.password ?? "";
    const session = start(cwd, ["--output", "tables.yml"]);
    await session.expect(prompt("What do you want to do?"));
    session.send(KEYS.down + KEYS.down + KEYS.enter); // tables
    await session.expect(prompt("How do you want to give the source connection?"));
    session.send(KEYS.enter);
    await answerFields(session, source.config, password);
    await session.expect(prompt("Source schema"));
    session.send(KEYS.enter);
    await session.expect(prompt("How do you want to give the destination connection?"));
    session.send(KEYS.enter);
    await answerFields(session, destination.config, destination.config.password ?? "");
    await session.expect(prompt("Tables to copy"));
    session.send(KEYS.enter); // nothing picked yet: refused
    await session.expect("pick at least one table");
    session.send(KEYS.space + KEYS.down + KEYS.down + KEYS.space + KEYS.enter); // audit_log and users

    await session.expect(prompt("audit_log: how?"));
    await session.expect("(no primary key)"); // delta is not offered
    session.send(KEYS.enter); // recreate
    await session.expect(prompt("audit_log: leave out auto-generated columns"));
    session.line("y");
    await session.expect(prompt("users: how?"));
    session.send(KEYS.down + KEYS.enter); // delta
    await session.expect(prompt("users: leave out auto-generated columns"));
    session.send(KEYS.enter); // no
    await session.expect(prompt("Target schema"));
    session.line(`${KEYS.backspace.repeat(8)}public`);
    await session.expect("targetSchema: ");
    session.line(`${KEYS.backspace.repeat(6)}copies`);
    await session.expect(/tables +audit_log \(recreate, without auto-generated columns\), users \(delta\)/);
    await session.expect(prompt("Write tables.yml?"));
    session.send(KEYS.enter);
    await session.expect("pgferry run tables.yml");
    const exit = await finish(session);
    assert.equal(exit.code, 0, session.screen);

    const env = {
      PGFERRY_SOURCE_PASSWORD: password,
      PGFERRY_DESTINATION_PASSWORD: destination.config.password,
    };
    const spec = await loadSpecFile(path.join(cwd, "tables.yml"), { env });
    assert.equal(spec.mode, "tables");
    assert.equal(spec.targetSchema, "copies");
    assert.deepEqual(spec.tables, [
      { name: "audit_log", strategy: "recreate", excludeAutoGenerated: true },
      { name: "users", strategy: "delta" },
    ]);

    const ran = await runCli(["run", "tables.yml"], { cwd, env });
    assert.equal(ran.code, 0, ran.stderr);
    assert.deepEqual(await listTables(destination.client, "copies"), ["audit_log", "users"]);
    const columns = await destination.client.query<{ attname: string }>(
      "SELECT attname FROM pg_attribute WHERE attrelid = 'copies.audit_log'::regclass AND attnum > 0 ORDER BY attnum",
    );
    assert.deepEqual(
      columns.rows.map((row) => row.attname),
      ["actor", "action"],
    );
  });

  test("an existing spec file is kept unless replacing it is confirmed", async () => {
    const cwd = mkdtempSync(path.join(dir, "existing-"));
    writeFileSync(path.join(cwd, "pgferry.yml"), "# mine\n");
    const session = start(cwd);
    await session.expect(prompt("pgferry.yml exists. Replace it at the end?"));
    session.send(KEYS.enter); // the default is no
    await session.expect("Nothing written");
    const exit = await finish(session);
    assert.equal(exit.code, 0);
    assert.equal(readFileSync(path.join(cwd, "pgferry.yml"), "utf8"), "# mine\n");
  });

  test("Ctrl-C aborts with exit code 130 and writes nothing", async () => {
    const cwd = mkdtempSync(path.join(dir, "abort-"));
    const session = start(cwd);
    await session.expect(prompt("What do you want to do?"));
    session.send(KEYS.ctrlC);
    await session.expect("Interrupted — nothing was written.");
    const exit = await finish(session);
    assert.equal(exit.code, 130);
    assert.equal(existsSync(path.join(cwd, "pgferry.yml")), false);
  });

  test("without a terminal, init says so and exits 2", async () => {
    const result = await runCli(["init"], { cwd: dir });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /^error: pgferry init asks questions: run it in a terminal\.$/m);
  });
});
