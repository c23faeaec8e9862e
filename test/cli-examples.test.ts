import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, test } from "node:test";
import { loadSpecFile } from "../engine/index.js";
import { repoDir } from "./support/cli.js";

const examplesDir = path.join(repoDir, "examples", "specs");

/** A value for every `${NAME}` an example references, as its comments tell the reader to export. */
function environmentFor(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [, name] of text.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)) {
    env[name as string] = name?.endsWith("_URL")
      ? `postgres://user@${name.toLowerCase()}.example.com/db`
      : "secret";
  }
  return env;
}

describe("examples/specs", () => {
  const files = readdirSync(examplesDir).filter((file) => file.endsWith(".yml"));

  test("there are examples for each mode", () => {
    assert.ok(files.length >= 3);
  });

  for (const file of files) {
    test(`${file} is a valid spec`, async () => {
      const fullPath = path.join(examplesDir, file);
      const spec = await loadSpecFile(fullPath, { env: environmentFor(readFileSync(fullPath, "utf8")) });
      assert.ok(["full", "incremental", "tables"].includes(spec.mode));
    });
  }
});
