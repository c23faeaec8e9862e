import { check } from "../../engine/index.js";
import type { CliContext } from "../context.js";
import { EXIT_USAGE } from "../errors.js";
import { renderCheck } from "../render/check.js";
import { resolveSpec, type SpecFlags } from "../spec-options.js";

const CHECK_RETRY_SECONDS = 3;

/** `pgferry check [spec]`: both connections and the privileges a run needs; exit 0 when all is well, else 2. */
export async function checkCommand(
  specFile: string | undefined,
  flags: SpecFlags,
  context: CliContext,
): Promise<number> {
  const spec = await resolveSpec(specFile, flags, context);
  // A refused connection is retried for waitTimeoutSeconds (60 s by default) so that a run can wait for a server
  // that is starting; a check answers "does it work now", so it gives up sooner.
  const report = await check({
    ...spec,
    waitTimeoutSeconds: Math.min(spec.waitTimeoutSeconds, CHECK_RETRY_SECONDS),
  });
  if (flags.json) context.output.json(report);
  else context.output.result(renderCheck(report, context.output.outStyle));
  return report.ok ? 0 : EXIT_USAGE;
}
