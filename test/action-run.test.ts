/**
 * The committed Action bundle, run as the GitHub runner runs it (see support/action-runner.ts), against a
 * PostgreSQL 14 source and a PostgreSQL 17 destination, connecting as a role whose password has characters that
 * URLs encode: every run checks that the password shows up nowhere but in `::add-mask::` commands.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import type { RunReport, TableResult } from "../engine/index.js";
import { maskedValues, repoRoot, runAction, type ActionRun } from "./support/action-runner.js";
import { assertTablesIdentical, databaseFingerprint } from "./support/compare.js";
import { adminClient, createDatabase, serverUrl, type Major, type TestDatabase } from "./support/servers.js";
import { loadSqlFile } from "./support/sql-script.js";

const ROLE = "ferry_user";
const PASSWORD = "S3cr3t-P@ss%w0rd";
const ENCODED_PASSWORD = encodeURIComponent(PASSWORD);
const NASTY = `<script>alert("x")</script> & 'co'`;
const ESCAPED_NASTY = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;co&#39;";

const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`;

const SOURCE_SCHEMA = `
  CREATE TABLE customers (id serial PRIMARY KEY, name text NOT NULL);
  CREATE TABLE orders (id bigserial PRIMARY KEY, customer_id int NOT NULL REFERENCES customers, amount numeric(10, 2));
  CREATE TABLE audit_log (at timestamptz DEFAULT now(), event text);
  CREATE TABLE ${quoteIdent(NASTY)} (id int PRIMARY KEY, note text);
  CREATE VIEW big_orders AS SELECT * FROM orders WHERE amount > 100;
  INSERT INTO customers (name) SELECT 'customer ' || g FROM generate_series(1, 50) g;
  INSERT INTO orders (customer_id, amount) SELECT 1 + g % 50, g * 1.5 FROM generate_series(1, 200) g;
  INSERT INTO audit_log (event) SELECT 'event ' || g FROM generate_series(1, 10) g;
  INSERT INTO ${quoteIdent(NASTY)} VALUES (1, '<b>bold</b>'), (2, 'a & b'), (3, '"quoted"');`;
const KEYED = ["customers", "orders", NASTY];

const SPEC_FILE = `# The Action tests' spec: the connection URLs come from the inputs.
sourceSchema: public
targetSchema: migrated
mode: full
jobs: 2
`;

/** Creates the login role on a server (once per cluster), or resets its password. */
async function grantSourceRead(database: TestDatabase): Promise<void> {
  await database.client.query(`
    GRANT USAGE ON SCHEMA public TO ${ROLE};
    GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${ROLE};
    GRANT SELECT ON ALL SEQUENCES IN SCHEMA public TO ${ROLE};`);
}

async function ensureRole(major: Major): Promise<void> {
  const admin = await adminClient(major);
  try {
    await admin.query(`DO $$ BEGIN
      IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${ROLE}') THEN
        CREATE ROLE ${ROLE} LOGIN PASSWORD '${PASSWORD}';
      ELSE
        ALTER ROLE ${ROLE} LOGIN PASSWORD '${PASSWORD}';
      END IF;
    END $$`);
  } catch (error) {
    // Two files creating the role at once: the other one won.
    if (!["23505", "42710"].includes((error as { code?: string }).code ?? "")) throw error;
  } finally {
    await admin.end();
  }
}

function urlFor(database: TestDatabase, password = ENCODED_PASSWORD): string {
  const server = new URL(serverUrl(database.major));
  return `postgres://${ROLE}:${password}@${server.hostname}:${server.port}/${database.name}?sslmode=disable`;
}

function tablesOf(run: ActionRun): Record<string, TableResult> {
  const report = JSON.parse(run.outputs.report ?? "null") as RunReport;
  return Object.fromEntries(report.tables.map((table) => [table.name, table]));
}

function stdoutLines(run: ActionRun): string[] {
  return run.stdout.split(/\r?\n/);
}

/**
 * The password, raw and URL-encoded, appears in no output but the `::add-mask::` commands, which come before
 * anything else the step prints.
 */
