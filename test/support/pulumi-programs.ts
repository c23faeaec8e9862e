/**
 * Pulumi programs and credentials for the provider's end-to-end tests. Programs are plain JavaScript, written into
 * the workspace as a user's compiled program would be, and steered by stack configuration between commands.
 */
import { randomBytes } from "node:crypto";
import { adminClient, connectionConfig, type Major } from "./servers.js";

/**
 * One `MigratedSchema` named `copy`: its inputs are the `args` config object plus the `source` and `destination`
 * secrets (a URL, or a connection object given as JSON); every output is exported.
 */
export const COPY_PROGRAM = `"use strict";
const pulumi = require("@pulumi/pulumi");
const { MigratedSchema } = require("pgferry/provider");

const config = new pulumi.Config();
const connection = (key) =>
  config.requireSecret(key).apply((value) => (value.startsWith("{") ? JSON.parse(value) : value));
const copy = new MigratedSchema("copy", {
  ...config.requireObject("args"),
  source: connection("source"),
  destination: connection("destination"),
});
for (const key of ["copiedTables", "tableRows", "rowsCopied", "lastSyncedAt", "report"]) {
  exports[key] = copy[key];
}
`;

/** A login role whose password no output, state or log may show: distinctive, and needing URL encoding. */
export interface SecretRole {
  readonly user: string;
  password: string;
  url(major: Major, database: string): string;
  connection(major: Major, database: string): Record<string, unknown>;
  /** Gives the role a new password on every server it exists on. */
  rotate(): Promise<string>;
  drop(): Promise<void>;
}

const newPassword = () => `Qz7-${randomBytes(6).toString("hex")}:@/#%-ferry`;

export async function createSecretRole(majors: Major[]): Promise<SecretRole> {
  const user = `ferry_${randomBytes(4).toString("hex")}`;
  const onEach = async (sql: string) => {
    for (const major of majors) {
      const admin = await adminClient(major);
      try {
        await admin.query(sql);
      } finally {
        await admin.end();
      }
    }
  };
  const role: SecretRole = {
    user,
    password: newPassword(),
    url(major, database) {
      const { host, port } = connectionConfig(major, database);
      return `postgres://${user}:${encodeURIComponent(role.password)}@${host}:${port}/${database}?sslmode=disable`;
    },
    connection(major, database) {
      const { host, port } = connectionConfig(major, database);
      return { host, port, database, user, password: role.password, sslmode: "disable" };
    },
    async rotate() {
      role.password = newPassword();
      await onEach(`ALTER ROLE ${user} PASSWORD '${role.password}'`);
      return role.password;
    },
    async drop() {
      await onEach(`DROP ROLE IF EXISTS ${user}`);
    },
  };
  await onEach(`CREATE ROLE ${user} LOGIN SUPERUSER PASSWORD '${role.password}'`);
  return role;
}
