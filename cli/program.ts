import { Command } from "commander";
import { checkCommand } from "./commands/check.js";
import { demoCommand } from "./commands/demo.js";
import { initCommand } from "./commands/init.js";
import { planCommand } from "./commands/plan.js";
import { runCommand } from "./commands/run.js";
import type { CliContext } from "./context.js";
import { reportFailure } from "./errors.js";
import { Output, type OutputStream } from "./io.js";
import { addSpecOptions, type SpecFlags } from "./spec-options.js";
import { packageVersion } from "./version.js";

const EXAMPLES = `
Examples:
  pgferry init                 guided set-up: tests the connections, writes pgferry.yml
  pgferry check                test both connections and the privileges a run needs
  pgferry plan                 show what a run would do, changing nothing
  pgferry run                  copy, as pgferry.yml says
  pgferry run --source postgres://… --destination postgres://… --mode incremental
  pgferry demo                 try it on two throwaway PostgreSQL servers

Exit codes: 0 done, 1 a table failed, 2 usage, spec, connection or privilege problem,
130 interrupted (143 on SIGTERM).`;

/** Runs the CLI on `argv` (as `process.argv`) and resolves to the exit code; never throws. */
export async function main(
  argv: readonly string[],
  streams: { stdout: OutputStream; stderr: OutputStream } = process,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<number> {
  const output = new Output(streams.stdout, streams.stderr, env);
  const context: CliContext = { output, env };
  let exitCode = 0;
  const program = buildProgram(context, (code) => (exitCode = code));
  try {
    await program.parseAsync([...argv]);
    return exitCode;
  } catch (error) {
    return reportFailure(error, output, env);
  }
}

type SpecAction = (spec: string | undefined, flags: SpecFlags, context: CliContext) => Promise<number>;

function buildProgram(context: CliContext, setExitCode: (code: number) => void): Command {
  const { output } = context;
  const program = new Command("pgferry")
    .description(
      "Copy PostgreSQL tables into a separate schema (default: migrated) of another database: " +
        "full copies, incremental syncs of new rows, per-table operations.",
    )
    .version(packageVersion(), "-V, --version")
    .exitOverride()
    .configureOutput({
      writeOut: (text) => output.result(text),
      writeErr: (text) => output.error(text),
    })
    .showHelpAfterError("(add --help for the commands and flags)")
    .addHelpText("after", EXAMPLES);

  const specCommand = (name: string, description: string, action: SpecAction) =>
    addSpecOptions(program.command(name).description(description)).action(
      async (spec: string | undefined, flags: SpecFlags) => {
        output.quiet = Boolean(flags.quiet);
        setExitCode(await action(spec, flags, context));
      },
    );

  specCommand("run", "copy the tables (full, incremental or per-table, as the spec says)", runCommand);
  specCommand("plan", "show what `run` would do, per table, without changing anything", planCommand);
  specCommand("check", "test both connections and the privileges a run needs", checkCommand);

  program
    .command("init")
    .description("guided set-up: choose the mode, test the connections, pick tables, write pgferry.yml")
    .option("--output <file>", "where to write the spec", "pgferry.yml")
    .action(async (flags: { output: string }) => setExitCode(await initCommand(flags, context)));

  program
    .command("demo")
    .description("copy a sample shop database between two throwaway PostgreSQL servers, then sync new rows")
    .action(async () => setExitCode(await demoCommand(context)));

  return program;
}
