/** Spec loading and validation: YAML text, flags or program inputs in, a normalised `MigrationSpec` out. */
export {
  loadSpecFile,
  loadSpecText,
  specFromOverrides,
  validateSpecInput,
  type LoadSpecOptions,
} from "./load.js";
export { OVERRIDE_FLAGS, URL_VARIABLES, type SpecOverrides } from "./overrides.js";
export { formatProblem, SpecError, type SpecProblem } from "./problems.js";
export { redactConnectionString } from "./redact.js";
export { migrationSpecSchema } from "./schema.js";
export { targetSchemaRefusal } from "./semantic.js";
export type { SpecResult } from "./validate.js";
export type { Environment } from "./variables.js";
