/**
 * Issue 7, fault suite items 1–3: a backend terminated on either side at each step of a table's work, and a
 * destination timeout because another session holds a target table. After each fault every table is its previous
 * version or the source's, nothing is left behind, and a rerun converges.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { exitCodeOf, run, type MigrationSpec, type RunReport } from "../engine/index.js";
import {
  assertNoLeftovers,
  assertOldOrNew,
  assertSameRows,
  rowsFingerprint,
  snapshotTarget,
  terminateBackendWhen,
  waitForStatement,
} from "./support/faults.js";
import { adminClient, createDatabase, type TestDatabase } from "./support/servers.js";
import { makeSpec } from "./support/spec.js";

const TABLES = ["big", "parent", "child", "counter"];

/**
 * gate(k, v) is v, but waits while another session holds advisory lock k: a test closes a gate to hold every
 * statement that calls it — the COPY into a table with a check that calls gate 1 or 3, an index or constraint build
 * on gate 2 — for as long as it takes to terminate the backend running it. (In both databases: the target's
 * definitions call it too.)
 */
const GATE_SQL = `
  CREATE FUNCTION public.gate(k int, v bigint) RETURNS bigint LANGUAGE plpgsql IMMUTABLE
    AS $$ BEGIN PERFORM pg_advisory_xact_lock_shared(k); RETURN v; END $$;`;

const SOURCE_SQL = `
  ${GATE_SQL}
  -- 30 MB: more than the socket buffers between the servers hold, so a held COPY holds both sides.
  CREATE TABLE big (id bigint PRIMARY KEY CHECK (gate(1, id) IS NOT NULL), payload text, tag text);
  CREATE INDEX big_gated ON big (gate(2, id));
  INSERT INTO big SELECT g, repeat(md5(g::text), 15), md5((g * 7)::text) FROM generate_series(1, 60000) g;
  CREATE TABLE parent (id int PRIMARY KEY, name text);
  INSERT INTO parent SELECT g, 'p' || g FROM generate_series(1, 1000) g;
  CREATE TABLE child (id int PRIMARY KEY, parent_id int NOT NULL REFERENCES parent, note text,
                      CONSTRAINT child_gated EXCLUDE USING btree (gate(2, id) WITH =));
  INSERT INTO child SELECT g, 1 + g % 1000, 'c' || g FROM generate_series(1, 100000) g;
  CREATE TABLE counter (id serial PRIMARY KEY CHECK (gate(3, id) IS NOT NULL), v text);
  INSERT INTO counter (v) SELECT 'v' || g FROM generate_series(1, 50) g;
  ANALYZE;`;

