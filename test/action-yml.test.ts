/** action.yml against the code: the inputs the Action reads and the outputs it sets are exactly the declared ones. */
import assert from "node:assert/strict";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { describe, test } from "node:test";
import { parse } from "yaml";
import { DEFAULT_SPEC } from "../action/inputs.js";
import { loadSpecFile } from "../engine/index.js";
import { repoRoot } from "./support/action-runner.js";

interface ActionMetadata {
  name?: string;
  description?: string;
  branding?: { icon?: string; color?: string };
  inputs?: Record<string, { description?: string; default?: string; required?: boolean }>;
  outputs?: Record<string, { description?: string }>;
  runs?: { using?: string; main?: string };
}

const metadata = parse(readFileSync(path.join(repoRoot, "action.yml"), "utf8")) as ActionMetadata;
const sources = readdirSync(path.join(repoRoot, "action"))
  .filter((file) => file.endsWith(".ts"))
  .map((file) => readFileSync(path.join(repoRoot, "action", file), "utf8"))
  .join("\n");

function calls(pattern: RegExp): string[] {
  return [...new Set([...sources.matchAll(pattern)].map((match) => match[1] ?? ""))].sort();
}

describe("action.yml", () => {
  test("runs the committed bundle on node24", () => {
    assert.equal(metadata.runs?.using, "node24");
    assert.equal(metadata.runs?.main, "action/dist/index.mjs");
    assert.ok(existsSync(path.join(repoRoot, metadata.runs.main)), "the bundle is committed");
  });

  test("every input the code reads is declared, and every declared input is read", () => {
    const read = calls(/core\.get(?:Boolean|Multiline)?Input\(\s*"([^"]+)"/g);
    assert.deepEqual(read, Object.keys(metadata.inputs ?? {}).sort());
    assert.deepEqual(read, ["destination-url", "dry-run", "mode", "source-url", "spec", "tables"].sort());
    assert.equal(metadata.inputs?.spec?.default, DEFAULT_SPEC);
    assert.equal(metadata.inputs?.["dry-run"]?.default, "false");
  });

  test("every output the code sets is declared, and every declared output is set", () => {
    const set = calls(/core\.setOutput\(\s*"([^"]+)"/g);
    assert.deepEqual(set, Object.keys(metadata.outputs ?? {}).sort());
    assert.deepEqual(set, ["report", "rows-copied", "tables-copied", "tables-failed"]);
  });

  test("name, description and branding are present; every input and output is described", () => {
    assert.ok(metadata.name && metadata.description);
    assert.ok(metadata.branding?.icon && metadata.branding.color);
    for (const [name, entry] of [
      ...Object.entries(metadata.inputs ?? {}),
      ...Object.entries(metadata.outputs ?? {}),
    ]) {
      assert.ok(typeof entry.description === "string" && entry.description.trim().length > 10, name);
    }
  });
});

describe("examples/github", () => {
  const dir = path.join(repoRoot, "examples/github");
  const workflows = readdirSync(dir).filter((file) => file.endsWith(".yml") && file !== "pgferry.yml");

  test("the three workflows are there", () => {
    assert.deepEqual(workflows.sort(), [
      "hourly-incremental.yml",
      "nightly-full-refresh.yml",
      "pr-dry-run.yml",
    ]);
  });

  for (const file of workflows) {
    test(`${file} passes only declared inputs and reads only declared outputs`, () => {
      const text = readFileSync(path.join(dir, file), "utf8");
      const workflow = parse(text) as { jobs: Record<string, { steps: { uses?: string; with?: object }[] }> };
      const steps = Object.values(workflow.jobs).flatMap((job) => job.steps);
      const ours = steps.filter((step) => step.uses?.startsWith("pgferry/pgferry@"));
      assert.equal(ours.length, 1);
      for (const step of ours) {
        for (const input of Object.keys(step.with ?? {}))
          assert.ok(metadata.inputs?.[input], `input ${input}`);
      }
      for (const [, output] of text.matchAll(/steps\.(?:ferry|plan)\.outputs\.([a-z-]+)/g)) {
        assert.ok(metadata.outputs?.[output ?? ""], `output ${output}`);
      }
    });
  }

  test("the example spec is valid", async () => {
    const spec = await loadSpecFile(path.join(dir, "pgferry.yml"), {
      env: {
        SOURCE_DATABASE_URL: "postgres://a@source/shop",
        DESTINATION_DATABASE_URL: "postgres://b@staging/shop",
      },
    });
    assert.equal(spec.mode, "incremental");
    assert.deepEqual(spec.exclude, ["audit_log"]);
  });
});