function assertPasswordHidden(run: ActionRun, password = PASSWORD): void {
  const forms = [password, encodeURIComponent(password)];
  const masks = maskedValues(run.stdout);
  for (const form of forms) {
    assert.ok(masks.includes(form), `the password (${form === password ? "raw" : "encoded"}) is masked`);
    const leaks = [...stdoutLines(run), ...run.stderr.split(/\r?\n/)].filter(
      (line) => line.includes(form) && !line.startsWith("::add-mask::"),
    );
    assert.deepEqual(leaks, [], "no output line shows the password");
    assert.ok(!run.summary.includes(form), "the summary does not show the password");
    assert.ok(!run.outputsFile.includes(form), "the outputs do not show the password");
  }
  const lines = stdoutLines(run).filter((line) => line !== "");
  const firstOther = lines.findIndex((line) => !line.startsWith("::add-mask::"));
  const lastMask = lines.findLastIndex((line) => line.startsWith("::add-mask::"));
  assert.ok(firstOther === -1 || lastMask < firstOther, "secrets are masked before anything else is printed");
}

function describeRun(run: ActionRun): string {
  return `exit ${run.exitCode}\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`;
}

describe("the Action bundle, run as the runner runs it (PostgreSQL 14 → 17)", () => {
  let source: TestDatabase;
  let destination: TestDatabase;
  let workspace: string;
  let bareWorkspace: string;
  const examples: { title: string; run: ActionRun }[] = [];
  const inputs = (extra: Record<string, string> = {}) => ({
    "source-url": urlFor(source),
    "destination-url": urlFor(destination),
    ...extra,
  });

  before(async () => {
    await Promise.all([ensureRole(14), ensureRole(17)]);
    [source, destination] = await Promise.all([createDatabase(14, "act_src"), createDatabase(17, "act_dst")]);
    await source.client.query(SOURCE_SCHEMA);
    await grantSourceRead(source);
    await destination.client.query(`GRANT CREATE ON DATABASE ${quoteIdent(destination.name)} TO ${ROLE}`);
    workspace = await mkdtemp(path.join(tmpdir(), "pgferry-action-ws-"));
    bareWorkspace = await mkdtemp(path.join(tmpdir(), "pgferry-action-bare-"));
    await writeFile(path.join(workspace, "pgferry.yml"), SPEC_FILE);
  });

  after(async () => {
    if (process.env.PGFERRY_WRITE_ACTION_SUMMARY_EXAMPLE && examples.length > 0) {
      await writeFile(path.join(repoRoot, "docs/action-summary-example.md"), exampleDocument(examples));
    }
    await Promise.all([source?.drop(), destination?.drop()]);
    await Promise.all(
      [workspace, bareWorkspace].map((dir) => dir && rm(dir, { recursive: true, force: true })),
    );
  });

  test("a full run copies every table, sets the outputs and writes an escaped summary", async () => {
    const run = await runAction({ workspace, inputs: inputs() });
    assert.equal(run.exitCode, 0, describeRun(run));
    assert.equal(run.stderr, "");
    assertPasswordHidden(run);

    assert.equal(run.outputs["tables-copied"], "4");
    assert.equal(run.outputs["rows-copied"], String(50 + 200 + 10 + 3));
    assert.equal(run.outputs["tables-failed"], "0");
    const report = JSON.parse(run.outputs.report ?? "") as RunReport;
    assert.equal(report.mode, "full");
    assert.equal(report.totals.tablesCreated, 4);
    assert.deepEqual(report.notCopied, [{ name: "big_orders", kind: "view" }]);
    await assertTablesIdentical(source.client, "public", destination.client, "migrated", [
      ...KEYED,
      "audit_log",
    ]);

    assert.match(run.stdout, /^\[4\/4\] .+: created, \d+ rows? copied/m);
    assert.doesNotMatch(run.stdout, /^::(error|warning)/m);

    assert.match(run.summary, /<h2>✅ pgferry: full copy completed<\/h2>/);
    assert.ok(run.summary.includes(`<code>${ESCAPED_NASTY}</code>`), "the nasty table name is escaped");
    assert.ok(!run.summary.includes("<script>"), "no raw markup from the database");
    assert.match(run.summary, new RegExp(`<code>${ROLE}@[^<]+/${source.name}</code>`));
    assert.match(run.summary, new RegExp(`<code>${ROLE}@[^<]+/${destination.name}</code>`));
    assert.match(run.summary, /<td>Tables processed<\/td><td align="right">4<\/td>/);
    assert.match(run.summary, /<td>Total new rows copied<\/td><td align="right">263<\/td>/);
    assert.match(run.summary, /Not copied \(not tables\): 1 view/);
    assert.match(run.summary, /<code>big_orders<\/code> \(view\)/);
    examples.push({ title: "A full copy (the first run)", run });
  });

  test("an incremental run from the inputs alone copies only the new rows and warns about a key-less table", async () => {
    await source.client.query(`
      INSERT INTO customers (name) VALUES ('new customer 1'), ('new customer 2');
      INSERT INTO orders (customer_id, amount) SELECT 51, g FROM generate_series(1, 7) g;`);
    const run = await runAction({ workspace: bareWorkspace, inputs: inputs({ mode: "incremental" }) });
    assert.equal(run.exitCode, 0, describeRun(run));
    assertPasswordHidden(run);
    assert.match(run.stdout, /No pgferry\.yml in the workspace/);

    assert.equal(run.outputs["tables-copied"], "2");
    assert.equal(run.outputs["rows-copied"], "9");
    assert.equal(run.outputs["tables-failed"], "0");
    const tables = tablesOf(run);
    assert.deepEqual(
      [tables.orders?.action, tables.orders?.status, tables.orders?.rowsCopied],
      ["delta", "ok", 7],
    );
    assert.equal(tables.customers?.rowsCopied, 2);
    assert.equal(tables[NASTY]?.status, "up-to-date");
    assert.deepEqual([tables.audit_log?.status, tables.audit_log?.reason], ["skipped", "no primary key"]);
    await assertTablesIdentical(source.client, "public", destination.client, "migrated", KEYED);

    assert.ok(
      stdoutLines(run).includes('::warning::pgferry: table "audit_log" skipped: no primary key'),
      describeRun(run),
    );
    assert.match(run.summary, /<h2>✅ pgferry: incremental sync completed<\/h2>/);
    assert.match(run.summary, /<td>Existing tables synced<\/td><td align="right">2<\/td>/);
    assert.match(run.summary, /<td>Tables up to date<\/td><td align="right">1<\/td>/);
    assert.match(run.summary, /<td>Tables skipped<\/td><td align="right">1<\/td>/);
    assert.match(
      run.summary,
      /<tr><td><code>orders<\/code><\/td><td>delta · [a-z-]+<\/td><td>✅ ok<\/td><td align="right">200<\/td><td align="right">207<\/td><td align="right">7<\/td>/,
    );
    assert.match(run.summary, /<details><summary>Failed and skipped tables: 1 skipped<\/summary>/);
    assert.match(run.summary, /<li>⏭️ <code>audit_log<\/code> skipped: no primary key<\/li>/);
    assert.ok(run.summary.includes(`<code>${ESCAPED_NASTY}</code>`));
    examples.push({
      title: "An incremental sync: new rows only, a table without a primary key skipped",
      run,
    });
  });

  test("a dry run reports what would be copied and writes nothing", async () => {
    await source.client.query(
      "INSERT INTO orders (customer_id, amount) SELECT 1, g FROM generate_series(1, 5) g",
    );
    const before = await databaseFingerprint(destination.client);
    const run = await runAction({
      workspace,
      inputs: inputs({ mode: "incremental", "dry-run": "true", tables: "orders, customers" }),
    });
    assert.equal(run.exitCode, 0, describeRun(run));
    assertPasswordHidden(run);
    assert.equal(await databaseFingerprint(destination.client), before, "the destination is unchanged");

    const report = JSON.parse(run.outputs.report ?? "") as RunReport;
    assert.equal(report.dryRun, true);
    assert.deepEqual(report.tables.map((t) => t.name).sort(), ["customers", "orders"]);
    assert.equal(run.outputs["rows-copied"], "5");
    assert.equal(run.outputs["tables-copied"], "1");
    assert.match(run.stdout, /^orders: delta, 5 new rows to copy$/m);
    assert.match(run.summary, /<h2>✅ pgferry dry run: incremental sync plan<\/h2>/);
    assert.match(run.summary, /<b>Dry run:<\/b> nothing was written/);
    assert.match(run.summary, /<td>Rows to copy<\/td><td align="right">5<\/td>/);
    examples.push({ title: "A dry run (`dry-run: true`, `tables: orders, customers`)", run });
  });

  test("a summary that cannot be written is a warning, never a failed step", async () => {
    const run = await runAction({
      workspace,
      inputs: inputs({ mode: "incremental", "dry-run": "true" }),
      env: { GITHUB_STEP_SUMMARY: workspace },
    });
    assert.equal(run.exitCode, 0, describeRun(run));
    assert.match(run.stdout, /^::warning::pgferry: could not write the job summary: /m);
    assert.equal(run.outputs["tables-failed"], "0");
  });

  test("a failing table fails the step with an error annotation; the other tables go on", async () => {
    await source.client.query("ALTER TABLE customers ADD COLUMN tier text");
    const run = await runAction({ workspace, inputs: inputs({ mode: "incremental" }) });
    assert.equal(run.exitCode, 1, describeRun(run));
    assertPasswordHidden(run);

    assert.equal(run.outputs["tables-failed"], "1");
    assert.equal(run.outputs["rows-copied"], "5");
    const tables = tablesOf(run);
    assert.deepEqual([tables.customers?.status, tables.customers?.error?.code], ["failed", "schema-drift"]);
    assert.deepEqual([tables.orders?.status, tables.orders?.rowsCopied], ["ok", 5]);
    const errors = stdoutLines(run).filter((line) => line.startsWith("::error"));
    assert.ok(
      errors.some((line) =>
        /^::error::pgferry: table "customers" failed: .*tier.*\[schema-drift\]/.test(line),
      ),
      errors.join("\n"),
    );
    assert.ok(errors.includes('::error::1 of 4 tables failed: "customers".'), errors.join("\n"));

    assert.match(run.summary, /<h2>❌ pgferry: incremental sync finished with 1 failed table<\/h2>/);
    assert.match(
      run.summary,
      /<details open><summary>Failed and skipped tables: 1 failed, 1 skipped<\/summary>/,
    );
    assert.match(run.summary, /<li>❌ <code>customers<\/code> failed: <code>schema-drift<\/code> /);
    const firstRow = /<tr><td><code>([^<]*)<\/code>/.exec(run.summary)?.[1];
    assert.equal(firstRow, "customers", "failed tables are listed first");
    examples.push({
      title: "An incremental sync where a table failed (a column was added in the source)",
      run,
    });
  });

  test("an invalid spec fails the step with annotations pointing at the file, line and column", async () => {
    await writeFile(
      path.join(workspace, "bad.yml"),
      "mode: incremental\njobs: lots\ntables:\n  - name: orders\n    strategy: sometimes\n",
    );
    const run = await runAction({ workspace, inputs: inputs({ spec: "bad.yml" }) });
    assert.equal(run.exitCode, 1, describeRun(run));
    assertPasswordHidden(run);
    const errors = stdoutLines(run).filter((line) => line.startsWith("::error"));
    assert.ok(
      errors.some((line) => line.startsWith("::error file=bad.yml,line=2,col=7::pgferry: jobs: ")),
      errors.join("\n"),
    );
    assert.ok(
      errors.some((line) =>
        line.startsWith("::error file=bad.yml,line=5,col=15::pgferry: tables[0].strategy: "),
      ),
      errors.join("\n"),
    );
    assert.ok(
      errors.includes("::error::The spec is invalid: 2 problems (see the annotations)."),
      errors.join("\n"),
    );
    assert.deepEqual(run.outputs, {});
    assert.match(run.summary, /<h2>❌ pgferry: the spec is invalid<\/h2>/);
    assert.match(run.summary, /<li><code>bad\.yml:2:7<\/code> jobs: /);
  });

  test("a refused connection fails the step before any table, without showing either password", async () => {
    const wrong = "Wr0ng-P@ss%word";
    const run = await runAction({
      workspace,
      inputs: inputs({ "destination-url": urlFor(destination, encodeURIComponent(wrong)) }),
    });
    assert.equal(run.exitCode, 1, describeRun(run));
    assertPasswordHidden(run);
    assertPasswordHidden(run, wrong);
    assert.match(run.stdout, /^::error::Authentication failed on the destination /m);
    assert.deepEqual(run.outputs, {});
    assert.match(run.summary, /<h2>❌ pgferry failed<\/h2>/);
  });
});

