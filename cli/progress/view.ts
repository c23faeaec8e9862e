import type { ProgressEvent } from "../../engine/index.js";
import type { Output } from "../io.js";
import { LineProgress } from "./lines.js";
import { LiveProgress } from "./live.js";

/** Shows a run's progress events; `stop` leaves the terminal clean (cursor shown, live lines cleared). */
export interface ProgressView {
  onEvent(event: ProgressEvent): void;
  /** Whether any table had started when the run ended (for the interruption message). */
  readonly tablesStarted: number;
  stop(): void;
}

/**
 * A live view redrawn in place when stderr is a terminal, plain lines otherwise (logs, CI), and with `--quiet`
 * only the failed tables.
 */
export function createProgressView(output: Output): ProgressView {
  if (output.quiet) return new LineProgress(output, { failuresOnly: true });
  if (output.interactive) return new LiveProgress(output);
  return new LineProgress(output, { failuresOnly: false });
}
