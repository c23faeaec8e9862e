/**
 * The Node contenders run as plain `node` processes, so that their wall clock and peak RSS include neither a
 * TypeScript loader nor the bench itself. Each entry in `children/` is bundled once per bench run with esbuild,
 * the engine's TypeScript sources and npm packages included, into a temporary folder (outside the repository,
 * where no linter or formatter will find it).
 */
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import type { Command } from "./proc.js";

export type ChildName = "pgferry-child" | "insert-batches" | "all-keys-in-node";

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const outDir = path.join(os.tmpdir(), "pgferry-bench-children");

export async function buildChildren(): Promise<void> {
  const names: ChildName[] = ["pgferry-child", "insert-batches", "all-keys-in-node"];
  await build({
    entryPoints: Object.fromEntries(
      names.map((name) => [name, path.join(benchDir, "children", `${name}.ts`)]),
    ),
    outdir: outDir,
    outExtension: { ".js": ".mjs" },
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    // pg loads its optional native binding lazily, only when asked to.
    external: ["pg-native"],
    // CommonJS packages inside an ESM bundle still call require() for Node's built-in modules.
    banner: {
      js: 'import { createRequire } from "node:module"; const require = createRequire(import.meta.url);',
    },
    logLevel: "warning",
  });
}

/** The command that runs a bundled child with its input in one environment variable. */
export function nodeChild(name: ChildName, variable: string, input: unknown): Command {
  return {
    command: process.execPath,
    args: [path.join(outDir, `${name}.mjs`)],
    env: { [variable]: JSON.stringify(input) },
  };
}
