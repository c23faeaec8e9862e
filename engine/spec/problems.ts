import { PgferryError } from "../errors.js";
import { OVERRIDE_FLAGS, URL_VARIABLES } from "./overrides.js";
import type { SpecPath } from "./path.js";

/** One thing wrong with a spec, pointing at where it is. */
export interface SpecProblem {
  /** The spec file, as the caller named it; absent for flags and for values given as objects (Pulumi inputs). */
  file?: string;
  /** 1-based line and column of the offending node in `file`. */
  line?: number;
  column?: number;
  /** Where the value came from when it is not the file: a CLI flag such as `--mode`, or `$PGFERRY_SOURCE_URL`. */
  origin?: string;
  /** The offending value's path, e.g. `tables[1].strategy`; empty for the document itself. */
  path: string;
  /** The top-level key the path starts with (`tables`), for callers that report per input property. */
  property: string;
  message: string;
}

/** A problem found before its place is known: `at` (default `path`) names the node to point at. */
export interface RawProblem {
  path: SpecPath;
  message: string;
  at?: SpecPath;
  /** Point at the key of `at` rather than at its value (an unknown key). */
  atKey?: boolean;
}

/** `pgferry.yml:12:5: tables[1].strategy: must be one of recreate, delta (found "copy")` */
export function formatProblem(problem: SpecProblem): string {
  const parts: string[] = [];
  if (problem.origin !== undefined) parts.push(problem.origin);
  else if (problem.file !== undefined) {
    parts.push([problem.file, problem.line, problem.column].filter((part) => part !== undefined).join(":"));
  }
  if (problem.path !== "" && !(problem.origin !== undefined && isOriginOf(problem.origin, problem.path))) {
    parts.push(problem.path);
  }
  parts.push(problem.message);
  return parts.join(": ");
}

/** `--mode` for `mode`: the path would only repeat what the origin says. */
function isOriginOf(origin: string, path: string): boolean {
  const flag = (OVERRIDE_FLAGS as Record<string, string>)[path];
  const variable = (URL_VARIABLES as Record<string, string>)[path];
  return origin === flag || (variable !== undefined && origin === `$${variable}`);
}

/** An invalid spec: every problem found, not only the first. */
export class SpecError extends PgferryError {
  readonly problems: readonly SpecProblem[];

  constructor(problems: readonly SpecProblem[]) {
    super("spec", problems.map(formatProblem).join("\n"));
    this.problems = problems;
  }
}
