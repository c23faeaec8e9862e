import type * as pulumi from "@pulumi/pulumi";
import type { MigrationSpec, RunReport, TargetInventory } from "../engine/index.js";
import {
  changesBetween,
  controlFailures,
  PROVIDER_KEY,
  specFailures,
  specOf,
  syncsOnEveryUpdate,
  type Props,
} from "./inputs.js";
import { outputsAfterRead, outputsAfterRun, outputsKept, resourceId, tablesToRepair } from "./outputs.js";
import { progressLines } from "./progress.js";

type Engine = typeof import("../engine/index.js");

/**
 * By the package's own name through its `exports`, never a relative path: the engine is ES modules, this bundle
 * CommonJS (DESIGN.md §3, packaging). `as string` keeps TypeScript from resolving the package's self-reference,
 * which exists only once built; the type comes from the sources.
 */
async function loadEngine(): Promise<Engine> {
  return (await import("pgferry/engine" as string)) as Engine;
}

/** Pulumi shows the provider host's output as diagnostics: progress only, passwords masked. */
function logger(engine: Engine, spec: MigrationSpec): (line: string) => void {
  const secrets = [spec.source.password, spec.destination.password];
  return (line) => {
    const safe = secrets.reduce<string>((text, secret) => engine.redactSecret(text, secret), line);
    process.stderr.write(`pgferry: ${safe}\n`);
  };
}

/** An error message without credentials, with the engine's hint when it has one. */
function describeError(engine: Engine, spec: MigrationSpec, error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const hint = engine.isPgferryError(error) && error.hint ? ` (${error.hint})` : "";
  return [spec.source.password, spec.destination.password].reduce<string>(
    (text, secret) => engine.redactSecret(text, secret),
    `${message}${hint}`,
  );
}

/** The destination database itself is gone: so is everything this resource kept in it. */
function isDatabaseGone(engine: Engine, error: unknown): boolean {
  return engine.isPgferryError(error) && error.kind === "database-missing";
}

async function runLogged(engine: Engine, spec: MigrationSpec): Promise<RunReport> {
  const log = logger(engine, spec);
  try {
    return await engine.run(spec, { onEvent: progressLines(log) });
  } catch (error) {
    throw new Error(
      `pgferry could not copy into ${spec.targetSchema}: ${describeError(engine, spec, error)}`,
    );
  }
}

/**
 * A run that finished with failed tables: the target schema exists and holds what succeeded. Thrown with the id
 * and the outputs, the dynamic-provider host reports it as a resource that failed to initialise
 * (`ErrorResourceInitFailed`): Pulumi records it with these outputs, so that `up` can retry and `destroy` can
 * clean up, and fails the operation.
 */
function partialFailure(id: string, outputs: Props, report: RunReport, inputs: Props): Error {
  const failed = report.tables.filter((table) => table.status === "failed");
  const reasons = failed.map((table) =>
    `${table.name}: ${table.error?.code ?? "failed"} ${table.error?.message ?? ""}`.trim(),
  );
  const error = new Error(
    `pgferry: ${failed.length} of ${report.totals.tables} tables failed in ${report.targetSchema}:\n${reasons.join("\n")}`,
  );
  // The host adds the serialized provider to a result's outputs, not to an error's: without it, no later
  // delete could load the provider.
  const properties = { ...outputs, [PROVIDER_KEY]: inputs[PROVIDER_KEY] };
  return Object.assign(error, { id, properties, reasons });
}

/**
 * The Pulumi resource provider of `MigratedSchema`. It runs inside the dynamic-provider host, loaded from the
 * installed package by the small forwarding provider serialized into the stack (see `resource.ts`); `olds` of
 * diff, update, read and delete are the state's outputs, which echo every input.
 */
export const lifecycle: pulumi.dynamic.ResourceProvider = {
  /** The same validation as the CLI and the Action, one failure per wrong value; unknown values wait. */
  async check(_olds: Props, news: Props): Promise<pulumi.dynamic.CheckResult> {
    const { validateSpecInput } = await loadEngine();
    return { inputs: news, failures: [...specFailures(validateSpecInput, news), ...controlFailures(news)] };
  },

  async diff(_id: string, olds: Props, news: Props): Promise<pulumi.dynamic.DiffResult> {
    const { validateSpecInput } = await loadEngine();
    const changes = changesBetween(validateSpecInput, olds, news);
    const changed =
      changes.replaces.length + changes.sync.length + changes.settings.length > 0 ||
      syncsOnEveryUpdate(news) ||
      tablesToRepair(olds).length > 0;
    return { changes: changed, replaces: changes.replaces, deleteBeforeReplace: true };
  },

  async create(inputs: Props): Promise<pulumi.dynamic.CreateResult> {
    const engine = await loadEngine();
    const spec = specOf(engine.validateSpecInput, inputs);
    const report = await runLogged(engine, spec);
    const id = resourceId(spec);
    const outs = outputsAfterRun(inputs, report);
    if (report.totals.tablesFailed > 0) throw partialFailure(id, outs, report, inputs);
    return { id, outs };
  },

  /** Runs the mode again when its inputs, the triggers or a table to repair ask for it; otherwise stores the inputs. */
  async update(id: string, olds: Props, news: Props): Promise<pulumi.dynamic.UpdateResult> {
    const engine = await loadEngine();
    const changes = changesBetween(engine.validateSpecInput, olds, news);
    const needsRun = changes.sync.length > 0 || syncsOnEveryUpdate(news) || tablesToRepair(olds).length > 0;
    if (!needsRun) return { outs: outputsKept(news, olds) };
    const report = await runLogged(engine, specOf(engine.validateSpecInput, news));
    const outs = outputsAfterRun(news, report);
    if (report.totals.tablesFailed > 0) throw partialFailure(id, outs, report, news);
    return { outs };
  },

  /**
   * `pulumi refresh`: what the target schema really holds (drift shows in `copiedTables` and `tableRows`); a
   * schema, or a destination database, that is gone is a resource that is gone.
   */
  async read(id: string, props?: Props): Promise<pulumi.dynamic.ReadResult> {
    if (props === undefined || props.destination === undefined) {
      throw new Error(
        "MigratedSchema cannot be imported or read by id alone: create it with `pulumi up` (it adopts an existing target schema)",
      );
    }
    const engine = await loadEngine();
    const spec = specOf(engine.validateSpecInput, props);
    let inventory: TargetInventory;
    try {
      inventory = await engine.inspectTarget(spec);
    } catch (error) {
      if (isDatabaseGone(engine, error)) return { id: "", props: {} };
      throw new Error(`pgferry could not read ${spec.targetSchema}: ${describeError(engine, spec, error)}`);
    }
    if (!inventory.exists) return { id: "", props: {} };
    return { id, props: outputsAfterRead(props, inventory) };
  },

  /** Drops the target schema (under the run lock), unless `retainOnDelete`. */
  async delete(_id: string, props: Props): Promise<void> {
    const engine = await loadEngine();
    const spec = specOf(engine.validateSpecInput, props);
    const log = logger(engine, spec);
    if (props.retainOnDelete === true) {
      log(`retainOnDelete: schema ${spec.targetSchema} left in place`);
      return;
    }
    try {
      await engine.dropTargetSchema(spec);
    } catch (error) {
      if (isDatabaseGone(engine, error)) {
        log(`database ${spec.destination.database} no longer exists: nothing to drop`);
        return;
      }
      throw new Error(`pgferry could not drop ${spec.targetSchema}: ${describeError(engine, spec, error)}`);
    }
    log(`dropped schema ${spec.targetSchema}`);
  },
};