describe("the example workflows' spec and seed (examples/github/)", () => {
  let source: TestDatabase;
  let destination: TestDatabase;

  before(async () => {
    await Promise.all([ensureRole(14), ensureRole(17)]);
    [source, destination] = await Promise.all([
      createDatabase(14, "act_ex_src"),
      createDatabase(17, "act_ex_dst"),
    ]);
    await loadSqlFile(source.client, path.join(repoRoot, "examples/github/seed.sql"));
    await grantSourceRead(source);
    await destination.client.query(`GRANT CREATE ON DATABASE ${quoteIdent(destination.name)} TO ${ROLE}`);
  });
  after(async () => {
    await Promise.all([source?.drop(), destination?.drop()]);
  });

  test("plans as pr-dry-run.yml does, then syncs with the URLs taken from the environment by ${NAME}", async () => {
    const spec = "examples/github/pgferry.yml";
    const planned = await runAction({
      workspace: repoRoot,
      inputs: {
        spec,
        "dry-run": "true",
        "source-url": urlFor(source),
        "destination-url": urlFor(destination),
      },
    });
    assert.equal(planned.exitCode, 0, describeRun(planned));
    assertPasswordHidden(planned);
    const plan = JSON.parse(planned.outputs.report ?? "") as RunReport;
    assert.deepEqual(plan.tables.map((t) => `${t.name}:${t.action}`).sort(), [
      "customers:create",
      "order_lines:create",
      "orders:create",
      "products:create",
    ]);
    assert.equal(plan.totals.rowsCopied, 100 + 3 + 300 + 300, "estimates from the seed's ANALYZE");
    assert.match(planned.summary, /<td align="right">≈ 300<\/td>/);

    // As hourly-incremental.yml: the spec's ${SOURCE_DATABASE_URL} / ${DESTINATION_DATABASE_URL} from the step's env.
    const synced = await runAction({
      workspace: repoRoot,
      inputs: { spec, mode: "incremental" },
      env: { SOURCE_DATABASE_URL: urlFor(source), DESTINATION_DATABASE_URL: urlFor(destination) },
    });
    assert.equal(synced.exitCode, 0, describeRun(synced));
    // The runner masks environment values that come from secrets; the Action masks the passwords it finds itself.
    assertPasswordHidden(synced);
    assert.equal(synced.outputs["tables-copied"], "4");
    assert.equal(synced.outputs["rows-copied"], "703");
    await assertTablesIdentical(source.client, "public", destination.client, "migrated", [
      "customers",
      "products",
      "orders",
      "order_lines",
    ]);
  });
});