describe("faults: a backend terminated mid-table", () => {
  let source: TestDatabase;
  let destination: TestDatabase;
  let nextKey = 1_000_000;

  const spec = (overrides: Partial<MigrationSpec> = {}) =>
    makeSpec(source.config, destination.config, { jobs: 2, ...overrides });

  /** New rows (keys nobody used yet) in every table, so that each table has a new version to copy. */
  async function changeSource(rows = 200, below = false): Promise<void> {
    const from = below ? -nextKey - rows : nextKey;
    nextKey += rows;
    await source.client.query(
      `INSERT INTO big SELECT g, 'new ' || g, 'n' FROM generate_series(${from}, ${from + rows - 1}) g;
       INSERT INTO parent SELECT g, 'new' FROM generate_series(${from}, ${from + 9}) g;
       INSERT INTO child SELECT g, ${from}, 'new' FROM generate_series(${from}, ${from + rows - 1}) g;`,
    );
  }

  /** Closes gate `k` (see GATE_SQL) until `open()`. */
  async function closeGate(k: number): Promise<{ open(): Promise<void> }> {
    const holder = await adminClient(17, destination.name);
    await holder.query("SELECT pg_advisory_lock($1::bigint)", [k]);
    return {
      async open() {
        await holder.query("SELECT pg_advisory_unlock($1::bigint)", [k]);
        await holder.end();
      },
    };
  }

  /** Terminates the backend running `like` on `major` while gate `k` holds it, then opens the gate. */
  async function terminateHeld(k: number, major: 14 | 17, like: string): Promise<() => Promise<boolean>> {
    const gate = await closeGate(k);
    return async () => {
      try {
        return await terminateBackendWhen(major, major === 17 ? destination.name : source.name, like);
      } finally {
        await gate.open();
      }
    };
  }

  /** The fault run: `inject` runs alongside; then the checks every fault ends with, and a converging rerun. */
  async function faultRun(
    options: { spec: MigrationSpec; failed: string; codes: string[] },
    inject: () => Promise<boolean>,
  ): Promise<RunReport> {
    const before = await snapshotTarget(destination, TABLES);
    const injected = inject();
    const report = await run(options.spec);
    assert.equal(await injected, true, "the fault was injected");
    const failed = report.tables.filter((t) => t.status === "failed");
    assert.deepEqual(
      failed.map((t) => t.name),
      [options.failed],
      JSON.stringify(report.tables, null, 1),
    );
    assert.ok(options.codes.includes(failed[0]?.error?.code ?? ""), JSON.stringify(failed[0]?.error));
    assert.equal(exitCodeOf(report), 1);
    await assertOldOrNew(report, before, source, destination);

    const rerun = await run(options.spec);
    assert.equal(rerun.totals.tablesFailed, 0, JSON.stringify(rerun.tables, null, 1));
    assert.equal(rerun.foreignKeysSkipped, undefined);
    await assertSameRows(source, destination, TABLES);
    await assertNoLeftovers(source, destination);
    return report;
  }

  before(async () => {
    [source, destination] = await Promise.all([
      createDatabase(14, "fault_src"),
      createDatabase(17, "fault_dst"),
    ]);
    await source.client.query(SOURCE_SQL);
    await destination.client.query(GATE_SQL);
    await run(spec());
  });
  after(async () => {
    await Promise.all([source?.drop(), destination?.drop()]);
  });

  const LOST = ["57P01", "connection-lost"];

  test("destination terminated during an index build: that table rolls back, the others are copied", async () => {
    await changeSource();
    const inject = await terminateHeld(2, 17, 'CREATE INDEX "big_gated" ON "migrated"."big"%');
    await faultRun({ spec: spec(), failed: "big", codes: LOST }, inject);
  });

  test("destination terminated while a constraint is added after the load", async () => {
    await changeSource();
    const inject = await terminateHeld(
      2,
      17,
      'ALTER TABLE "migrated"."child" ADD CONSTRAINT "child_gated" EXCLUDE%',
    );
    await faultRun({ spec: spec(), failed: "child", codes: LOST }, inject);
  });

  test("source terminated during a table's COPY: that table rolls back, the others are copied", async () => {
    await changeSource();
    const inject = await terminateHeld(
      1,
      14,
      'COPY (SELECT "id", "payload", "tag" FROM ONLY "public"."big")%',
    );
    await faultRun({ spec: spec(), failed: "big", codes: LOST }, inject);
  });

  test("incremental: destination terminated during a delta's COPY keeps the rows it had", async () => {
    await changeSource();
    const inject = await terminateHeld(1, 17, 'COPY "migrated"."big"%');
    await faultRun({ spec: spec({ mode: "incremental" }), failed: "big", codes: LOST }, inject);
  });

  test("incremental: destination terminated while the anti-join copies the missing rows (temporary key table live)", async () => {
    await changeSource(100, true);
    const inject = await terminateHeld(1, 17, 'COPY "migrated"."big"%');
    const report = await faultRun(
      { spec: spec({ mode: "incremental" }), failed: "big", codes: LOST },
      inject,
    );
    assert.equal(report.tables.find((t) => t.name === "child")?.path, "anti-join");
  });

  test("destination terminated while the foreign keys are restored at the end: a clear error, rerun restores them", async () => {
    await changeSource();
    // The parent is recreated (dropping the child's foreign key), so the key is added again at the end, by the
    // session that holds the run lock. To catch that step: the last table (counter) is held at its COPY until the
    // child is done and locked by hand; the lock then holds the foreign key step until its backend is terminated.
    const gate = await closeGate(3);
    const holder = await adminClient(17, destination.name);
    const killed = (async () => {
      try {
        await waitForStatement(17, destination.name, 'COPY "migrated"."counter"%');
        await holder.query("BEGIN; LOCK TABLE migrated.child IN SHARE UPDATE EXCLUSIVE MODE");
        await gate.open();
        return await terminateBackendWhen(
          17,
          destination.name,
          'ALTER TABLE "migrated"."child" ADD CONSTRAINT "child_parent_id_fkey"%',
        );
      } finally {
        await holder.query("COMMIT");
        await holder.end();
      }
    })();
    const error = await run(spec({ jobs: 1 })).then(
      () => assert.fail("a lost foreign key step must not look like success"),
      (e: unknown) => e as Error & { kind?: string; exitCode?: number },
    );
    assert.equal(await killed, true, "the fault was injected");
    assert.equal(error.kind, "connection-lost", String(error));
    assert.equal(error.exitCode, 1);
    assert.match(error.message, /Tables already finished are committed/);
    // Every table committed before the step.
    await assertSameRows(source, destination, TABLES);
    await assertNoLeftovers(source, destination);

    const rerun = await run(spec());
    assert.equal(rerun.totals.tablesFailed, 0);
    assert.equal(rerun.foreignKeysSkipped, undefined);
    const { rows } = await destination.client.query(
      "SELECT 1 FROM pg_constraint WHERE conname = 'child_parent_id_fkey' AND convalidated",
    );
    assert.equal(rows.length, 1, "the rerun restored the foreign key");
  });

  test("the destination session holding the run lock terminated mid-run: no further table starts, a clear error", async () => {
    await changeSource();
    const before = await snapshotTarget(destination, TABLES);
    const gate = await closeGate(1);
    const killed = (async () => {
      await waitForStatement(17, destination.name, 'COPY "migrated"."big"%');
      const { rows } = await destination.client.query<{ terminated: boolean }>(
        `SELECT pg_terminate_backend(pid) AS terminated FROM pg_locks
          WHERE locktype = 'advisory' AND granted AND classid = 1885824626 AND objsubid = 2
            AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
      );
      await gate.open();
      return rows[0]?.terminated === true;
    })();
    const started: string[] = [];
    const error = await run(spec({ jobs: 1 }), {
      onEvent: (event) => void (event.type === "table-start" && started.push(event.table)),
    }).then(
      () => assert.fail("the run went on without its lock"),
      (e: unknown) => e as Error & { kind?: string; exitCode?: number; hint?: string },
    );
    assert.equal(await killed, true);
    assert.equal(error.kind, "connection-lost", String(error));
    assert.equal(error.exitCode, 1);
    assert.match(
      error.message,
      /Lost the destination session that holds the lock on target schema "migrated"/,
    );
    assert.match(error.hint ?? "", /Run again/);
    assert.deepEqual(started, ["big"], "no table starts once the lock is gone");
    for (const table of ["parent", "child", "counter"]) {
      assert.equal(await rowsFingerprint(destination.client, "migrated", table), before.tables.get(table));
    }
    await assertNoLeftovers(source, destination);
    assert.equal((await run(spec())).totals.tablesFailed, 0);
    await assertSameRows(source, destination, TABLES);
  });

  test("server idle timeouts do not end the sessions a run keeps idle on purpose (snapshot, lock, workers)", async () => {
    await changeSource();
    await source.client.query(
      `ALTER DATABASE "${source.name}" SET idle_in_transaction_session_timeout = '50ms'`,
    );
    await destination.client.query(`ALTER DATABASE "${destination.name}" SET idle_session_timeout = '50ms'`);
    try {
      const report = await run(spec());
      assert.equal(report.totals.tablesFailed, 0, JSON.stringify(report.tables, null, 1));
      assert.equal(report.foreignKeysSkipped, undefined);
      await assertSameRows(source, destination, TABLES);
    } finally {
      await source.client.query(`ALTER DATABASE "${source.name}" RESET idle_in_transaction_session_timeout`);
      await destination.client.query(`ALTER DATABASE "${destination.name}" RESET idle_session_timeout`);
    }
  });

  for (const timeout of ["lock_timeout", "statement_timeout"] as const) {
    test(`a destination ${timeout} hit because another session holds a target table fails only that table`, async () => {
      await changeSource();
      const small = { tables: ["parent", "counter"].map((name) => ({ name })) };
      const before = await snapshotTarget(destination, ["parent", "counter"]);
      await destination.client.query(`ALTER DATABASE "${destination.name}" SET ${timeout} = '300ms'`);
      const holder = await adminClient(17, destination.name);
      try {
        await holder.query("BEGIN; SELECT count(*) FROM migrated.parent");
        const report = await run(spec(small));
        const parent = report.tables.find((t) => t.name === "parent");
        assert.equal(parent?.status, "failed");
        assert.equal(parent?.error?.code, timeout === "lock_timeout" ? "55P03" : "57014");
        assert.match(parent?.error?.message ?? "", /due to (lock|statement) timeout/);
        assert.equal(report.tables.find((t) => t.name === "counter")?.status, "ok");
        await assertOldOrNew(report, before, source, destination);
      } finally {
        await holder.end();
        await destination.client.query(`ALTER DATABASE "${destination.name}" RESET ${timeout}`);
      }
      const rerun = await run(spec());
      assert.equal(rerun.totals.tablesFailed, 0);
      await assertSameRows(source, destination, TABLES);
    });
  }
});
