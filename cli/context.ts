import type { Output } from "./io.js";

/** What a command needs from the process it runs in. */
export interface CliContext {
  readonly output: Output;
  readonly env: Readonly<Record<string, string | undefined>>;
}
