import type { ErrorObject } from "ajv/dist/2020.js";
import { formatPath, isRecord, pathFromPointer, type SpecPath } from "./path.js";
import type { RawProblem } from "./problems.js";
import { showTypedValue, showValue } from "./redact.js";
import type { SchemaNode } from "./schema.js";
import { closestMatch } from "./similar.js";

/** Says what a missing required property is, where the spec came from (file, flags, program input). */
export type RequiredHint = (path: SpecPath) => string | undefined;

/**
 * ajv's errors as problems a person can act on: one per wrong value, worded as "what was expected, what was found".
 * With `anyOf` (a value that may be a string or an object) only the branch of the value's own type speaks.
 */
export function problemsFromSchemaErrors(
  errors: readonly ErrorObject[],
  root: unknown,
  requiredHint: RequiredHint = () => undefined,
): RawProblem[] {
  const relevant = keepOneAlternative(errors).filter((error) => error.keyword !== "if");
  const byPath = new Map<string, ErrorObject[]>();
  for (const error of relevant) {
    const group = byPath.get(error.instancePath) ?? [];
    group.push(error);
    byPath.set(error.instancePath, group);
  }
  const problems: RawProblem[] = [];
  for (const group of byPath.values()) {
    for (const error of mostTelling(group)) problems.push(toProblem(error, root, requiredHint));
  }
  return problems;
}

/** At one path, an enum mismatch says more than a type mismatch, and a type mismatch makes the rest noise. */
function mostTelling(group: ErrorObject[]): ErrorObject[] {
  const enumError = group.find((error) => error.keyword === "enum");
  if (enumError !== undefined) {
    return group.filter((error) => error.keyword !== "type");
  }
  const typeError = group.find((error) => error.keyword === "type");
  return typeError !== undefined ? [typeError] : group;
}

function keepOneAlternative(errors: readonly ErrorObject[]): ErrorObject[] {
  let kept = errors.filter((error) => error.keyword !== "anyOf" && error.keyword !== "oneOf");
  for (const alternative of errors) {
    if (alternative.keyword !== "anyOf" && alternative.keyword !== "oneOf") continue;
    const branches = alternative.schema as SchemaNode[];
    const prefix = `${alternative.schemaPath}/`;
    const fromThisChoice = (error: ErrorObject) =>
      error.instancePath === alternative.instancePath && error.schemaPath.startsWith(prefix);
    const matching = branches.flatMap((branch, index) =>
      typeMatches(branch.type, alternative.data) ? [index] : [],
    );
    if (matching.length > 0) {
      kept = kept.filter(
        (error) =>
          !fromThisChoice(error) ||
          matching.some((index) => error.schemaPath.startsWith(`${prefix}${index}/`)),
      );
    } else {
      kept = kept.filter((error) => !fromThisChoice(error));
      kept.push({ ...alternative, keyword: "type", params: { type: branches.map(describeBranch) } });
    }
  }
  return kept;
}

function typeMatches(type: string | undefined, value: unknown): boolean {
  switch (type) {
    case undefined:
      return true;
    case "object":
      return isRecord(value);
    case "array":
      return Array.isArray(value);
    case "null":
      return value === null;
    case "integer":
      return Number.isInteger(value);
    default:
      return typeof value === type;
  }
}

function describeBranch(branch: SchemaNode): string {
  if (branch.type === "string" && branch.pattern !== undefined) return "a postgres:// URL";
  if (branch.type === "object" && branch.required !== undefined) {
    return `an object with ${branch.required.join(", ")}`;
  }
  return branch.type === "string" ? "a string" : describeType(branch.type ?? "a value");
}

function describeType(type: string): string {
  switch (type) {
    case "array":
      return "a list";
    case "object":
      return "an object";
    case "boolean":
      return "boolean (true or false)";
    default:
      return type;
  }
}

function toProblem(error: ErrorObject, root: unknown, requiredHint: RequiredHint): RawProblem {
  const path = pathFromPointer(error.instancePath, root);
  const parentSchema = (error.parentSchema ?? {}) as SchemaNode;
  const params = error.params as Record<string, unknown>;
  const found = error.data;
  switch (error.keyword) {
    case "type": {
      const expected = Array.isArray(params.type)
        ? (params.type as string[]).join(" or ")
        : describeType(String(params.type));
      return { path, message: `expected ${expected}, found ${showTypedValue(found, path)}` };
    }
    case "enum": {
      const allowed = (params.allowedValues as unknown[]).map(String).join(", ");
      return { path, message: `must be one of ${allowed} (found ${showValue(found, path)})` };
    }
    case "required": {
      const missing = [...path, String(params.missingProperty)];
      if (error.schemaPath.startsWith("#/then/")) {
        return {
          path: missing,
          at: [...path, "mode"],
          message: 'is required when mode is "tables": list the tables to copy',
        };
      }
      const hint = requiredHint(missing);
      return {
        path: missing,
        at: path,
        message: hint === undefined ? "is required" : `is required: ${hint}`,
      };
    }
    case "additionalProperties": {
      const key = String(params.additionalProperty);
      const known = Object.keys(parentSchema.properties ?? {});
      const suggestion = closestMatch(key, known);
      const advice =
        suggestion === undefined ? ` (known keys: ${known.join(", ")})` : ` — did you mean "${suggestion}"?`;
      return { path: [...path, key], atKey: true, message: `unknown key ${JSON.stringify(key)}${advice}` };
    }
    case "minLength":
      return {
        path,
        message:
          params.limit === 1 ? "must not be empty" : `must be at least ${String(params.limit)} characters`,
      };
    case "maxLength":
      return {
        path,
        message: `must be at most ${String(params.limit)} characters (PostgreSQL's limit for names), found ${String((found as string).length)}`,
      };
    case "minimum":
    case "maximum":
    case "exclusiveMinimum":
      return { path, message: `${rangeOf(parentSchema)} (found ${showValue(found, path)})` };
    case "minItems":
      return formatPath(path) === "tables"
        ? {
            path,
            message: "must list at least one table; leave tables out to copy every table of sourceSchema",
          }
        : { path, message: "must not be an empty list" };
    case "pattern":
      return { path, message: `must be a postgres:// or postgresql:// URL, found ${showValue(found, path)}` };
    default:
      return { path, message: error.message ?? `fails ${error.keyword}` };
  }
}

function rangeOf(schema: SchemaNode): string {
  if (schema.minimum !== undefined && schema.maximum !== undefined) {
    return `must be between ${schema.minimum} and ${schema.maximum}`;
  }
  if (schema.exclusiveMinimum !== undefined) return `must be greater than ${schema.exclusiveMinimum}`;
  if (schema.minimum !== undefined) return `must be at least ${schema.minimum}`;
  return `must be at most ${String(schema.maximum)}`;
}
