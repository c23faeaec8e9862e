import { isRecord, type PathSegment, type SpecPath } from "./path.js";
import type { RawProblem } from "./problems.js";

/** PostgreSQL truncates names to NAMEDATALEN - 1 bytes. */
export const MAX_NAME_BYTES = 63;

/**
 * Checks the schema cannot express, on the raw document (each check skips values of the wrong shape: the
 * schema reports those). Connections are checked once parsed, in `normalise.ts`.
 */
export function semanticProblems(raw: unknown): RawProblem[] {
  if (!isRecord(raw)) return [];
  const problems: RawProblem[] = [];
  for (const [path, name] of namesIn(raw)) problems.push(...nameProblems(path, name));
  if (typeof raw.targetSchema === "string") {
    const refusal = targetSchemaRefusal(raw.targetSchema);
    if (refusal !== undefined) problems.push({ path: ["targetSchema"], message: refusal });
  }

  const listed = new Map<string, number>();
  const tables = Array.isArray(raw.tables) ? raw.tables : [];
  tables.forEach((entry: unknown, index) => {
    const name = tableName(entry);
    if (name === undefined || name === "") return;
    const first = listed.get(name);
    if (first === undefined) listed.set(name, index);
    else {
      problems.push({
        path: ["tables", index],
        at: namePath(entry, index),
        message: `table ${JSON.stringify(name)} is listed twice (first as tables[${first}])`,
      });
    }
  });
  const exclude = Array.isArray(raw.exclude) ? raw.exclude : [];
  exclude.forEach((name: unknown, index) => {
    if (typeof name !== "string") return;
    const selected = listed.get(name);
    if (selected !== undefined) {
      problems.push({
        path: ["exclude", index],
        message: `table ${JSON.stringify(name)} is both selected (tables[${selected}]) and excluded`,
      });
    }
  });
  return problems;
}

/** Why `name` cannot be the target schema (DESIGN.md §2 rule 1), or undefined when it can. */
export function targetSchemaRefusal(name: string): string | undefined {
  const instead = 'use a schema of its own, such as the default "migrated"';
  if (name === "public") {
    return `"public" cannot be the target schema: it holds the database's own tables; ${instead}`;
  }
  if (name === "information_schema") {
    return `"information_schema" cannot be the target schema: it is a system schema; ${instead}`;
  }
  if (name.startsWith("pg_")) {
    return `${JSON.stringify(name)} cannot be the target schema: PostgreSQL reserves names starting with pg_ for system schemas; ${instead}`;
  }
  return undefined;
}

function nameProblems(path: SpecPath, name: string): RawProblem[] {
  if (name.includes("\0")) return [{ path, message: "must not contain a NUL character" }];
  const bytes = Buffer.byteLength(name, "utf8");
  if (name.length <= MAX_NAME_BYTES && bytes > MAX_NAME_BYTES) {
    return [
      {
        path,
        message: `is ${bytes} bytes long in UTF-8; PostgreSQL names are at most ${MAX_NAME_BYTES} bytes`,
      },
    ];
  }
  return [];
}

/** Every identifier of the document with its path: schemas, table names, excluded names. */
function namesIn(raw: Record<string, unknown>): [SpecPath, string][] {
  const names: [SpecPath, string][] = [];
  for (const key of ["sourceSchema", "targetSchema"]) {
    const value = raw[key];
    if (typeof value === "string") names.push([[key], value]);
  }
  if (Array.isArray(raw.tables)) {
    raw.tables.forEach((entry: unknown, index) => {
      const name = tableName(entry);
      if (name !== undefined) names.push([namePath(entry, index), name]);
    });
  }
  if (Array.isArray(raw.exclude)) {
    raw.exclude.forEach((name: unknown, index) => {
      if (typeof name === "string") names.push([["exclude", index], name]);
    });
  }
  return names;
}

function tableName(entry: unknown): string | undefined {
  if (typeof entry === "string") return entry;
  return isRecord(entry) && typeof entry.name === "string" ? entry.name : undefined;
}

function namePath(entry: unknown, index: number): PathSegment[] {
  return typeof entry === "string" ? ["tables", index] : ["tables", index, "name"];
}
