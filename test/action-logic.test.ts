/** The Action's small pure parts: secrets, inputs, annotations and log lines. */
import assert from "node:assert/strict";
import path from "node:path";
import { describe, test } from "node:test";
import { summarise, type RunReport, type SpecProblem, type TableResult } from "../engine/index.js";
import {
  problemText,
  specProblemAnnotation,
  tableAnnotations,
  workspaceRelative,
} from "../action/annotations.js";
import { parseBoolean, parseList } from "../action/inputs.js";
import { planLine, progressLine, totalsLine } from "../action/log-lines.js";
import { passwordsInUrl, Secrets } from "../action/secrets.js";

function problem(overrides: Partial<SpecProblem>): SpecProblem {
  return {
    path: "mode",
    property: "mode",
    message: "must be one of full, incremental, tables",
    ...overrides,
  };
}

function report(tables: TableResult[], dryRun = false): RunReport {
  return {
    mode: "incremental",
    ...(dryRun ? { dryRun } : {}),
    sourceSchema: "public",
    targetSchema: "migrated",
    startedAt: "2025-01-01T00:00:00.000Z",
    finishedAt: "2025-01-01T00:00:01.000Z",
    durationMs: 1000,
    totals: summarise(tables),
    tables,
    notCopied: [],
  };
}

const skipped = (name: string): TableResult => ({
  name,
  action: "skip",
  status: "skipped",
  reason: "no primary key",
  rowsCopied: 0,
  bytesCopied: 0,
  durationMs: 0,
});

describe("secrets", () => {
  test("every form of a URL's password is found: as written, decoded, re-encoded, and in ?password=", () => {
    assert.deepEqual(passwordsInUrl("postgres://u:S3cr3t-P%40ss%25w0rd@h:5432/db"), [
      "S3cr3t-P%40ss%25w0rd",
      "S3cr3t-P@ss%w0rd",
    ]);
    assert.deepEqual(passwordsInUrl("postgres://u@h/db?password=a%20b"), ["a b", "a%20b"]);
    assert.deepEqual(passwordsInUrl("postgres://u@h/db"), []);
  });

  test("a URL that does not parse is still masked up to its last @", () => {
    assert.throws(() => new URL("postgres://u:p@ss@h:99999/db"));
    assert.deepEqual(passwordsInUrl("postgres://u:p@ss@h:99999/db"), ["p@ss", "p%40ss"]);
  });

  test("each value is masked once, at once, and scrubbed from text, longest first", () => {
    const masked: string[] = [];
    const secrets = new Secrets((value) => masked.push(value));
    secrets.addConnectionUrl("postgres://u:pa%40ss@h/db");
    secrets.addPassword("pa@ss");
    assert.deepEqual(masked, ["postgres://u:pa%40ss@h/db", "pa%40ss", "pa@ss"]);
    assert.equal(secrets.scrub("url postgres://u:pa%40ss@h/db pw pa@ss"), "url *** pw ***");
    assert.deepEqual(secrets.scrubDeep({ a: ["x pa@ss"], n: 1 }), { a: ["x ***"], n: 1 });
  });
});

describe("inputs", () => {
  test("tables are separated by commas or newlines", () => {
    assert.deepEqual(parseList("orders, customers\n\n  audit log \n,"), ["orders", "customers", "audit log"]);
    assert.deepEqual(parseList(""), []);
  });

  test("dry-run takes the YAML booleans and refuses anything else", () => {
    assert.equal(parseBoolean("", "dry-run"), false);
    assert.equal(parseBoolean("True", "dry-run"), true);
    assert.equal(parseBoolean("false", "dry-run"), false);
    assert.throws(
      () => parseBoolean("yes", "dry-run"),
      /Input dry-run must be true or false \(found "yes"\)/,
    );
  });
});

describe("annotations", () => {
  const workspace = path.resolve("/work/repo");

  test("a spec problem points at the file (relative to the workspace), line and column", () => {
    const annotation = specProblemAnnotation(
      problem({ file: path.join(workspace, "config/pgferry.yml"), line: 3, column: 7 }),
      workspace,
    );
    assert.deepEqual(annotation, {
      level: "error",
      message: "pgferry: mode: must be one of full, incremental, tables",
      properties: { file: "config/pgferry.yml", startLine: 3, startColumn: 7 },
    });
    assert.equal(workspaceRelative("./pgferry.yml", workspace), "pgferry.yml");
    assert.equal(workspaceRelative("/elsewhere/spec.yml", workspace), "/elsewhere/spec.yml");
  });

  test("a problem with an input's value names the input, not the CLI flag", () => {
    assert.equal(
      problemText(problem({ origin: "--mode", message: 'must be one of full (found "x")' })),
      'input mode: must be one of full (found "x")',
    );
    assert.equal(
      problemText(
        problem({
          path: "destination",
          property: "destination",
          message: "is required: pass --destination URL or set PGFERRY_DESTINATION_URL",
        }),
      ),
      "destination: is required: pass the destination-url input or set PGFERRY_DESTINATION_URL",
    );
    assert.equal(
      problemText(
        problem({
          path: "source",
          property: "source",
          origin: "$PGFERRY_SOURCE_URL",
          message: "invalid URL",
        }),
      ),
      "$PGFERRY_SOURCE_URL: source: invalid URL",
    );
  });

  test("skipped tables are warnings, failed tables errors, at most 10 of each", () => {
    const failed: TableResult = {
      ...skipped("broken"),
      action: "delta",
      status: "failed",
      error: { code: "schema-drift", message: "differs", hint: "recreate it" },
    };
    const few = tableAnnotations(report([skipped("a"), failed]));
    assert.deepEqual(
      few.map((a) => [a.level, a.message]),
      [
        ["error", 'pgferry: table "broken" failed: differs [schema-drift] Hint: recreate it'],
        ["warning", 'pgferry: table "a" skipped: no primary key'],
      ],
    );
    const many = tableAnnotations(report(Array.from({ length: 25 }, (_, i) => skipped(`t${i}`))));
    assert.equal(many.length, 10);
    assert.equal(many[9]?.message, "pgferry: 16 more tables skipped: see the job summary");
    assert.match(tableAnnotations(report([skipped("a")], true))[0]?.message ?? "", /"a" would be skipped/);
  });
});

describe("log lines", () => {
  const result: TableResult = {
    name: "orders",
    action: "delta",
    status: "ok",
    rowsCopied: 5000,
    bytesCopied: 1,
    durationMs: 1200,
  };

  test("one plain line per finished table, and the totals", () => {
    assert.equal(
      progressLine({ type: "table-finish", table: "orders", index: 3, total: 9, result }),
      "[3/9] orders: 5,000 new rows copied (1.2 s)",
    );
    assert.equal(progressLine({ type: "table-progress", table: "orders", rows: 1, bytes: 1 }), undefined);
    assert.equal(planLine({ ...result, rowsCopied: 200 }), "orders: delta, 200 new rows to copy");
    assert.equal(
      totalsLine(report([result, skipped("a")])),
      "Done: 2 tables processed — 0 new, 1 synced, 0 up to date, 1 skipped, 0 failed; 5,000 rows copied in 1.0 s.",
    );
  });

  test("a name with a line break cannot start a workflow command", () => {
    const name = "evil\n::add-mask::x\r\n::error::y";
    const line = progressLine({
      type: "table-finish",
      table: name,
      index: 1,
      total: 1,
      result: { ...result, name },
    });
    assert.ok(line !== undefined && !/[\r\n]/.test(line), line);
    assert.ok(!/[\r\n]/.test(planLine({ ...result, name })));
  });
});
