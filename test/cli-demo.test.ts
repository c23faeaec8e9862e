import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, describe, test } from "node:test";
import { runCli, startCli, type RunningCli } from "./support/cli.js";

/** Processes whose command line mentions `text` (the demo's servers run with their data directory in it). */
/** What the demo left in its TMPDIR (tsx, which runs the CLI in these tests, keeps its compile cache there). */
function leftovers(dir: string): string[] {
  return readdirSync(dir).filter((name) => !name.startsWith("tsx-"));
}

function processesMentioning(text: string): string[] {
  try {
    return execFileSync("pgrep", ["-af", text], { encoding: "utf8" }).trim().split("\n").filter(Boolean);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

async function waitForStdout(cli: RunningCli, pattern: RegExp, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(cli.stdout())) {
    if (Date.now() > deadline || cli.child.exitCode !== null)
      assert.fail(`stdout never matched ${pattern}:\n${cli.stdout()}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe("pgferry demo", () => {
  const tmpDirs: string[] = [];
  /** A TMPDIR of its own for each demo, so that whatever it leaves behind is visible. */
  const freshTmp = () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "pgferry-demo-test-"));
    // Like /tmp, readable by the unprivileged user the servers run as when the tests run as root.
    chmodSync(dir, 0o755);
    tmpDirs.push(dir);
    return dir;
  };
  after(() => {
    for (const dir of tmpDirs) rmSync(dir, { recursive: true, force: true });
  });

  test("copies the shop, syncs the new rows, shows both reports and the plan, and leaves nothing running", async () => {
    const tmp = freshTmp();
    const result = await runCli(["demo"], { env: { TMPDIR: tmp }, timeoutMs: 120_000 });
    assert.equal(result.code, 0, result.stdout + result.stderr);

    const out = result.stdout;
    assert.match(out, /^Starting two PostgreSQL 17 servers in /m);
    assert.match(out, /users 500, products 100, orders 3,000, audit_log 2,000 rows/);
    assert.match(out, /✓ Full database copy completed in/);
    assert.match(out, /^ {2}Total new rows: +5,600 /m);
    assert.match(
      out,
      /^ {2}orders +delta: copy 150 new rows +150 +watermark path; 3,000 rows already there$/m,
    );
    assert.match(out, /^ {2}users +delta: copy 1 new row +1 /m);
    assert.match(out, /^ {2}audit_log +skip +— +no primary key$/m);
    assert.match(out, /✓ Incremental sync completed in/);
    assert.match(out, /^ {2}Existing tables synced: +2$/m);
    assert.match(out, /^ {2}Tables skipped \(no primary key\): +1$/m);
    assert.match(out, /^ {2}Total new rows: +151 /m);
    assert.match(out, /^ {3}migrated \| orders +\| 3,150 \| +3,150$/m);
    assert.match(out, /^ {3}501 \| new\.customer@example\.com \| \{"newsletter": true\}$/m);
    assert.match(out, /\\dt migrated\.\*/);
    // Progress on stderr, as for `pgferry run`.
    assert.match(result.stderr, /^\[\d\/4\] orders: 3,000 rows copied/m);
    assert.match(result.stderr, /^\[\d\/4\] orders: 150 new rows copied \(watermark, /m);
    assert.match(result.stderr, /^Stopped both servers and removed /m);

    assert.deepEqual(leftovers(tmp), [], "the demo left files in its temporary folder");
    assert.deepEqual(processesMentioning(tmp), [], "a server of the demo is still running");
  });

  test("Ctrl-C in a terminal (SIGINT to the whole process group) stops both servers and removes their files", async () => {
    const tmp = freshTmp();
    const demo = startCli(["demo"], { env: { TMPDIR: tmp }, detached: true });
    await waitForStdout(demo, /Ready in/);
    // A terminal sends Ctrl-C to the foreground process group: the servers get it too, and stop on their own.
    process.kill(-(demo.child.pid ?? 0), "SIGINT");
    const result = await demo.result;
    assert.equal(result.code, 130, result.stdout + result.stderr);
    assert.match(result.stderr, /^Interrupted/m);
    assert.match(result.stderr, /^Stopped both servers and removed /m);
    assert.deepEqual(leftovers(tmp), []);
    assert.deepEqual(processesMentioning(tmp), []);
  });

  test("SIGTERM to pgferry alone, during the full copy, still stops both servers (exit 143)", async () => {
    const tmp = freshTmp();
    const demo = startCli(["demo"], { env: { TMPDIR: tmp } });
    await waitForStdout(demo, /Step 1 of 4/);
    demo.child.kill("SIGTERM");
    const result = await demo.result;
    assert.equal(result.code, 143, result.stdout + result.stderr);
    assert.match(result.stderr, /^Stopped both servers and removed /m);
    assert.deepEqual(leftovers(tmp), []);
    assert.deepEqual(processesMentioning(tmp), []);
  });
});
