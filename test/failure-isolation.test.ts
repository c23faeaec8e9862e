import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { exitCodeOf, run, type ProgressEvent } from "../engine/index.js";
import { assertTablesIdentical, tableFingerprint } from "./support/compare.js";
import { adminClient, createDatabase, type TestDatabase } from "./support/servers.js";
import { makeSpec } from "./support/spec.js";

/** Terminates the destination backend that is running a COPY into `table`, as soon as one shows up. */
async function terminateCopyInto(destination: TestDatabase, table: string): Promise<boolean> {
  const admin = await adminClient(17, destination.name);
  try {
    for (let attempt = 0; attempt < 200; attempt++) {
      const { rows } = await admin.query<{ pid: number }>(
        `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()
            AND query LIKE $1 AND state = 'active'`,
        [`COPY "migrated"."${table}"%`],
      );
      if (rows[0]) {
        await admin.query("SELECT pg_terminate_backend($1)", [rows[0].pid]);
        return true;
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    return false;
  } finally {
    await admin.end();
  }
}

describe("failure isolation", () => {
  let source: TestDatabase;
  let destination: TestDatabase;

  before(async () => {
    [source, destination] = await Promise.all([
      createDatabase(17, "fail_src"),
      createDatabase(17, "fail_dst"),
    ]);
    await source.client.query(`
      CREATE TABLE big (id bigint PRIMARY KEY, payload text);
      INSERT INTO big SELECT g, repeat(md5(g::text), 8) FROM generate_series(1, 300000) g;
      CREATE TABLE small_a (id int PRIMARY KEY, v text); INSERT INTO small_a SELECT g, 'a' FROM generate_series(1, 100) g;
      CREATE TABLE small_b (id int PRIMARY KEY, v text); INSERT INTO small_b SELECT g, 'b' FROM generate_series(1, 100) g;`);
  });
  after(async () => {
    await Promise.all([source?.drop(), destination?.drop()]);
  });

  test("a table whose destination backend dies mid-COPY keeps its previous content; the others are copied", async () => {
    const spec = makeSpec(source.config, destination.config, { jobs: 1 });
    await run(spec);
    const bigBefore = await tableFingerprint(destination.client, "migrated", "big");
    await source.client.query(`
      INSERT INTO big SELECT g, 'second version' FROM generate_series(300001, 300500) g;
      INSERT INTO small_a VALUES (101, 'new'); INSERT INTO small_b VALUES (101, 'new');`);

    let killed: Promise<boolean> = Promise.resolve(false);
    const onEvent = (event: ProgressEvent) => {
      if (event.type === "table-phase" && event.table === "big" && event.phase === "copy") {
        killed = terminateCopyInto(destination, "big");
      }
    };
    const report = await run(spec, { onEvent });
    assert.equal(await killed, true, "the COPY backend was found and terminated");

    const big = report.tables.find((t) => t.name === "big");
    assert.equal(big?.status, "failed");
    // The server's own message (57P01) or the socket's, depending on who notices first.
    assert.ok(["57P01", "connection-lost"].includes(big?.error?.code ?? ""), JSON.stringify(big?.error));
    assert.match(big?.error?.message ?? "", /terminating connection|connection lost/);
    assert.equal(exitCodeOf(report), 1);
    assert.equal(report.totals.tablesFailed, 1);
    assert.deepEqual(
      await tableFingerprint(destination.client, "migrated", "big"),
      bigBefore,
      "big rolled back to its previous version",
    );
    await assertTablesIdentical(source.client, "public", destination.client, "migrated", [
      "small_a",
      "small_b",
    ]);

    const rerun = await run(spec);
    assert.equal(rerun.totals.tablesFailed, 0);
    await assertTablesIdentical(source.client, "public", destination.client, "migrated");
  });

  test("a second run against the same target schema waits for the lock, or fails at once with onLocked: fail", async () => {
    const holder = await adminClient(17, destination.name);
    try {
      await holder.query(
        "SELECT pg_advisory_lock(1885824626, hashtext(current_database() || '.' || 'migrated'))",
      );
      await assert.rejects(
        run(makeSpec(source.config, destination.config, { onLocked: "fail" })),
        (error: Error & { kind?: string }) =>
          error.kind === "locked" && /Another pgferry run holds the lock/.test(error.message),
      );
      const waiting = run(
        makeSpec(source.config, destination.config, { onLocked: "wait", waitTimeoutSeconds: 30 }),
      );
      let settled = false;
      void waiting.then(
        () => (settled = true),
        () => (settled = true),
      );
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(settled, false, "the second run waits while the lock is held");
      await holder.query("SELECT pg_advisory_unlock_all()");
      const report = await waiting;
      assert.equal(report.totals.tablesFailed, 0);
    } finally {
      await holder.end();
    }
  });
});
