import { plan } from "../../engine/index.js";
import type { CliContext } from "../context.js";
import { renderPlan } from "../render/plan.js";
import { serverWaitLine } from "../render/server-wait.js";
import { resolveSpec, type SpecFlags } from "../spec-options.js";

/** `pgferry plan [spec]`: what `run` would do, changing nothing; exit 0 (2 on a spec or connection problem). */
export async function planCommand(
  specFile: string | undefined,
  flags: SpecFlags,
  context: CliContext,
): Promise<number> {
  const spec = await resolveSpec(specFile, flags, context);
  const report = await plan(spec, {
    onEvent: (event) => {
      if (event.type === "server-wait")
        context.output.info(serverWaitLine(event, context.output.errStyle.symbols.ellipsis));
    },
  });
  if (flags.json) context.output.json(report);
  else context.output.result(renderPlan(report, context.output.outStyle));
  return 0;
}
