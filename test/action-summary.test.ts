import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { summarise, type RunReport, type TableResult } from "../engine/index.js";
import { escapeHtml, renderFailureSummary, renderSummary, SUMMARY_BYTE_LIMIT } from "../action/summary.js";

const NASTY = `<script>alert("x")</script> & 'co'`;
const ESCAPED = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;co&#39;";

function table(name: string, overrides: Partial<TableResult> = {}): TableResult {
  return {
    name,
    action: "create",
    status: "ok",
    rowsCopied: 100,
    bytesCopied: 2048,
    durationMs: 50,
    ...overrides,
  };
}

function report(tables: TableResult[], overrides: Partial<RunReport> = {}): RunReport {
  return {
    mode: "incremental",
    sourceSchema: "public",
    targetSchema: "migrated",
    source: { host: "db.example", port: 5432, database: "prod", user: "reader" },
    destination: { host: "staging.example", port: 5433, database: "staging", user: "writer" },
    startedAt: "2025-01-01T00:00:00.000Z",
    finishedAt: "2025-01-01T00:00:01.250Z",
    durationMs: 1250,
    totals: summarise(tables),
    tables,
    notCopied: [],
    ...overrides,
  };
}

const bytes = (text: string) => Buffer.byteLength(text, "utf8");
const tableRows = (html: string) => [...html.matchAll(/<tr><td><code>([^<]*)<\/code>/g)].map((m) => m[1]);

