import * as core from "@actions/core";
import { PgferryError, type SpecOverrides } from "../engine/index.js";
import type { Secrets } from "./secrets.js";

export const DEFAULT_SPEC = "pgferry.yml";

/** The Action's inputs (action.yml), read once. */
export interface ActionInputs {
  /** Path of the spec file, relative to the workspace. */
  spec: string;
  /** `source-url`, `destination-url`, `mode` and `tables`: each replaces the spec's value when given. */
  overrides: SpecOverrides;
  dryRun: boolean;
}

/**
 * Reads the inputs; the connection URLs (and the passwords inside them) are registered as secrets before anything
 * else happens, so no later line can show them.
 */
export function readInputs(secrets: Secrets): ActionInputs {
  const source = core.getInput("source-url");
  const destination = core.getInput("destination-url");
  if (source !== "") secrets.addConnectionUrl(source);
  if (destination !== "") secrets.addConnectionUrl(destination);

  const overrides: SpecOverrides = {};
  if (source !== "") overrides.source = source;
  if (destination !== "") overrides.destination = destination;
  const mode = core.getInput("mode");
  if (mode !== "") overrides.mode = mode;
  const tables = parseList(core.getInput("tables"));
  if (tables.length > 0) overrides.tables = tables;

  return {
    spec: core.getInput("spec") || DEFAULT_SPEC,
    overrides,
    dryRun: parseBoolean(core.getInput("dry-run"), "dry-run"),
  };
}

/** `a, b` or one name per line (a YAML block scalar in the workflow). */
export function parseList(text: string): string[] {
  return text
    .split(/[,\n]/)
    .map((item) => item.trim())
    .filter((item) => item !== "");
}

/** The YAML 1.2 core schema's booleans, as `core.getBooleanInput` reads them; empty means false. */
export function parseBoolean(text: string, input: string): boolean {
  if (text === "" || /^(false|False|FALSE)$/.test(text)) return false;
  if (/^(true|True|TRUE)$/.test(text)) return true;
  throw new PgferryError("usage", `Input ${input} must be true or false (found ${JSON.stringify(text)}).`);
}
