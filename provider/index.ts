/**
 * `pgferry/provider`: the Pulumi `MigratedSchema` resource. Built as CommonJS (`dist/provider.cjs`) that loads
 * only `@pulumi/pulumi` at start; the engine is imported inside the provider's methods (DESIGN.md §3).
 */
export { MigratedSchema } from "./resource.js";
export type { ConnectionArgs, MigratedSchemaArgs, MigratedSchemaOutputs, TableArgs } from "./args.js";
export type { RunReport, RunTotals, TableResult } from "./engine-types.js";
/** @internal What the provider serialized into a stack calls, inside the dynamic-provider host. */
export { lifecycle } from "./lifecycle.js";
