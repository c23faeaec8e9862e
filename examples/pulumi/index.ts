/**
 * Step 1: a staging copy of production's tables, in the schema `prod_copy` of the staging database.
 *
 *   pulumi config set --secret sourceUrl 'postgres://reader:…@prod.example:5432/shop'
 *   pulumi config set --secret stagingUrl 'postgres://ferry:…@staging.example:5432/shop'
 *   pulumi up
 *
 * Full mode: every table is dropped, recreated and copied when the resource is created, and again whenever an
 * input of the copy changes — or `dataVersion` does (`pulumi config set dataVersion 2`).
 */
import * as pulumi from "@pulumi/pulumi";
import { MigratedSchema } from "pgferry/provider";

const config = new pulumi.Config();

const copy = new MigratedSchema("prod-copy", {
  source: config.requireSecret("sourceUrl"),
  destination: config.requireSecret("stagingUrl"),
  targetSchema: "prod_copy",
  mode: "full",
  exclude: ["audit_log"],
  jobs: 4,
  triggers: [config.get("dataVersion") ?? "1"],
});

export const copiedTables = copy.copiedTables;
export const tableRows = copy.tableRows;
export const rowsCopied = copy.rowsCopied;
export const lastSyncedAt = copy.lastSyncedAt;
