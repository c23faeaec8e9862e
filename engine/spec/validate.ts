import type { MigrationSpec } from "../spec.js";
import { coerceText } from "./coerce.js";
import { buildSpec, checkConnections } from "./normalise.js";
import {
  applyOverrides,
  OVERRIDE_FLAGS,
  URL_VARIABLES,
  type MergedSpec,
  type SpecOverrides,
} from "./overrides.js";
import { formatPath, isRecord, isWithin, type SpecPath } from "./path.js";
import type { RawProblem, SpecProblem } from "./problems.js";
import { REDACTED } from "./redact.js";
import { schemaErrors } from "./schema.js";
import { problemsFromSchemaErrors, type RequiredHint } from "./schema-errors.js";
import { semanticProblems } from "./semantic.js";
import type { Environment } from "./variables.js";
import type { SpecText } from "./yaml-source.js";

export type SpecResult = { ok: true; spec: MigrationSpec } | { ok: false; problems: SpecProblem[] };

/** Where the document came from, which decides how problems point and what a missing connection asks for. */
export type SpecOrigin =
  { kind: "file"; file: string; text: SpecText } | { kind: "flags" } | { kind: "input" };

export interface SpecEvaluation {
  document: unknown;
  origin: SpecOrigin;
  overrides: SpecOverrides;
  env: Environment;
}

/**
 * The one path every spec takes: overrides applied, text coerced where a number is meant, schema and semantic
 * checks, connections parsed; then either the normalised spec or every problem, each placed and worded.
 */
export function evaluateSpec({ document, origin, overrides, env }: SpecEvaluation): SpecResult {
  const text = origin.kind === "file" ? origin.text : undefined;
  if (text !== undefined && text.value === undefined && text.problems.length > 0) {
    return { ok: false, problems: text.problems.map((problem) => placedInText(problem, origin)) };
  }

  const fromFile = text === undefined ? document : coerceText(document, text.expanded);
  const merged = applyOverrides(fromFile, overrides, env);
  const value = coerceText(merged.value, merged.coercible);
  // A flag that replaces a value makes the file's value, and a variable it lacks, irrelevant.
  const textProblems = (text?.problems ?? []).filter((problem) => !merged.overridden(problem.path));

  const raw: RawProblem[] = [
    ...problemsFromSchemaErrors(schemaErrors(value), value, requiredHint(origin.kind)),
    ...semanticProblems(value),
  ];
  let connections: ReturnType<typeof checkConnections>["connections"] = {};
  if (isRecord(value)) {
    const checked = checkConnections(value, (key) => raw.some((problem) => isWithin(problem.path, [key])));
    connections = checked.connections;
    raw.push(...checked.problems);
  }

  // A value whose `${NAME}` could not be expanded is reported once, as that; what follows from it is noise.
  const unexpanded = textProblems.map((problem) => problem.path);
  const followsFromVariable = (problem: RawProblem) => {
    const own = merged.provenance(problem.path);
    return "filePath" in own && unexpanded.some((path) => isWithin(own.filePath, path));
  };
  const problems = [
    ...textProblems.map((problem) => placedInText(problem, origin)),
    ...raw
      .filter((problem) => !followsFromVariable(problem))
      .map((problem) => place(problem, origin, merged)),
  ];

  if (problems.length > 0) return { ok: false, problems: scrubPasswords(orderProblems(problems), value) };
  const { source, destination } = connections;
  if (!isRecord(value) || source === undefined || destination === undefined) {
    throw new Error("a spec without problems must have both connections");
  }
  return { ok: true, spec: buildSpec(value, { source, destination }) };
}

function requiredHint(kind: SpecOrigin["kind"]): RequiredHint {
  return (path) => {
    const [key] = path;
    if (path.length !== 1 || (key !== "source" && key !== "destination")) return undefined;
    const ways = `${OVERRIDE_FLAGS[key]} URL or ${URL_VARIABLES[key]}`;
    if (kind === "flags") return `pass ${OVERRIDE_FLAGS[key]} URL or set ${URL_VARIABLES[key]}`;
    if (kind === "file") return `a postgres:// URL or a connection object (${ways} also set it)`;
    return "a postgres:// URL or a connection object";
  };
}

function placedInText(problem: SpecText["problems"][number], origin: SpecOrigin): SpecProblem {
  return {
    ...(origin.kind === "file" ? { file: origin.file } : {}),
    line: problem.position.line,
    column: problem.position.column,
    path: formatPath(problem.path),
    property: propertyOf(problem.path),
    message: problem.message,
  };
}

/** A problem of the merged document, pointed at the flag or variable it came from, or at its place in the file. */
function place(problem: RawProblem, origin: SpecOrigin, merged: MergedSpec): SpecProblem {
  const own = merged.provenance(problem.path);
  const at = merged.provenance(problem.at ?? problem.path);
  const path = "filePath" in own ? own.filePath : problem.path;
  const placed: SpecProblem = {
    path: formatPath(path),
    property: propertyOf(path),
    message: problem.message,
  };
  if ("origin" in at) placed.origin = at.origin;
  else if (origin.kind === "file") {
    const position = origin.text.locate(at.filePath, problem.atKey);
    Object.assign(placed, { file: origin.file, line: position.line, column: position.column });
  }
  return placed;
}

function propertyOf(path: SpecPath): string {
  const [top] = path;
  return top === undefined ? "" : String(top);
}

/** Flags and variables first, then the file's problems in reading order; identical lines once. */
function orderProblems(problems: SpecProblem[]): SpecProblem[] {
  const rank = (problem: SpecProblem) =>
    problem.origin !== undefined ? 0 : problem.line !== undefined ? 1 : 2;
  const sorted = [...problems].sort(
    (a, b) => rank(a) - rank(b) || (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0),
  );
  const seen = new Set<string>();
  return sorted.filter((problem) => {
    const key = JSON.stringify(problem);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * Defence in depth for DESIGN.md §2 rule 7: messages are written never to quote a password, and any password of
 * the document that still shows up in one is masked.
 */
function scrubPasswords(problems: SpecProblem[], document: unknown): SpecProblem[] {
  const passwords = passwordsIn(document).filter((password) => password.length >= 4);
  if (passwords.length === 0) return problems;
  return problems.map((problem) => ({
    ...problem,
    message: passwords.reduce((message, password) => message.split(password).join(REDACTED), problem.message),
  }));
}

function passwordsIn(document: unknown): string[] {
  if (!isRecord(document)) return [];
  const passwords: string[] = [];
  for (const key of ["source", "destination"]) {
    const connection = document[key];
    if (isRecord(connection) && typeof connection.password === "string") passwords.push(connection.password);
    if (typeof connection === "string") {
      const schemeEnd = connection.indexOf("://");
      const userInfo = connection.slice(schemeEnd + 3, Math.max(connection.lastIndexOf("@"), schemeEnd + 3));
      const colon = userInfo.indexOf(":");
      if (schemeEnd >= 0 && colon >= 0) {
        const encoded = userInfo.slice(colon + 1);
        passwords.push(encoded);
        try {
          passwords.push(decodeURIComponent(encoded));
        } catch {
          // The encoded form is masked; an undecodable one has no other form.
        }
      }
    }
  }
  return passwords.filter((password) => password !== REDACTED);
}
