/**
 * `check` of `MigratedSchema` (issue 6): the spec's JSON Schema validator, one failure per wrong value under its
 * input property, and values not known yet (preview) left for the real run. Through the real dynamic-provider
 * host, from an ES-module program (the lifecycle tests use CommonJS); no database is reached.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createPulumiWorkspace, type PulumiWorkspace } from "./support/pulumi-workspace.js";

/**
 * `args` config as inputs; with `unknown` set, the config keys it lists come from a resource that a preview has
 * not created yet, so their values are unknown (`undefined` keys: the whole value; `tables[0]`: one entry).
 */
const PROGRAM = `import * as pulumi from "@pulumi/pulumi";
import { MigratedSchema } from "pgferry/provider";

const config = new pulumi.Config();
const args = config.requireObject("args");
const later = (name, value) =>
  new pulumi.CustomResource("test:index:Value", name, { value, unknownInPreview: true, output: undefined }).output;
for (const path of config.getObject("unknown") ?? []) {
  const [, key, index] = /^(\\w+)(?:\\[(\\d+)\\])?$/.exec(path);
  if (index === undefined) args[key] = later(key, args[key]);
  else args[key][Number(index)] = later(\`\${key}-\${index}\`, args[key][Number(index)]);
}
export const rows = new MigratedSchema("copy", args).rowsCopied;
`;

const valid = {
  source: "postgres://reader@db.example:5432/app",
  destination: "postgres://writer@staging.example:5432/app",
};

describe("MigratedSchema check", () => {
  let workspace: PulumiWorkspace;
  const run = (command: "up" | "preview", args: Record<string, unknown>, unknown: string[] = []) =>
    workspace.run(command, {
      program: "index.mjs",
      config: { args: JSON.stringify(args), unknown: JSON.stringify(unknown) },
    });

  before(async () => {
    workspace = await createPulumiWorkspace();
    await workspace.write("index.mjs", PROGRAM);
  });
  after(() => workspace?.remove());

  test("a bad mode and a bad table entry fail check, each under its own property", async () => {
    const result = await run("up", {
      ...valid,
      mode: "copy-everything",
      tables: ["users", { name: "orders", strategy: "merge" }, 42],
    });
    assert.equal(result.ok, false);
    assert.deepEqual(result.steps, [], "nothing was created");
    assert.deepEqual(result.failures.copy, [
      { property: "mode", reason: 'must be one of full, incremental, tables (found "copy-everything")' },
      { property: "tables", reason: 'tables[1].strategy: must be one of recreate, delta (found "merge")' },
      { property: "tables", reason: "tables[2]: expected a string or an object with name, found number 42" },
    ]);
    assert.match(result.errors.join("\n"), /check failed:\n {2}mode: must be one of/);
  });

  test("the resource's own inputs are checked too", async () => {
    const result = await run("preview", { ...valid, syncOnEveryUpdate: true, retainOnDelete: "yes" });
    assert.deepEqual(
      result.failures.copy?.map((failure) => failure.property),
      ["retainOnDelete", "syncOnEveryUpdate"],
    );
  });

  test("a public target schema and a missing destination are refused", async () => {
    const result = await run("preview", { source: valid.source, targetSchema: "public" });
    assert.deepEqual(
      result.failures.copy?.map((failure) => failure.property),
      ["destination", "targetSchema"],
    );
  });

  test("a preview with unknown inputs passes", async () => {
    const result = await run("preview", { ...valid, mode: "tables", tables: ["users", "orders"] }, [
      "destination",
      "tables[1]",
      "targetSchema",
    ]);
    // Without a value, destination would be "required" (see above): check saw it as unknown and let it be.
    assert.ok(result.ok, result.errors.join("\n"));
    assert.deepEqual(result.steps, [
      { name: "copy", type: "pulumi-nodejs:dynamic/pgferry:MigratedSchema", op: "create" },
    ]);
    assert.equal(result.exports.rows, "[unknown]");
  });

  test("during a preview, known values are still checked", async () => {
    const result = await run("preview", { ...valid, mode: "bogus", tables: ["users", 7, "orders"] }, [
      "destination",
      "tables[0]",
    ]);
    assert.deepEqual(result.failures.copy, [
      { property: "mode", reason: 'must be one of full, incremental, tables (found "bogus")' },
      { property: "tables", reason: "tables[1]: expected a string or an object with name, found number 7" },
    ]);
  });
});
