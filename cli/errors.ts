/**
 * The one place where an error becomes an exit code and a message (DESIGN.md §3): 2 for anything a user can fix
 * before a table is touched (usage, spec, connection, privilege), 130 / 143 for an interruption, 70 for a bug.
 */
import { CommanderError } from "commander";
import { formatProblem, isPgferryError, SpecError } from "../engine/index.js";
import type { Output } from "./io.js";

/** sysexits.h EX_SOFTWARE: pgferry itself is at fault. */
export const EXIT_INTERNAL = 70;
export const EXIT_USAGE = 2;

export interface FailureReport {
  exitCode: number;
  /** Lines for stderr; commander has printed its own usage errors already. */
  lines: string[];
}

export function describeFailure(error: unknown, options: { debug: boolean }): FailureReport {
  if (error instanceof CommanderError) {
    // Help and --version exit 0; every other commander error is bad usage.
    return { exitCode: error.exitCode === 0 ? 0 : EXIT_USAGE, lines: [] };
  }
  if (error instanceof SpecError) {
    return {
      exitCode: error.exitCode,
      lines: error.problems.map((problem) => `error: ${formatProblem(problem)}`),
    };
  }
  if (isPgferryError(error)) {
    if (error.kind === "interrupted") return { exitCode: error.exitCode, lines: [error.message] };
    const lines = error.message.split("\n").map((line) => `error: ${line}`);
    if (error.hint) lines.push(`hint: ${error.hint}`);
    return { exitCode: error.exitCode, lines };
  }
  const message = error instanceof Error ? error.message : String(error);
  const lines = [`internal error: ${message}`];
  if (options.debug && error instanceof Error && error.stack) lines.push(error.stack);
  else
    lines.push("hint: this is a bug in pgferry; run again with PGFERRY_DEBUG=1 to see where, and report it.");
  return { exitCode: EXIT_INTERNAL, lines };
}

/** Prints the failure on stderr (even with --quiet) and returns the exit code. */
export function reportFailure(
  error: unknown,
  output: Output,
  env: Readonly<Record<string, string | undefined>>,
): number {
  const { exitCode, lines } = describeFailure(error, { debug: env.PGFERRY_DEBUG === "1" });
  const style = output.errStyle;
  for (const line of lines) {
    if (line.startsWith("error: ")) output.error(`${style.red(style.bold("error:"))} ${line.slice(7)}`);
    else if (line.startsWith("internal error: "))
      output.error(`${style.red(style.bold("internal error:"))} ${line.slice(16)}`);
    else if (line.startsWith("hint: ")) output.error(`${style.yellow("hint:")} ${line.slice(6)}`);
    else output.error(line);
  }
  return exitCode;
}
