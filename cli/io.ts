import { createStyle, supportsColor, supportsUnicode, type Style } from "./render/style.js";
import { Secrets } from "./secrets.js";

export interface OutputStream {
  write(text: string): boolean;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

/**
 * Where the CLI writes. stdout carries only results (the `--json` report, a plan, a check); everything for the
 * human running the command (progress, summaries, notes, errors) goes to stderr. Every write is redacted.
 */
export class Output {
  readonly secrets = new Secrets();
  readonly outStyle: Style;
  readonly errStyle: Style;
  quiet = false;

  constructor(
    readonly stdout: OutputStream,
    readonly stderr: OutputStream,
    env: Readonly<Record<string, string | undefined>>,
  ) {
    const unicode = supportsUnicode(env);
    this.outStyle = createStyle({ color: supportsColor(Boolean(stdout.isTTY), env), unicode });
    this.errStyle = createStyle({ color: supportsColor(Boolean(stderr.isTTY), env), unicode });
  }

  /** Whether stderr is a terminal that can be redrawn in place. */
  get interactive(): boolean {
    return Boolean(this.stderr.isTTY);
  }

  get columns(): number {
    return this.stderr.columns && this.stderr.columns > 0 ? this.stderr.columns : 100;
  }

  /** A result, on stdout. */
  result(text: string): void {
    this.stdout.write(this.secrets.redact(ensureNewline(text)));
  }

  /** The only thing on stdout with `--json`. */
  json(value: unknown): void {
    this.stdout.write(`${JSON.stringify(this.secrets.redactValue(value), null, 2)}\n`);
  }

  /** Progress, summaries and notes, on stderr; silenced by `--quiet`. */
  info(text: string): void {
    if (!this.quiet) this.stderr.write(this.secrets.redact(ensureNewline(text)));
  }

  /** Errors, on stderr, even with `--quiet`. */
  error(text: string): void {
    this.stderr.write(this.secrets.redact(ensureNewline(text)));
  }

  /** Raw terminal output (a live progress view): redacted, never a newline added. */
  raw(text: string): void {
    if (!this.quiet) this.stderr.write(this.secrets.redact(text));
  }
}

function ensureNewline(text: string): string {
  return text.endsWith("\n") ? text : `${text}\n`;
}
