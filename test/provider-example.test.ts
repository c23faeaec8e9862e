/**
 * `examples/pulumi/` as a user gets it (issue 6): copied into a folder where pgferry is installed from `npm pack`,
 * type-checked under every TypeScript module resolution a Pulumi program may use, then compiled and run through
 * the test engine — step 1 (full copy), then step 2 (the change to incremental) as the example tells.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { copyFile, cp, readFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { CommandResult } from "./support/pulumi-engine.js";
import { createSecretRole, type SecretRole } from "./support/pulumi-programs.js";
import { createPulumiWorkspace, type PulumiWorkspace } from "./support/pulumi-workspace.js";
import { createDatabase, type TestDatabase } from "./support/servers.js";

const example = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "examples", "pulumi");

function assertOk(result: CommandResult): void {
  assert.ok(result.ok, `the command failed:\n${result.errors.join("\n")}\n${result.hostLog.join("\n")}`);
}

describe("the Pulumi example", () => {
  let workspace: PulumiWorkspace;
  let role: SecretRole;
  let source: TestDatabase;
  let destination: TestDatabase;

  const tsc = async (...args: string[]) => {
    const compiler = path.join(workspace.dir, "node_modules", "typescript", "bin", "tsc");
    await promisify(execFile)(process.execPath, [compiler, ...args], { cwd: workspace.dir }).catch(
      (error: { stdout?: string }) => {
        throw new Error(`tsc ${args.join(" ")} failed:\n${error.stdout ?? String(error)}`);
      },
    );
  };
  const up = () =>
    workspace.run("up", {
      program: "bin/index.js",
      secrets: { sourceUrl: role.url(14, source.name), stagingUrl: role.url(17, destination.name) },
    });
  const count = async (table: string) =>
    Number((await destination.client.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`)).rows[0]?.n);

  before(async () => {
    [workspace, role, source, destination] = await Promise.all([
      createPulumiWorkspace(["typescript", "@types/node"]),
      createSecretRole([14, 17]),
      createDatabase(14, "example_src"),
      createDatabase(17, "example_dst"),
    ]);
    await cp(example, workspace.dir, { recursive: true });
    await source.client.query(`
      CREATE TABLE customers (id serial PRIMARY KEY, name text);
      CREATE TABLE orders (id bigserial PRIMARY KEY, customer_id int REFERENCES customers, placed timestamptz);
      CREATE TABLE audit_log (id bigserial PRIMARY KEY, event text);
      INSERT INTO customers (name) SELECT 'c' || g FROM generate_series(1, 12) g;
      INSERT INTO orders (customer_id, placed) SELECT 1 + g % 12, now() FROM generate_series(1, 25) g;
      INSERT INTO audit_log (event) VALUES ('not copied');`);
  });
  after(async () => {
    await Promise.all([source?.drop(), destination?.drop()]);
    await role?.drop();
    await workspace?.remove();
  });

  test("both steps type-check against the packed package under every module resolution", async () => {
    // Pulumi's template (CommonJS, `node` resolution through typesVersions), with step 2 alongside step 1.
    const both = JSON.stringify({ extends: "./tsconfig.json", files: ["index.ts", "step2/index.ts"] });
    await workspace.write("tsconfig.steps.json", both);
    await tsc("--noEmit", "-p", "tsconfig.steps.json");
    for (const [module, resolution] of [
      ["node16", "node16"],
      ["nodenext", "nodenext"],
      ["esnext", "bundler"],
    ] as const) {
      await tsc(
        "--noEmit",
        "-p",
        "tsconfig.steps.json",
        "--module",
        module,
        "--moduleResolution",
        resolution,
      );
    }
    // An ES-module program (`.mts`) imports the CommonJS provider by name.
    await workspace.write("esm/index.mts", await readFile(path.join(example, "index.ts"), "utf8"));
    await tsc(
      "--noEmit",
      "--strict",
      "--module",
      "nodenext",
      "--moduleResolution",
      "nodenext",
      "esm/index.mts",
    );
  });

  test("step 1 copies in full; step 2 changes to incremental in place and syncs new rows on every up", async () => {
    await tsc("-p", ".");
    const first = await up();
    assertOk(first);
    assert.deepEqual(
      first.steps.map((step) => step.op),
      ["create"],
    );
    assert.deepEqual(first.exports.tableRows, { customers: 12, orders: 25 });
    assert.deepEqual(first.exports.copiedTables, ["customers", "orders"]);
    assert.equal(await count("prod_copy.orders"), 25);

    await copyFile(path.join(workspace.dir, "step2", "index.ts"), path.join(workspace.dir, "index.ts"));
    await tsc("-p", ".");
    const second = await up();
    assertOk(second);
    assert.deepEqual(
      second.steps.map((step) => step.op),
      ["update"],
      "a change of mode is not a replacement",
    );
    assert.equal(second.exports.rowsCopied, 0);

    await source.client.query(
      "INSERT INTO orders (customer_id, placed) SELECT 2, now() FROM generate_series(1, 4)",
    );
    const third = await up();
    assertOk(third);
    assert.deepEqual(
      third.steps.map((step) => step.op),
      ["update"],
    );
    assert.equal(third.exports.rowsCopied, 4);
    assert.deepEqual(third.exports.tableRows, { customers: 12, orders: 29 });

    const destroyed = await workspace.run("destroy");
    assertOk(destroyed);
    const schema = await destination.client.query("SELECT 1 FROM pg_namespace WHERE nspname = 'prod_copy'");
    assert.equal(schema.rowCount, 0);
  });
});
