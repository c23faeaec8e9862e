/**
 * Issue 7, fault suite item 8: the server is restarting when a run starts. Connections are retried with backoff
 * for at most `waitTimeoutSeconds`, then fail with a clear error; an interrupt stops the retrying at once; and a
 * server that restarts in the middle of a run leaves every table old or new, and the rerun converges.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import {
  describeEndpoint,
  plan,
  run,
  type ConnectionConfig,
  type MigrationSpec,
  type ProgressEvent,
} from "../engine/index.js";
import { interruptPromptly, runCli, STACK_LINE, startCli, waitForStderr } from "./support/cli.js";
import { RestartableServer, rowsFingerprint, waitForStatementOn } from "./support/faults.js";
import { makeSpec } from "./support/spec.js";

describe("faults: the server restarts", () => {
  let server: RestartableServer;
  let workDir: string;
  let source: ConnectionConfig;
  let destination: ConnectionConfig;
  const spec = (overrides: Partial<MigrationSpec> = {}) =>
    makeSpec(source, destination, { jobs: 1, ...overrides });

  /** A spec file for the CLI (waitTimeoutSeconds has no flag). */
  function specFile(waitTimeoutSeconds: number): string {
    const file = path.join(workDir, `wait-${waitTimeoutSeconds}.yml`);
    const url = (c: ConnectionConfig) =>
      `postgres://${c.user}:${encodeURIComponent(c.password ?? "")}@${c.host}:${c.port}/${c.database}?sslmode=disable`;
    writeFileSync(
      file,
      [
        `source: ${url(source)}`,
        `destination: ${url(destination)}`,
        `waitTimeoutSeconds: ${waitTimeoutSeconds}`,
        "",
      ].join("\n"),
    );
    return file;
  }

  before(async () => {
    server = await RestartableServer.start();
    const setup = await server.client();
    await setup.query("CREATE DATABASE restart_src");
    await setup.query("CREATE DATABASE restart_dst");
    await setup.end();
    source = { ...server.config, database: "restart_src" };
    destination = { ...server.config, database: "restart_dst" };
    const src = await server.client("restart_src");
    await src.query(`
      CREATE TABLE big (id bigint PRIMARY KEY, payload text);
      INSERT INTO big SELECT g, repeat(md5(g::text), 6) FROM generate_series(1, 200000) g;
      CREATE TABLE small (id int PRIMARY KEY, v text);
      INSERT INTO small SELECT g, 'v' || g FROM generate_series(1, 100) g;`);
    await src.end();
    workDir = mkdtempSync(path.join(os.tmpdir(), "pgferry-restart-"));
  });
  after(async () => {
    await server?.destroy();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  test("a run started while the server is down retries until it is back, then copies everything", async () => {
    await server.stop();
    const started = Date.now();
    const events: ProgressEvent[] = [];
    const running = run(spec({ waitTimeoutSeconds: 30 }), { onEvent: (event) => events.push(event) });
    await sleep(1500);
    await server.start();
    const report = await running;
    assert.ok(Date.now() - started >= 1500);
    const waits = events.filter((event) => event.type === "server-wait");
    assert.equal(waits.length, 1, "the wait is announced once");
    assert.deepEqual(
      { ...waits[0], reason: undefined },
      {
        type: "server-wait",
        side: "destination",
        endpoint: describeEndpoint(spec().destination),
        reason: undefined,
        seconds: 30,
      },
    );
    assert.match(waits[0]?.type === "server-wait" ? waits[0].reason : "", /ECONNREFUSED/);
    assert.equal(report.totals.tablesFailed, 0);
    assert.equal(report.totals.rowsCopied, 200_100);
  });

  test("plan started while the server is down announces the wait too, then plans", async () => {
    await server.stop();
    const events: ProgressEvent[] = [];
    const planning = plan(spec({ waitTimeoutSeconds: 30 }), { onEvent: (event) => events.push(event) });
    await sleep(1000);
    await server.start();
    const report = await planning;
    assert.equal(report.dryRun, true);
    assert.deepEqual(
      events.map((event) => event.type === "server-wait" && event.side),
      ["destination"],
    );
  });

  test("a server that stays down: a clear error once waitTimeoutSeconds has passed, exit 2, no stack trace", async () => {
    await server.stop();
    try {
      const started = Date.now();
      const result = await runCli(["run", specFile(2)]);
      const elapsed = Date.now() - started;
      assert.ok(elapsed >= 2000 && elapsed < 10_000, `gave up after ${elapsed} ms`);
      assert.equal(result.code, 2, result.stderr);
      const lines = result.stderr.trimEnd().split("\n");
      assert.equal(lines.length, 3, result.stderr);
      assert.match(
        lines[0] ?? "",
        /^Cannot reach the destination postgres@127\.0\.0\.1:\d+\/restart_dst yet \(.*ECONNREFUSED.*\); retrying for up to 2 s/,
      );
      assert.match(
        lines[1] ?? "",
        /^error: Cannot reach the destination postgres@127\.0\.0\.1:\d+\/restart_dst: .*ECONNREFUSED/,
      );
      assert.match(lines[2] ?? "", /^hint: Check the host and port/);
      assert.doesNotMatch(result.stderr, STACK_LINE);
    } finally {
      await server.start();
    }
  });

  test("SIGINT while waiting for the server stops the retrying at once (exit 130)", async () => {
    await server.stop();
    try {
      const running = startCli(["run", specFile(60)]);
      await waitForStderr(
        running,
        /^Cannot reach the destination .* yet \(.*ECONNREFUSED.*\); retrying for up to 60 s/m,
      );
      const result = await interruptPromptly(running, "SIGINT");
      assert.equal(result.code, 130, result.stderr);
      assert.match(result.stderr, /^Interrupted before any table was touched\.$/m);
    } finally {
      await server.start();
    }
  });

  test("the server restarts in the middle of a run: the table in flight keeps its previous rows, a rerun converges", async () => {
    // Both sessions die with the server.
    const watcher = await server.client("restart_dst");
    const writer = await server.client("restart_src");
    await writer.query("INSERT INTO big SELECT g, 'new' FROM generate_series(300001, 300100) g");
    const before = await rowsFingerprint(watcher, "migrated", "big");
    const running = run(spec()).then(
      () => assert.fail("a run whose server went away cannot succeed"),
      (error: unknown) => error as Error & { kind?: string; exitCode?: number },
    );
    await waitForStatementOn(watcher, 'COPY "migrated"."big"%');
    await server.stop();
    const error = await running;
    assert.equal(error.kind, "connection-lost", String(error));
    assert.equal(error.exitCode, 1);
    await server.start();

    const src = await server.client("restart_src");
    const dst = await server.client("restart_dst");
    try {
      assert.equal(await rowsFingerprint(dst, "migrated", "big"), before, "the table in flight rolled back");
      const report = await run(spec());
      assert.equal(report.totals.tablesFailed, 0);
      for (const table of ["big", "small"]) {
        assert.equal(
          await rowsFingerprint(dst, "migrated", table),
          await rowsFingerprint(src, "public", table),
        );
      }
    } finally {
      await src.end();
      await dst.end();
    }
  });
});