describe("cancelling the step", () => {
  let source: TestDatabase;
  let destination: TestDatabase;
  const inputs = () => ({
    "source-url": urlFor(source),
    "destination-url": urlFor(destination),
    mode: "full",
  });

  before(async () => {
    await Promise.all([ensureRole(14), ensureRole(17)]);
    [source, destination] = await Promise.all([
      createDatabase(14, "act_cx_src"),
      createDatabase(17, "act_cx_dst"),
    ]);
    await source.client.query(`
      CREATE TABLE items (id int PRIMARY KEY, note text);
      INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 100) g;`);
    await grantSourceRead(source);
    await destination.client.query(`GRANT CREATE ON DATABASE ${quoteIdent(destination.name)} TO ${ROLE}`);
  });
  after(async () => {
    await destination?.client.query("ROLLBACK").catch(() => undefined);
    await Promise.all([source?.drop(), destination?.drop()]);
  });

  test("SIGINT (the runner's cancel) rolls back the table in flight and fails the step", async () => {
    const workspace = await mkdtemp(path.join(tmpdir(), "pgferry-action-cancel-"));
    try {
      const first = await runAction({ workspace, inputs: inputs() });
      assert.equal(first.exitCode, 0, describeRun(first));
      await source.client.query("INSERT INTO items SELECT g, 'new' FROM generate_series(101, 150) g");
      // A reader of the target table: the refresh's DROP TABLE waits for it until the step is cancelled.
      await destination.client.query("BEGIN; LOCK TABLE migrated.items IN ACCESS SHARE MODE");
      const run = await runAction({
        workspace,
        inputs: inputs(),
        interrupt: { when: /^1 table to process$/m, signal: "SIGINT" },
        timeoutMs: 30_000,
      });
      await destination.client.query("ROLLBACK");
      assert.equal(run.exitCode, 1, describeRun(run));
      assertPasswordHidden(run);
      assert.match(run.stdout, /^Cancelled: rolling back the tables in flight…$/m);
      assert.match(run.stdout, /^::error::Interrupted/m);
      const { rows } = await destination.client.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM migrated.items",
      );
      assert.equal(rows[0]?.n, 100, "the table keeps its previous copy");
    } finally {
      await rm(workspace, { recursive: true, force: true });
    }
  });
});

/** docs/action-summary-example.md: summaries of real runs, as GitHub shows them. */
function exampleDocument(examples: readonly { title: string; run: ActionRun }[]): string {
  const sections = examples.map(({ title, run }) => `## ${title}\n\n${run.summary}`);
  return [
    "# Example job summaries",
    "",
    "Written by the pgferry Action during real runs of `test/action-run.test.ts` (a PostgreSQL 14 source, a",
    "PostgreSQL 17 destination); regenerate with `PGFERRY_WRITE_ACTION_SUMMARY_EXAMPLE=1 npx tsx test/run.ts action-run`.",
    "Each summary below is what one step writes to `$GITHUB_STEP_SUMMARY`.",
    "",
    sections.join("\n---\n\n"),
  ].join("\n");
}
