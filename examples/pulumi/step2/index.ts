/**
 * Step 2: from full to incremental. Copy this file over ../index.ts and run `pulumi up`.
 *
 * The change of mode is an update, not a replacement: the tables stay, and the rows whose primary key is missing
 * in `prod_copy` are copied. With `syncOnEveryUpdate`, every later `pulumi up` copies the new rows again without
 * a trigger change. Incremental copies new rows only: updates and deletes of existing rows are not propagated
 * (change `dataVersion` with `mode: "full"` for a fresh copy).
 */
import * as pulumi from "@pulumi/pulumi";
import { MigratedSchema } from "pgferry/provider";

const config = new pulumi.Config();

const copy = new MigratedSchema("prod-copy", {
  source: config.requireSecret("sourceUrl"),
  destination: config.requireSecret("stagingUrl"),
  targetSchema: "prod_copy",
  mode: "incremental",
  syncOnEveryUpdate: true,
  exclude: ["audit_log"],
  jobs: 4,
  triggers: [config.get("dataVersion") ?? "1"],
});

export const copiedTables = copy.copiedTables;
export const tableRows = copy.tableRows;
export const rowsCopied = copy.rowsCopied;
export const lastSyncedAt = copy.lastSyncedAt;
