import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { ProgressEvent } from "../engine/index.js";
import { schedule } from "../engine/schedule.js";
import type { PlannedTable } from "../engine/selection.js";
import { createDatabase, type TestDatabase } from "./support/servers.js";
import { makeSpec } from "./support/spec.js";

describe('the programmatic API: import { run } from "pgferry"', () => {
  let source: TestDatabase;
  let destination: TestDatabase;

  before(async () => {
    [source, destination] = await Promise.all([createDatabase(17, "api_src"), createDatabase(17, "api_dst")]);
    await source.client.query(`
      CREATE TABLE parent (id int PRIMARY KEY);
      CREATE TABLE child (id int PRIMARY KEY, parent_id int REFERENCES parent);
      INSERT INTO parent SELECT generate_series(1, 5000);
      INSERT INTO child SELECT g, g FROM generate_series(1, 5000) g;`);
  });
  after(async () => {
    await Promise.all([source?.drop(), destination?.drop()]);
  });

  test("the package's own entry point runs every mode and reports progress as events", async () => {
    // Resolved through package.json "exports", exactly as a user's import is (built by `npm run build`).
    const pgferry = (await import("pgferry")) as typeof import("../engine/index.js");
    const events: ProgressEvent[] = [];
    const report = await pgferry.run(makeSpec(source.config, destination.config, { mode: "incremental" }), {
      onEvent: (event) => events.push(event),
    });
    assert.equal(report.totals.tablesCreated, 2);
    const types = events.map((e) => e.type);
    assert.equal(types[0], "connected");
    assert.equal(types.at(-1), "run-finish");
    assert.ok(types.indexOf("run-start") < types.indexOf("table-start"));
    const finishes = events.filter((e) => e.type === "table-finish");
    assert.deepEqual(
      finishes.map((e) => e.type === "table-finish" && e.total),
      [2, 2],
    );
    assert.equal(typeof pgferry.plan, "function");
    assert.equal(typeof pgferry.check, "function");
    assert.equal(typeof pgferry.loadSpec, "function");

    await source.client.query("INSERT INTO parent VALUES (5001); INSERT INTO child VALUES (5001, 5001)");
    const second = await pgferry.run(
      makeSpec(source.config, destination.config, { mode: "incremental", jobs: 2 }),
    );
    assert.deepEqual(second.tables.map((t) => [t.name, t.rowsCopied, t.status]).sort(), [
      ["child", 1, "ok"],
      ["parent", 1, "ok"],
    ]);
  });
});

describe("scheduling", () => {
  const table = (name: string, bytes: number, action: PlannedTable["action"], parents: string[] = []) =>
    ({
      action,
      existing: undefined,
      shape: {
        table: {
          ref: { schema: "public", name },
          estimatedBytes: bytes,
          foreignKeys: parents.map((parent) => ({ referencedTable: parent })),
        },
      },
    }) as unknown as PlannedTable;

  test("largest first, but a delta after the deltas it references; cycles broken without waiting forever", () => {
    const { order, waitFor } = schedule([
      table("small_parent", 10, "delta"),
      table("big_child", 1000, "delta", ["small_parent"]),
      table("huge_full", 5000, "recreate", ["small_parent"]),
      table("a", 50, "delta", ["b"]),
      table("b", 40, "delta", ["a"]),
    ]);
    assert.deepEqual(
      order.map((p) => p.shape.table.ref.name),
      ["huge_full", "small_parent", "big_child", "a", "b"],
    );
    assert.deepEqual(waitFor.get("big_child"), ["small_parent"]);
    assert.deepEqual(waitFor.get("huge_full"), [], "full copies get their foreign keys after all loads");
    assert.deepEqual([waitFor.get("a"), waitFor.get("b")], [[], ["a"]]);
  });
});
