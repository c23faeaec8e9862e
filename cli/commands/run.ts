import { exitCodeOf, PgferryError, run, type MigrationSpec, type RunReport } from "../../engine/index.js";
import type { CliContext } from "../context.js";
import { createProgressView } from "../progress/view.js";
import { renderRunSummary } from "../render/summary.js";
import { Interruption } from "../signals.js";
import { resolveSpec, type SpecFlags } from "../spec-options.js";

/** `pgferry run [spec]`: copy, with progress on stderr; exit 0, or 1 when a table failed. */
export async function runCommand(
  specFile: string | undefined,
  flags: SpecFlags,
  context: CliContext,
): Promise<number> {
  const spec = await resolveSpec(specFile, flags, context);
  const report = await runWithProgress(spec, context);
  if (flags.json) context.output.json(report);
  context.output.info(renderRunSummary(report, context.output.errStyle));
  return exitCodeOf(report);
}

/**
 * `run` with the progress view and Ctrl-C handling (shared by `run` and `demo`): the first SIGINT / SIGTERM
 * aborts the run, the engine rolls back the tables in flight, and this rejects with an `interrupted` error whose
 * exit code is 130 / 143. A caller that handles signals itself passes its own `interruption`.
 */
export async function runWithProgress(
  spec: MigrationSpec,
  context: CliContext,
  interruption?: Interruption,
): Promise<RunReport> {
  const progress = createProgressView(context.output);
  const signals = interruption ?? new Interruption();
  const stopProgress = () => progress.stop();
  signals.signal.addEventListener("abort", stopProgress, { once: true });
  try {
    return await run(spec, { onEvent: (event) => progress.onEvent(event), signal: signals.signal });
  } catch (error) {
    if (signals.received) {
      throw new PgferryError(
        "interrupted",
        progress.tablesStarted > 0
          ? "Interrupted — the table in flight was rolled back."
          : "Interrupted before any table was touched.",
        { exitCode: signals.exitCode, cause: error },
      );
    }
    throw error;
  } finally {
    progress.stop();
    signals.signal.removeEventListener("abort", stopProgress);
    if (!interruption) signals.dispose();
  }
}
