/**
 * The Pulumi `MigratedSchema` resource through its whole life (issue 6), driven the way Pulumi drives it: a
 * program using pgferry installed from `npm pack`, registrations sent over gRPC to the real dynamic-provider host
 * of `@pulumi/pulumi`, state kept between commands. Steps build on each other, as a stack's history does.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { RunReport } from "../engine/index.js";
import type { CommandResult, StoredResource } from "./support/pulumi-engine.js";
import { COPY_PROGRAM, createSecretRole, type SecretRole } from "./support/pulumi-programs.js";
import { createPulumiWorkspace, type PulumiWorkspace } from "./support/pulumi-workspace.js";
import { createDatabase, type TestDatabase } from "./support/servers.js";

const SOURCE_SCHEMA = `
  CREATE TABLE customers (id serial PRIMARY KEY, name text NOT NULL);
  CREATE TABLE orders (id bigint PRIMARY KEY, customer_id int REFERENCES customers, total numeric(10, 2));
  CREATE TABLE audit_log (at timestamptz DEFAULT now(), message text);
  INSERT INTO customers (name) SELECT 'customer ' || g FROM generate_series(1, 30) g;
  INSERT INTO orders SELECT g, 1 + g % 30, g * 1.5 FROM generate_series(1, 40) g;
  INSERT INTO audit_log (message) VALUES ('created');`;

function assertOk(result: CommandResult): void {
  assert.ok(result.ok, `the command failed:\n${result.errors.join("\n")}\n${result.hostLog.join("\n")}`);
}

const ops = (result: CommandResult) => result.steps.map((step) => `${step.name}:${step.op}`);

describe("MigratedSchema lifecycle through the dynamic-provider host", () => {
  let workspace: PulumiWorkspace;
  let role: SecretRole;
  let source: TestDatabase;
  let destination: TestDatabase;
  let args: Record<string, unknown> = {};
  let destinationAsObject = false;
  // The databases the program is pointed at (some tests point it elsewhere for a while).
  let sourceName = "";
  let destinationName = "";

  const up = (stack = "dev", command: "up" | "preview" = "up") =>
    workspace.run(command, {
      program: "index.js",
      stack,
      config: { args: JSON.stringify(args) },
      secrets: {
        source: role.url(14, sourceName),
        destination: destinationAsObject
          ? JSON.stringify(role.connection(17, destinationName))
          : role.url(17, destinationName),
      },
    });
  const stored = async (stack = "dev"): Promise<StoredResource[]> =>
    (JSON.parse(await workspace.stateText(stack)) as { resources: StoredResource[] }).resources;
  const count = async (table: string) =>
    Number((await destination.client.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`)).rows[0]?.n);
  const schemaExists = async (schema: string) =>
    (await destination.client.query("SELECT 1 FROM pg_namespace WHERE nspname = $1", [schema])).rowCount ===
    1;

  before(async () => {
    [workspace, role, source, destination] = await Promise.all([
      createPulumiWorkspace(),
      createSecretRole([14, 17]),
      createDatabase(14, "pulumi_src"),
      createDatabase(17, "pulumi_dst"),
    ]);
    await source.client.query(SOURCE_SCHEMA);
    sourceName = source.name;
    destinationName = destination.name;
    await workspace.write("index.js", COPY_PROGRAM);
  });
  after(async () => {
    await Promise.all([source?.drop(), destination?.drop()]);
    await role?.drop();
    await workspace?.remove();
  });

  test("up creates the target schema and copies every table (incremental skips the key-less one)", async () => {
    args = { mode: "incremental", targetSchema: "staging", triggers: ["v1"] };
    const result = await up();
    assertOk(result);
    assert.deepEqual(ops(result), ["copy:create"]);
    assert.deepEqual(result.exports.copiedTables, ["customers", "orders"]);
    assert.deepEqual(result.exports.tableRows, { customers: 30, orders: 40 });
    assert.equal(result.exports.rowsCopied, 70);
    const report = result.exports.report as RunReport;
    assert.equal(report.targetSchema, "staging");
    assert.deepEqual(
      report.tables.find((table) => table.name === "audit_log"),
      {
        ...report.tables.find((table) => table.name === "audit_log"),
        status: "skipped",
        reason: "no primary key",
      },
    );
    assert.equal(await count("staging.customers"), 30);
    assert.equal(await count("staging.orders"), 40);
    const [resource] = await stored();
    assert.equal(
      resource?.id,
      `${destination.config.host}:${destination.config.port}/${destination.name}/staging`,
    );
    assert.ok(
      result.hostLog.some((line) => /^pgferry: \[\d\/\d\] orders: create, 40 rows copied/.test(line)),
      `progress lines in the provider's log:\n${result.hostLog.join("\n")}`,
    );
  });

  test("a second up with no change does nothing", async () => {
    const before = (await stored())[0]?.outputs.lastSyncedAt;
    const result = await up();
    assertOk(result);
    assert.deepEqual(ops(result), ["copy:same"]);
    assert.equal(result.exports.lastSyncedAt, before);
    assert.deepEqual(result.hostLog, [], "no run, so no progress lines");
  });

  test("the destination as the equivalent connection object instead of a URL is no change", async () => {
    destinationAsObject = true;
    const result = await up();
    destinationAsObject = false;
    assertOk(result);
    assert.deepEqual(ops(result), ["copy:same"]);
  });

  test("new source rows and a changed trigger: up syncs exactly the new rows", async () => {
    await source.client.query(`
      INSERT INTO customers (name) SELECT 'late ' || g FROM generate_series(1, 5) g;
      INSERT INTO orders SELECT g, 1, 9.99 FROM generate_series(1001, 1007) g;`);
    args = { ...args, triggers: ["v2"] };
    const result = await up();
    assertOk(result);
    assert.deepEqual(ops(result), ["copy:update"]);
    assert.equal(result.exports.rowsCopied, 12);
    const report = result.exports.report as RunReport;
    const copied = Object.fromEntries(
      report.tables.map((table) => [table.name, [table.action, table.rowsCopied]]),
    );
    assert.deepEqual(copied, { customers: ["delta", 5], orders: ["delta", 7], audit_log: ["skip", 0] });
    assert.deepEqual(result.exports.tableRows, { customers: 35, orders: 47 });
    assert.equal(await count("staging.orders"), 47);
  });

  test("syncOnEveryUpdate: every up syncs the new rows without a trigger change", async () => {
    args = { ...args, syncOnEveryUpdate: true };
    const first = await up();
    assertOk(first);
    assert.deepEqual(ops(first), ["copy:update"]);
    assert.equal(first.exports.rowsCopied, 0);
    await source.client.query("INSERT INTO orders SELECT g, 2, 1 FROM generate_series(2001, 2003) g");
    const second = await up();
    assertOk(second);
    assert.deepEqual(ops(second), ["copy:update"]);
    assert.equal(second.exports.rowsCopied, 3);
    assert.equal(await count("staging.orders"), 50);

    args = { ...args, syncOnEveryUpdate: false };
    const off = await up();
    assertOk(off);
    assert.deepEqual(ops(off), ["copy:update"], "the new setting is stored");
    assert.equal(off.exports.lastSyncedAt, second.exports.lastSyncedAt, "but nothing is copied");
    assert.deepEqual(ops(await up()), ["copy:same"]);
  });

  test("refresh after a table is dropped by hand shows the drift; the next up repairs it", async () => {
    await destination.client.query("DROP TABLE staging.orders");
    const refreshed = await workspace.run("refresh");
    assertOk(refreshed);
    assert.deepEqual(ops(refreshed), ["copy:refresh"]);
    const [resource] = await stored();
    assert.deepEqual(resource?.outputs.copiedTables, ["customers"]);
    assert.deepEqual(resource?.outputs.tableRows, { customers: 35 });

    const repaired = await up();
    assertOk(repaired);
    assert.deepEqual(ops(repaired), ["copy:update"]);
    assert.deepEqual(repaired.exports.tableRows, { customers: 35, orders: 50 });
    assert.equal(await count("staging.orders"), 50);
    assert.deepEqual(ops(await up()), ["copy:same"]);
  });

  test("a rotated password is stored without copying again", async () => {
    const before = (await stored())[0]?.outputs.lastSyncedAt;
    await role.rotate();
    const result = await up();
    assertOk(result);
    assert.deepEqual(ops(result), ["copy:update"]);
    assert.equal(result.exports.lastSyncedAt, before);
    assert.deepEqual(result.hostLog, []);
  });

  test("a preview of a new target schema shows a replacement and changes nothing", async () => {
    args = { ...args, targetSchema: "staging_v2" };
    const result = await up("dev", "preview");
    assertOk(result);
    assert.deepEqual(result.steps, [
      {
        name: "copy",
        type: "pulumi-nodejs:dynamic/pgferry:MigratedSchema",
        op: "replace",
        replaces: ["targetSchema"],
      },
    ]);
    assert.ok(await schemaExists("staging"));
    assert.ok(!(await schemaExists("staging_v2")));
  });

  test("changing the target schema replaces: the old schema is dropped first, then the new one filled", async () => {
    const result = await up();
    assertOk(result);
    assert.deepEqual(ops(result), ["copy:replace"]);
    assert.deepEqual(result.steps[0]?.replaces, ["targetSchema"]);
    assert.ok(!(await schemaExists("staging")));
    assert.equal(await count("staging_v2.orders"), 50);
    assert.equal(await count("staging_v2.customers"), 35);
    assert.equal((await stored())[0]?.id.endsWith("/staging_v2"), true);
  });

  test("no password in clear: not in the state, the serialized provider, the outputs or the provider's log", async () => {
    const result = await up();
    assertOk(result);
    const state = await workspace.stateText();
    const [resource] = await stored();
    assert.ok(resource);
    for (const secret of [role.password, encodeURIComponent(role.password)]) {
      assert.ok(!state.includes(secret), "password in the state file");
      assert.ok(!JSON.stringify(result.exports).includes(secret), "password in the outputs");
      assert.ok(!result.hostLog.join("\n").includes(secret), "password in the provider's log");
    }
    // Echoed under their own names, the connections stay secret; nothing else is.
    assert.deepEqual(resource.secretKeys.sort(), ["destination", "source"]);
    assert.ok(
      "ciphertext" in (resource.outputs.source as object) &&
        "ciphertext" in (resource.outputs.destination as object),
    );

    const provider = String(resource.inputs.__provider);
    assert.ok(provider.length < 10_000, `serialized provider of ${provider.length} bytes`);
    assert.match(provider, /import\("pgferry\/provider"\)/);
    for (const captured of [
      "pg-protocol",
      'require("pg")',
      "Client",
      "COPY",
      "validateSpecInput",
      "password",
    ]) {
      assert.ok(!provider.includes(captured), `the serialized provider captured ${captured}`);
    }
  });

  test("destroy drops the target schema", async () => {
    const result = await workspace.run("destroy");
    assertOk(result);
    assert.deepEqual(ops(result), ["copy:delete"]);
    assert.ok(!(await schemaExists("staging_v2")));
    assert.deepEqual(await stored(), []);
  });

  test("destroy with retainOnDelete leaves the schema and its rows", async () => {
    args = { mode: "full", targetSchema: "kept", retainOnDelete: true };
    assertOk(await up("retained"));
    const result = await workspace.run("destroy", { stack: "retained" });
    assertOk(result);
    assert.deepEqual(ops(result), ["copy:delete"]);
    assert.equal(await count("kept.orders"), 50);
    assert.deepEqual(await stored("retained"), []);
  });

  test("a create with a failed table records the resource: destroy cleans up, the next up retries", async () => {
    const partial = await createDatabase(14, "pulumi_partial");
    try {
      // citext exists on the source only: creating that table fails on the destination.
      await partial.client.query(`
        CREATE EXTENSION citext;
        CREATE TABLE good (id int PRIMARY KEY); INSERT INTO good VALUES (1), (2);
        CREATE TABLE bad (id int PRIMARY KEY, email citext); INSERT INTO bad VALUES (1, 'A@example.com');`);
      sourceName = partial.name;
      args = { mode: "full", targetSchema: "partial" };

      const failed = await up("partial");
      assert.equal(failed.ok, false);
      assert.match(
        failed.errors.join("\n"),
        /1 of 2 tables failed in partial:\nbad: 42704 type "citext" does not exist/,
      );
      assert.deepEqual(ops(failed), ["copy:create"]);
      const [recorded] = await stored("partial");
      assert.ok(recorded?.id.endsWith("/partial"), "recorded with its id");
      assert.equal((recorded?.outputs.report as RunReport).totals.tablesFailed, 1);
      assert.deepEqual(recorded?.outputs.copiedTables, ["good"]);
      assert.equal(await count("partial.good"), 2);

      const destroyed = await workspace.run("destroy", { stack: "partial" });
      assertOk(destroyed);
      assert.ok(!(await schemaExists("partial")));

      assert.equal((await up("partial")).ok, false);
      await partial.client.query("ALTER TABLE bad ALTER COLUMN email TYPE text");
      const retried = await up("partial");
      assertOk(retried);
      assert.deepEqual(ops(retried), ["copy:update"], "the failed table is retried without an input change");
      assert.deepEqual(retried.exports.tableRows, { bad: 1, good: 2 });
      assertOk(await workspace.run("destroy", { stack: "partial" }));
    } finally {
      sourceName = source.name;
      await partial.drop();
    }
  });

  test("a dropped destination database: refresh finds the resource gone, destroy has nothing to drop", async () => {
    const doomed = await createDatabase(17, "pulumi_doomed");
    try {
      destinationName = doomed.name;
      args = { mode: "full", targetSchema: "first" };
      assertOk(await up("doomed-a"));
      args = { mode: "full", targetSchema: "second" };
      assertOk(await up("doomed-b"));
    } finally {
      destinationName = destination.name;
      await doomed.drop();
    }
    const refreshed = await workspace.run("refresh", { stack: "doomed-a" });
    assertOk(refreshed);
    assert.deepEqual(ops(refreshed), ["copy:gone"]);
    assert.deepEqual(await stored("doomed-a"), []);
    const destroyed = await workspace.run("destroy", { stack: "doomed-b" });
    assertOk(destroyed);
    assert.deepEqual(ops(destroyed), ["copy:delete"]);
    assert.match(destroyed.hostLog.join("\n"), /no longer exists: nothing to drop/);
  });
});
