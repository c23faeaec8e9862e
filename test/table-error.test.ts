/** How a table's failure is named in the report: the server's SQLSTATE, or "connection-lost" for a socket error. */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { toTableError } from "../engine/run.js";
import { adminClient } from "./support/servers.js";
import { makeSpec } from "./support/spec.js";
import type pg from "pg";

describe("toTableError", () => {
  let client: pg.Client;
  const spec = makeSpec(
    { host: "src", port: 5432, database: "a", user: "u", password: "s3cret-src" },
    { host: "dst", port: 5432, database: "b", user: "u", password: "s3cret-dst" },
  );
  before(async () => {
    client = await adminClient(17);
  });
  after(async () => {
    await client.end();
  });

  test("a server error keeps its SQLSTATE", async () => {
    const error: unknown = await client.query("SELECT 1 / 0").catch((e: unknown) => e);
    const result = toTableError(error, spec);
    assert.equal(result.code, "22012");
    assert.match(result.message, /division by zero/);
  });

  test("Node socket errors, shaped like a SQLSTATE or not, are a lost connection", () => {
    for (const code of ["EPIPE", "ECONNRESET", undefined]) {
      const error = Object.assign(new Error(code ? `write ${code}` : "Connection terminated unexpectedly"), {
        code,
      });
      const result = toTableError(error, spec);
      assert.equal(result.code, "connection-lost", String(code));
      assert.match(result.message, /^connection lost: /);
    }
  });

  test("passwords are redacted from the message", () => {
    const result = toTableError(new Error("auth as u:s3cret-dst failed"), spec);
    assert.doesNotMatch(result.message, /s3cret/);
  });
});
