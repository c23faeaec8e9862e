import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { cliCommand, cliEnv, urlOf } from "./support/cli.js";
import { KEYS, PtySession } from "./support/pty.js";
import { createDatabase, type TestDatabase } from "./support/servers.js";

const SOURCE_SQL = `
  CREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL);
  CREATE TABLE events (id bigserial PRIMARY KEY, user_id int, payload text);
  CREATE TABLE audit_log (at timestamptz DEFAULT now(), msg text);
  INSERT INTO users (email) SELECT 'u' || g || '@example.com' FROM generate_series(1, 500) g;
  INSERT INTO events (user_id, payload) SELECT 1 + g % 500, repeat('p', 100) FROM generate_series(1, 600000) g;
  INSERT INTO audit_log (msg) SELECT 'm' || g FROM generate_series(1, 20) g;
  ANALYZE;`;

const HIDE_CURSOR = "\u001b[?25l";
const SHOW_CURSOR = "\u001b[?25h";

describe("progress on a terminal", () => {
  let source: TestDatabase;
  let destination: TestDatabase;
  const urls = () => ["--source", urlOf(source.config), "--destination", urlOf(destination.config)];
  const inTerminal = (args: string[], env: Record<string, string> = {}) =>
    new PtySession(cliCommand(args), { env: cliEnv({ NO_COLOR: undefined, ...env }), columns: 100 });

  before(async () => {
    [source, destination] = await Promise.all([
      createDatabase(17, "cliprog_src"),
      createDatabase(17, "cliprog_dst"),
    ]);
    await source.client.query(SOURCE_SQL);
  });
  after(async () => {
    await Promise.all([source?.drop(), destination?.drop()]);
  });

  test("a live view is redrawn in place, finished tables stay above it, and the cursor comes back", async () => {
    const session = inTerminal(["run", ...urls(), "--mode", "full", "--jobs", "1"]);
    // The live lines of the table in flight: a bar against the estimate, rows, bytes, elapsed time.
    await session.expect(/events +recreate|events +create/);
    await session.expect(/[\d,]+ \/ ~600,000 rows +[\d.]+ [kM]?B/);
    await session.expect(/\d\/3 tables/);
    const exit = await session.exited;
    assert.equal(exit.code, 0, session.screen);
    const raw = session.rawOutput;
    assert.ok(raw.startsWith(HIDE_CURSOR), "the cursor is hidden while the view is drawn");
    assert.ok(raw.includes(SHOW_CURSOR), "the cursor is shown again");
    assert.ok(raw.indexOf(SHOW_CURSOR) > raw.lastIndexOf(HIDE_CURSOR));
    // eslint-disable-next-line no-control-regex
    assert.match(raw, /\u001b\[\d+A\r\u001b\[0J/, "the view moves up and clears before each redraw");
    assert.match(session.screen, /\[\d\/3\] events: 600,000 rows copied \(/);
    assert.match(session.screen, /✓ Full database copy completed in/);
    assert.match(session.screen, /Tables processed: +3/);
    // Colours on a terminal.
    // eslint-disable-next-line no-control-regex
    assert.match(raw, /\u001b\[32m\u001b\[1m✓ Full database copy completed/);
  });

  test("Ctrl-C in the terminal: the live view is cleared, the cursor restored, exit 130", async () => {
    const session = inTerminal([
      "run",
      ...urls(),
      "--mode",
      "full",
      "--target-schema",
      "interrupted",
      "--jobs",
      "1",
    ]);
    await session.expect(/[\d,]+ \/ ~600,000 rows/);
    session.send(KEYS.ctrlC);
    await session.expect("Interrupted — the table in flight was rolled back.");
    const exit = await session.exited;
    assert.equal(exit.code, 130);
    const raw = session.rawOutput;
    assert.ok(raw.lastIndexOf(SHOW_CURSOR) > raw.lastIndexOf(HIDE_CURSOR));
  });

  test("--quiet on a terminal draws nothing", async () => {
    const session = inTerminal(["run", ...urls(), "--mode", "incremental", "--quiet"]);
    const exit = await session.exited;
    assert.equal(exit.code, 0);
    assert.equal(session.rawOutput.trim(), "");
  });
});
