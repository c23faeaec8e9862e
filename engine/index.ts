/**
 * The programmatic API of pgferry: `run`, `plan` and `check` take the same normalised spec (`loadSpec` makes
 * one from a file, flags or an object) and return data; nothing here prints.
 */
export { run, type RunOptions } from "./run.js";
export { PgferryError, isPgferryError, type ErrorKind } from "./errors.js";
export { describeEndpoint, redactedUrl, redactSecret } from "./connection.js";
export { exitCodeOf, summarise } from "./report.js";
export type * from "./report.js";
export type * from "./events.js";
export type * from "./spec.js";
export { SPEC_DEFAULTS, MAX_JOBS } from "./spec.js";
export { plan } from "./plan.js";
export { check, type CheckReport, type EndpointCheck, type CheckItem } from "./check.js";
export {
  loadSpecFile,
  loadSpecFile as loadSpec,
  loadSpecText,
  specFromOverrides,
  validateSpecInput,
  SpecError,
  formatProblem,
  type SpecOverrides,
  type SpecProblem,
  type SpecResult,
  type LoadSpecOptions,
} from "./spec/index.js";
export { inspectTarget, dropTargetSchema, type TargetInventory } from "./target-admin.js";
export { listSourceTables, type SourceTableInfo } from "./source-tables.js";