describe("job summary", () => {
  test("every value from the database or the spec is HTML-escaped", () => {
    const html = renderSummary(
      report(
        [
          table(NASTY),
          table(`${NASTY} skipped`, { action: "skip", status: "skipped", reason: `no key on ${NASTY}` }),
          table(`${NASTY} failed`, {
            action: "delta",
            status: "failed",
            rowsCopied: 0,
            error: {
              code: "23505",
              message: `dup ${NASTY}`,
              detail: `Key (id)=(${NASTY})`,
              hint: `try ${NASTY}`,
            },
          }),
        ],
        {
          sourceSchema: NASTY,
          targetSchema: NASTY,
          source: { host: NASTY, port: 5432, database: NASTY, user: NASTY, serverVersion: NASTY },
          notCopied: [{ name: NASTY, kind: "view" }],
          foreignKeysSkipped: [NASTY],
        },
      ),
    );
    assert.ok(!html.includes("<script>"), html);
    assert.ok(!html.includes(`"x"`) && !html.includes("'co'"), "quotes are escaped");
    const occurrences = html.split(ESCAPED).length - 1;
    // 3 table rows, reason, message, detail, hint, 2 names in the details list, schemas (2), endpoint (host,
    // database, user in one code span), version, not-copied name, foreign key.
    assert.ok(occurrences >= 15, `escaped value found ${occurrences} times`);
    assert.equal(escapeHtml(`a&b<c>"d"'e'`), "a&amp;b&lt;c&gt;&quot;d&quot;&#39;e&#39;");
  });

  test("no blank line inside a block, so GitHub's markdown leaves the HTML as it is", () => {
    const html = renderSummary(
      report([table("a"), table("b", { action: "skip", status: "skipped", reason: "no primary key" })]),
    );
    assert.ok(!/\n\s*\n/.test(html), html);
  });

  test("the heading says the outcome, the mode, and whether it was a dry run", () => {
    const ok = report([table("a")]);
    const failed = report([table("a", { status: "failed", error: { code: "42P01", message: "gone" } })]);
    assert.match(renderSummary(ok), /^<h2>✅ pgferry: incremental sync completed<\/h2>/);
    assert.match(
      renderSummary({ ...failed, mode: "full" }),
      /^<h2>❌ pgferry: full copy finished with 1 failed table<\/h2>/,
    );
    assert.match(
      renderSummary({ ...ok, dryRun: true }),
      /^<h2>✅ pgferry dry run: incremental sync plan<\/h2>/,
    );
    assert.match(
      renderSummary({ ...failed, dryRun: true, mode: "tables" }),
      /^<h2>❌ pgferry dry run: table operations plan — 1 table would fail<\/h2>/,
    );
  });

  test("totals are the original tool's statistics; endpoints show no password", () => {
    const html = renderSummary(
      report([
        table("new"),
        table("synced", { action: "delta", rowsCopied: 7 }),
        table("same", { action: "delta", status: "up-to-date", rowsCopied: 0 }),
        table("nokey", { action: "skip", status: "skipped", reason: "no primary key", rowsCopied: 0 }),
      ]),
    );
    for (const [label, value] of [
      ["Tables processed", "4"],
      ["New tables created", "1"],
      ["Existing tables synced", "1"],
      ["Tables up to date", "1"],
      ["Tables skipped", "1"],
      ["Tables failed", "0"],
      ["Total new rows copied", "107"],
    ]) {
      assert.ok(html.includes(`<tr><td>${label}</td><td align="right">${value}</td></tr>`), label);
    }
    assert.match(html, /<code>reader@db\.example:5432\/prod<\/code>, schema <code>public<\/code>/);
    assert.match(html, /<code>writer@staging\.example:5433\/staging<\/code>, schema <code>migrated<\/code>/);
    assert.match(
      html,
      /<b>Mode<\/b> <code>incremental<\/code> · started 2025-01-01T00:00:00\.000Z · took 1\.3 s/,
    );
    assert.match(
      html,
      /<td align="right">100<\/td><td align="right">50 ms<\/td><td align="right">2,000 rows\/s<\/td>/,
    );
  });

  test("a dry run shows rows to copy, estimates marked ≈, and no duration or rate", () => {
    const html = renderSummary(
      report(
        [
          table("new", { rowsCopied: 1200, durationMs: 0, path: "full" }),
          table("delta", { action: "delta", rowsCopied: 5, targetRowsBefore: 10, targetRowsAfter: 15 }),
        ],
        { dryRun: true },
      ),
    );
    assert.match(html, /<th>Rows in target<\/th><th>Rows after<\/th><th>Rows to copy<\/th><\/tr>/);
    assert.match(html, /<td align="right">≈ 1,200<\/td>/);
    assert.match(html, /<td align="right">10<\/td><td align="right">15<\/td><td align="right">5<\/td><\/tr>/);
    assert.ok(!html.includes("rows/s"));
    assert.match(html, /<b>Dry run:<\/b> nothing was written/);
  });

  test("thousands of tables: 500 rows, failed tables first, a note for the rest, under 1 MiB", () => {
    const tables = Array.from({ length: 5000 }, (_, i) =>
      i % 1000 === 999
        ? table(`t${i}`, { status: "failed", error: { code: "XX000", message: "boom" } })
        : table(`t${i}`),
    );
    const html = renderSummary(report(tables));
    const rows = tableRows(html.slice(0, html.indexOf("</table>", html.indexOf("<th>Table</th>"))));
    assert.equal(rows.length, 500);
    assert.deepEqual(rows.slice(0, 6), ["t999", "t1999", "t2999", "t3999", "t4999", "t0"]);
    assert.match(html, /<p>… and 4,500 more tables \(full report in the <code>report<\/code> output\)<\/p>/);
    assert.ok(bytes(html) < SUMMARY_BYTE_LIMIT);
  });

  test("huge error messages and thousands of failures still fit: fewer rows, then only the totals", () => {
    const message = "x".repeat(50_000);
    const tables = Array.from({ length: 3000 }, (_, i) =>
      table(`${"n".repeat(60)}${i}`, {
        status: "failed",
        error: { code: "XX000", message, detail: message },
      }),
    );
    const html = renderSummary(report(tables));
    assert.ok(bytes(html) <= SUMMARY_BYTE_LIMIT, `${bytes(html)} bytes`);
    assert.match(html, /<td>Tables failed<\/td><td align="right">3,000<\/td>/);
    assert.match(html, /more tables \(full report in the <code>report<\/code> output\)/);

    const tiny = renderSummary(report(tables), { maxBytes: 4000 });
    assert.ok(bytes(tiny) <= 4000);
    assert.match(tiny, /per-table details were left out to keep this summary under GitHub's 1 MiB limit/);
  });

  test("redact runs on every value before it is escaped", () => {
    const html = renderSummary(
      report([table("t", { status: "failed", error: { code: "28P01", message: "password p&ss rejected" } })]),
      { redact: (text) => text.replaceAll("p&ss", "***") },
    );
    assert.ok(!html.includes("p&amp;ss"));
    assert.match(html, /password \*\*\* rejected/);
  });

  test("not-copied objects and skipped foreign keys are listed", () => {
    const html = renderSummary(
      report([table("a")], {
        notCopied: [
          { name: "v1", kind: "view" },
          { name: "v2", kind: "view" },
          { name: "mv", kind: "materialized view" },
          { name: "f", kind: "function" },
        ],
        foreignKeysSkipped: ["orders_customer_id_fkey"],
      }),
    );
    assert.match(
      html,
      /<summary>Not copied \(not tables\): 2 views, 1 materialized view, 1 function<\/summary>/,
    );
    assert.match(html, /<li><code>mv<\/code> \(materialized view\)<\/li>/);
    assert.match(html, /<li><code>orders_customer_id_fkey<\/code><\/li>/);
  });

  test("a failure before any table: the problems with their locations, escaped", () => {
    const html = renderFailureSummary({
      title: "pgferry: the spec is invalid",
      problems: [
        { location: "pgferry.yml:2:7", message: `mode: must be one of full (found "${NASTY}")` },
        { message: "input destination-url: is required" },
      ],
    });
    assert.match(html, /^<h2>❌ pgferry: the spec is invalid<\/h2>/);
    assert.ok(
      html.includes(
        `<li><code>pgferry.yml:2:7</code> mode: must be one of full (found &quot;${ESCAPED}&quot;)</li>`,
      ),
    );
    assert.ok(html.includes("<li>input destination-url: is required</li>"));
    const connection = renderFailureSummary({
      title: "pgferry failed",
      message: "Cannot reach",
      hint: "Check <host>",
    });
    assert.match(connection, /<p>Cannot reach<\/p>\n<p><b>Hint:<\/b> Check &lt;host&gt;<\/p>/);
  });
});
