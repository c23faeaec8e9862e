/**
 * Errors a user can act on. Each kind has its own message and maps to an exit code (DESIGN.md §3: 2 for anything
 * that stops a run before a table is touched). Anything else reaching a shell is a bug and may show a stack.
 */
export type ErrorKind =
  | "spec"
  | "usage"
  | "unreachable"
  | "authentication"
  | "database-missing"
  | "privilege"
  | "tls"
  | "schema-refused"
  | "table-missing"
  | "no-tables"
  | "locked"
  | "interrupted"
  | "connection-lost";

export class PgferryError extends Error {
  override readonly name = "PgferryError";
  readonly kind: ErrorKind;
  readonly exitCode: number;
  readonly hint: string | undefined;

  constructor(
    kind: ErrorKind,
    message: string,
    options: { hint?: string; cause?: unknown; exitCode?: number } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.kind = kind;
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? (kind === "interrupted" ? 130 : 2);
  }
}

export function isPgferryError(error: unknown): error is PgferryError {
  return error instanceof PgferryError;
}
