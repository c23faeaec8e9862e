import type { MigrationSpec, RunReport, TargetInventory } from "../engine/index.js";
import type { MigratedSchemaOutputs } from "./args.js";
import { echoedInputs, type Props } from "./inputs.js";

/**
 * Tables a run leaves in place, with their row counts: created, recreated, synced or found up to date. Built with
 * `fromEntries`, which defines own properties, so that any table name (`__proto__` too) is a key like the others.
 */
function keptTables(report: RunReport): Record<string, number> {
  return Object.fromEntries(
    report.tables
      .filter((table) => table.status === "ok" || table.status === "up-to-date")
      .map((table) => [table.name, table.targetRowsAfter ?? 0]),
  );
}

/**
 * The state after a run: every input echoed under its own name (so that the Pulumi engine keeps a secret input
 * secret in the state, and diff/update can compare with it) and the run's results, none derived from a secret.
 */
export function outputsAfterRun(inputs: Props, report: RunReport): Props {
  const tableRows = keptTables(report);
  const outputs: MigratedSchemaOutputs = {
    report,
    copiedTables: Object.keys(tableRows).sort(),
    tableRows,
    rowsCopied: report.totals.rowsCopied,
    lastSyncedAt: report.finishedAt,
  };
  return jsonOnly({ ...echoedInputs(inputs), ...outputs });
}

/** The state as `pulumi refresh` finds it: the tables and row counts really in the target schema. */
export function outputsAfterRead(state: Props, inventory: TargetInventory): Props {
  const tableRows = Object.fromEntries(inventory.tables.map((table) => [table.name, table.rows]));
  return jsonOnly({ ...state, copiedTables: Object.keys(tableRows), tableRows });
}

/** The run's results kept from the previous state, for an update that did not need to copy. */
export function outputsKept(inputs: Props, state: Props): Props {
  const { report, copiedTables, tableRows, rowsCopied, lastSyncedAt } = state;
  return jsonOnly({ ...echoedInputs(inputs), report, copiedTables, tableRows, rowsCopied, lastSyncedAt });
}

/**
 * Tables the next update must run the mode for even without an input change: those the last run failed, and
 * those it left that a refresh found missing or with another row count (dropped, truncated or written by hand).
 */
export function tablesToRepair(state: Props): string[] {
  const report = state.report as RunReport | undefined;
  if (report === undefined) return [];
  const failed = report.tables.filter((table) => table.status === "failed").map((table) => table.name);
  const found = new Map(Object.entries((state.tableRows ?? {}) as Record<string, number>));
  const drifted = Object.entries(keptTables(report))
    .filter(([name, rows]) => found.get(name) !== rows)
    .map(([name]) => name);
  return [...failed, ...drifted];
}

/** A stable, credential-free id: where the target schema lives. */
export function resourceId(spec: MigrationSpec): string {
  const { host, port, database } = spec.destination;
  return `${host}:${port}/${database}/${spec.targetSchema}`;
}

/** Pulumi's property structs take JSON values only (no undefined, no class instances). */
function jsonOnly(value: Props): Props {
  return JSON.parse(JSON.stringify(value)) as Props;
}
