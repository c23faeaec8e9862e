import { readFile } from "node:fs/promises";
import type { MigrationSpec } from "../spec.js";
import type { SpecOverrides } from "./overrides.js";
import { SpecError } from "./problems.js";
import { evaluateSpec, type SpecResult } from "./validate.js";
import type { Environment } from "./variables.js";
import { readSpecText } from "./yaml-source.js";

export interface LoadSpecOptions {
  /** Where `${NAME}` and `PGFERRY_SOURCE_URL` / `PGFERRY_DESTINATION_URL` are read; default `process.env`. */
  env?: Environment;
  /** CLI flags (or Action inputs) that replace the spec's values. */
  overrides?: SpecOverrides;
}

/** Reads, expands, validates and normalises a spec file; throws a `SpecError` listing every problem. */
export async function loadSpecFile(path: string, options: LoadSpecOptions = {}): Promise<MigrationSpec> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const reason =
      (error as NodeJS.ErrnoException).code === "ENOENT" ? "file not found" : (error as Error).message;
    throw new SpecError([{ file: path, path: "", property: "", message: `cannot read the spec: ${reason}` }]);
  }
  return loadSpecText(text, path, options);
}

/** `loadSpecFile` for text already in hand; `fileName` is how problems name the file. */
export function loadSpecText(text: string, fileName: string, options: LoadSpecOptions = {}): MigrationSpec {
  const env = options.env ?? process.env;
  const source = readSpecText(text, env);
  return orThrow(
    evaluateSpec({
      document: source.value,
      origin: { kind: "file", file: fileName, text: source },
      overrides: options.overrides ?? {},
      env,
    }),
  );
}

/** A spec from flags alone, no file: `pgferry run --source … --destination … --mode incremental`. */
export function specFromOverrides(
  overrides: SpecOverrides,
  options: { env?: Environment } = {},
): MigrationSpec {
  return orThrow(
    evaluateSpec({ document: {}, origin: { kind: "flags" }, overrides, env: options.env ?? process.env }),
  );
}

/**
 * Validates a spec given as data (the Pulumi resource's inputs): the normalised spec, or every problem with its
 * property path. Nothing is thrown for an invalid spec. Values are taken literally: no `${NAME}` expansion (a
 * program has its environment at hand) and no `PGFERRY_*_URL` fallback.
 */
export function validateSpecInput(value: unknown): SpecResult {
  return evaluateSpec({ document: value, origin: { kind: "input" }, overrides: {}, env: {} });
}

function orThrow(result: SpecResult): MigrationSpec {
  if (!result.ok) throw new SpecError(result.problems);
  return result.spec;
}
