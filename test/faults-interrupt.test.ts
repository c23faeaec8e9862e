/**
 * Issue 7, fault suite items 4 and 5: the process interrupted mid-run (SIGINT, SIGTERM, an aborted signal) stops
 * promptly, rolls the table in flight back and leaves nothing behind; a second run against the same target schema
 * waits for the first or fails at once, and never interleaves with it.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { run, type MigrationSpec, type ProgressEvent } from "../engine/index.js";
import {
  assertNoSecret,
  interruptPromptly,
  STACK_LINE,
  startCli,
  urlOf,
  waitForStderr,
} from "./support/cli.js";
import {
  assertNoLeftovers,
  assertSameRows,
  assertUnchanged,
  snapshotTarget,
  stillPendingAfter,
  waitForStatement,
} from "./support/faults.js";
import { adminClient, createDatabase, type TestDatabase } from "./support/servers.js";
import { makeSpec } from "./support/spec.js";

const TABLES = ["big", "small", "keyed"];
const LOCK_SQL = "SELECT pg_advisory_lock(1885824626, hashtext(current_database() || '.' || 'migrated'))";

describe("faults: interruptions and concurrent runs", () => {
  let source: TestDatabase;
  let destination: TestDatabase;
  let nextKey = 10_000_000;
  const spec = (overrides: Partial<MigrationSpec> = {}) =>
    makeSpec(source.config, destination.config, { jobs: 1, ...overrides });
  const urls = () => ["--source", urlOf(source.config), "--destination", urlOf(destination.config)];

  async function changeSource(): Promise<void> {
    const from = nextKey;
    nextKey += 1000;
    await source.client.query(
      `INSERT INTO big SELECT g, 'new' FROM generate_series(${from}, ${from + 99}) g;
       INSERT INTO small VALUES (${from}, 'new');
       INSERT INTO keyed VALUES (-${from}, 'below the watermark');`,
    );
  }

  before(async () => {
    [source, destination] = await Promise.all([
      createDatabase(14, "intr_src"),
      createDatabase(17, "intr_dst"),
    ]);
    await source.client.query(`
      CREATE TABLE big (id bigint PRIMARY KEY, payload text);
      INSERT INTO big SELECT g, repeat(md5(g::text), 6) FROM generate_series(1, 200000) g;
      CREATE TABLE small (id int PRIMARY KEY, v text);
      INSERT INTO small SELECT g, 'v' || g FROM generate_series(1, 100) g;
      CREATE TABLE keyed (id int PRIMARY KEY, v text);
      INSERT INTO keyed SELECT g, 'k' || g FROM generate_series(1, 200000) g;
      ANALYZE;`);
    await run(spec());
  });
  after(async () => {
    await Promise.all([source?.drop(), destination?.drop()]);
  });

  for (const [signal, code] of [
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const) {
    test(`${signal} during a COPY: exits ${code} within 5 s, the table in flight rolls back, nothing is left`, async () => {
      await changeSource();
      const before = await snapshotTarget(destination, TABLES);
      const running = startCli(["run", ...urls(), "--jobs", "1"]);
      await waitForStatement(17, destination.name, 'COPY "migrated"."big"%');
      const result = await interruptPromptly(running, signal);
      assert.equal(result.code, code, result.stderr);
      assert.match(result.stderr, /^Interrupted — the table in flight was rolled back\.$/m);
      assert.doesNotMatch(result.stderr, STACK_LINE);
      assertNoSecret([result.stdout, result.stderr], source.config.password ?? "");
      await assertUnchanged(before, source, destination);

      assert.equal((await run(spec({ mode: "incremental" }))).totals.tablesFailed, 0);
      await assertSameRows(source, destination, TABLES);
    });
  }

  test("an interrupt that arrives between two statements still stops the table in flight", async () => {
    await changeSource();
    const before = await snapshotTarget(destination, TABLES);
    const controller = new AbortController();
    const started = Date.now();
    await assert.rejects(
      run(spec(), {
        signal: controller.signal,
        // Emitted between statements: the worker's session is idle, so a cancel alone would be lost.
        onEvent: (event) => {
          if (event.type === "table-phase" && event.table === "big" && event.phase === "create")
            controller.abort();
        },
      }),
      { kind: "interrupted" },
    );
    assert.ok(Date.now() - started < 5000);
    await assertUnchanged(before, source, destination);
  });

  test("an aborted signal during a delta's anti-join rejects with `interrupted`; the temporary key table goes too", async () => {
    await changeSource();
    // Many keys below the watermark: the anti-join then has a long way to go after streaming the keys.
    await source.client.query(
      `INSERT INTO keyed SELECT -g, 'below' FROM generate_series(${nextKey}, ${nextKey + 19_999}) g`,
    );
    nextKey += 20_000;
    const before = await snapshotTarget(destination, TABLES);
    const controller = new AbortController();
    const aborting = waitForStatement(17, destination.name, "COPY pg_temp._pgferry_source_keys%").then(() =>
      controller.abort(),
    );
    await assert.rejects(
      run(spec({ mode: "incremental", tables: [{ name: "keyed" }] }), {
        signal: controller.signal,
      }),
      (error: Error & { kind?: string; exitCode?: number }) =>
        error.kind === "interrupted" && error.exitCode === 130,
    );
    await aborting;
    await assertUnchanged(before, source, destination);
  });

  test("SIGINT while waiting for another run's lock exits promptly, before any table is touched", async () => {
    const holder = await adminClient(17, destination.name);
    try {
      await holder.query(LOCK_SQL);
      const running = startCli(["run", ...urls(), "--on-locked", "wait"]);
      await waitForStderr(running, /Waiting for another pgferry run on schema "migrated" to finish/);
      const result = await interruptPromptly(running, "SIGINT");
      assert.equal(result.code, 130, result.stderr);
      assert.match(result.stderr, /^Interrupted before any table was touched\.$/m);
    } finally {
      await holder.end();
    }
    await assertNoLeftovers(source, destination);
  });

  test("--wait-timeout bounds the wait for another run's lock: a clear error (exit 2), nothing touched", async () => {
    const holder = await adminClient(17, destination.name);
    try {
      await holder.query(LOCK_SQL);
      const result = await startCli(["run", ...urls(), "--on-locked", "wait", "--wait-timeout", "1"]).result;
      assert.equal(result.code, 2, result.stderr);
      assert.match(
        result.stderr,
        /^error: Another pgferry run holds the lock on target schema "migrated" \(waited 1 s\)\.$/m,
      );
      assert.match(result.stderr, /^hint: Raise waitTimeoutSeconds \(--wait-timeout\), or retry later\.$/m);
      assert.doesNotMatch(result.stderr, STACK_LINE);
    } finally {
      await holder.end();
    }
    await assertNoLeftovers(source, destination);
  });

  /**
   * Starts a run that holds the run lock and is kept waiting on a target table another session reads; resolves
   * once it waits there. `release()` lets it go on.
   */
  async function blockedRun(events?: (event: ProgressEvent) => void) {
    const reader = await adminClient(17, destination.name);
    await reader.query("BEGIN; SELECT count(*) FROM migrated.small");
    const running = run(spec({ tables: [{ name: "small" }] }), events ? { onEvent: events } : {});
    await waitForStatement(17, destination.name, 'DROP TABLE IF EXISTS "migrated"."small"%');
    return {
      running,
      async release() {
        await reader.query("COMMIT");
        await reader.end();
      },
    };
  }

  test("a second run waits for the first (onLocked: wait) and starts no table before the first has finished", async () => {
    await changeSource();
    const events: { run: string; event: ProgressEvent }[] = [];
    const record = (name: string) => (event: ProgressEvent) => events.push({ run: name, event });
    const first = await blockedRun(record("first"));
    const second = run(spec({ onLocked: "wait", waitTimeoutSeconds: 60 }), { onEvent: record("second") });
    assert.ok(await stillPendingAfter(second, 500), "the second run waits");
    assert.ok(
      events.some((e) => e.run === "second" && e.event.type === "lock-wait"),
      "and says so",
    );
    await first.release();
    const [a, b] = await Promise.all([first.running, second]);
    assert.equal(a.totals.tablesFailed + b.totals.tablesFailed, 0);
    const order = events
      .filter((e) => ["table-start", "table-finish", "run-finish"].includes(e.event.type))
      .map((e) => `${e.run} ${e.event.type}`);
    const firstDone = order.indexOf("first run-finish");
    assert.ok(
      firstDone >= 0 && order.slice(0, firstDone).every((line) => line.startsWith("first")),
      order.join("\n"),
    );
    await assertSameRows(source, destination, TABLES);
    await assertNoLeftovers(source, destination);
  });

  test("a second run with onLocked: fail stops at once with a clear message (exit 2); the first is unharmed", async () => {
    await changeSource();
    const first = await blockedRun();
    try {
      const second = await startCli(["run", ...urls(), "--on-locked", "fail"]).result;
      assert.equal(second.code, 2, second.stderr);
      assert.deepEqual(second.stderr.trimEnd().split("\n"), [
        'error: Another pgferry run holds the lock on target schema "migrated".',
        "hint: Wait for it to finish, or set onLocked: wait (--on-locked wait).",
      ]);
      assert.ok(await stillPendingAfter(first.running, 0), "the first run still waits on its table");
    } finally {
      await first.release();
    }
    assert.equal((await first.running).totals.tablesFailed, 0);
    assert.equal((await run(spec())).totals.tablesFailed, 0);
    await assertSameRows(source, destination, TABLES);
    await assertNoLeftovers(source, destination);
  });
});
