import * as pulumi from "@pulumi/pulumi";
import type { RunReport } from "./engine-types.js";
import type { MigratedSchemaArgs } from "./args.js";

/**
 * What Pulumi serializes into the stack as this resource's provider. Every method forwards to `lifecycle` of the
 * installed `pgferry/provider`, so the state holds about 2 KB of forwarding code, no engine, no client
 * and no captured value, and an upgraded pgferry serves existing resources (delete included). The specifier is
 * the package's own name: the host evaluates this text without a file name, resolving from the program folder
 * (`as string` keeps TypeScript from resolving the self-reference, which exists only once built).
 */
const forwardingProvider: pulumi.dynamic.ResourceProvider = {
  async check(olds, news) {
    return (await import("pgferry/provider" as string)).lifecycle.check(olds, news);
  },
  async diff(id, olds, news) {
    return (await import("pgferry/provider" as string)).lifecycle.diff(id, olds, news);
  },
  async create(inputs) {
    return (await import("pgferry/provider" as string)).lifecycle.create(inputs);
  },
  async update(id, olds, news) {
    return (await import("pgferry/provider" as string)).lifecycle.update(id, olds, news);
  },
  async read(id, props) {
    return (await import("pgferry/provider" as string)).lifecycle.read(id, props);
  },
  async delete(id, props) {
    return (await import("pgferry/provider" as string)).lifecycle.delete(id, props);
  },
};

/**
 * A schema of a destination database kept as a copy of a source database's tables by pgferry: `pulumi up`
 * copies (full) or syncs new rows (incremental), `pulumi refresh` shows what the target schema really holds,
 * `pulumi destroy` drops it (unless `retainOnDelete`). The inputs are the fields of a pgferry spec.
 *
 * @example
 * const staging = new MigratedSchema("staging-copy", {
 *   source: config.requireSecret("productionUrl"),
 *   destination: config.requireSecret("stagingUrl"),
 *   mode: "incremental",
 *   exclude: ["audit_log"],
 * });
 * export const rows = staging.tableRows;
 */
export class MigratedSchema extends pulumi.dynamic.Resource {
  /** The RunReport of the last copy: per-table actions, statuses, row counts; no credentials. */
  declare public readonly report: pulumi.Output<RunReport>;
  /** Tables this resource keeps in the target schema (after a refresh: those really there). */
  declare public readonly copiedTables: pulumi.Output<string[]>;
  /** Row count per table of `copiedTables`, at the end of the last run or counted by a refresh. */
  declare public readonly tableRows: pulumi.Output<Record<string, number>>;
  /** Rows copied by the last run (0 when everything was up to date). */
  declare public readonly rowsCopied: pulumi.Output<number>;
  /** When the last run finished (ISO 8601). */
  declare public readonly lastSyncedAt: pulumi.Output<string>;

  constructor(name: string, args: MigratedSchemaArgs, opts?: pulumi.CustomResourceOptions) {
    const outputs = {
      report: undefined,
      copiedTables: undefined,
      tableRows: undefined,
      rowsCopied: undefined,
      lastSyncedAt: undefined,
    };
    super(forwardingProvider, name, { ...args, ...outputs }, opts, "pgferry", "MigratedSchema");
  }
}
