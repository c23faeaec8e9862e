/**
 * Issue 7, security: sslmode disable / prefer / require / verify-ca / verify-full and a CA certificate
 * (`sslrootcert`), against a PostgreSQL server with a certificate from a self-signed CA. What the server sees
 * (`pg_stat_ssl`) is checked, not only that the run succeeded; verification failures are `tls` errors.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import pg from "pg";
import { startEmbeddedServer, type EmbeddedServer } from "../cli/embedded-server.js";
import { run, type ConnectionConfig, type MigrationSpec, type SslMode } from "../engine/index.js";
import { runCli } from "./support/cli.js";
import { serverOsUser } from "./support/faults.js";
import { makeSpec } from "./support/spec.js";
import { makeCertificates, type TestCertificates } from "./support/tls.js";

describe("security: TLS", () => {
  let certificates: TestCertificates;
  let server: EmbeddedServer;
  let admin: pg.Client;

  const endpoint = (
    database: string,
    host: string,
    sslmode: SslMode,
    sslrootcert?: string,
  ): ConnectionConfig => ({
    host,
    port: server.port,
    database,
    user: server.user,
    password: server.password,
    sslmode,
    ...(sslrootcert ? { sslrootcert } : {}),
  });
  const spec = (host: string, sslmode: SslMode, sslrootcert?: string): MigrationSpec =>
    makeSpec(
      endpoint("tls_src", host, sslmode, sslrootcert),
      endpoint("tls_dst", host, sslmode, sslrootcert),
    );

  /** Runs, and while the first table copies, asks the server whether each pgferry session is encrypted. */
  async function runAndWatch(runSpec: MigrationSpec): Promise<boolean[]> {
    let seen: Promise<boolean[]> | undefined;
    const report = await run(runSpec, {
      onEvent: (event) => {
        if (event.type === "table-phase" && event.phase === "copy") {
          seen ??= admin
            .query<{ ssl: boolean }>(
              "SELECT s.ssl FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid) WHERE a.application_name = 'pgferry'",
            )
            .then((result) => result.rows.map((row) => row.ssl));
        }
      },
    });
    assert.equal(report.totals.tablesFailed, 0);
    const sessions = (await seen) ?? [];
    assert.ok(sessions.length >= 3, `${sessions.length} pgferry sessions seen`);
    return sessions;
  }

  before(async () => {
    certificates = makeCertificates(["localhost"], serverOsUser());
    server = await startEmbeddedServer({
      major: 17,
      settings: { ssl: "on", ssl_cert_file: certificates.serverCert, ssl_key_file: certificates.serverKey },
    });
    admin = new pg.Client({ connectionString: server.url, ssl: false });
    await admin.connect();
    await admin.query("CREATE DATABASE tls_src");
    await admin.query("CREATE DATABASE tls_dst");
    const source = new pg.Client({ connectionString: server.urlFor("tls_src"), ssl: false });
    await source.connect();
    await source.query(`CREATE TABLE items (id int PRIMARY KEY, v text);
      INSERT INTO items SELECT g, repeat('v', 100) FROM generate_series(1, 200000) g;`);
    await source.end();
  });
  after(async () => {
    await admin?.end();
    await server?.stop();
    certificates?.remove();
  });

  for (const [sslmode, host, encrypted] of [
    ["disable", "127.0.0.1", false],
    ["prefer", "127.0.0.1", true],
    ["require", "127.0.0.1", true],
  ] as const) {
    test(`sslmode=${sslmode}: every session ${encrypted ? "is" : "is not"} encrypted`, async () => {
      const sessions = await runAndWatch(spec(host, sslmode));
      assert.deepEqual(new Set(sessions), new Set([encrypted]));
    });
  }

  test("verify-full with the CA certificate and the certificate's host name: encrypted and verified", async () => {
    const sessions = await runAndWatch(spec("localhost", "verify-full", certificates.ca));
    assert.deepEqual(new Set(sessions), new Set([true]));
  });

  test("verify-ca checks the chain only: another name for the same host passes", async () => {
    const sessions = await runAndWatch(spec("127.0.0.1", "verify-ca", certificates.ca));
    assert.deepEqual(new Set(sessions), new Set([true]));
  });

  for (const [what, host, ca, message] of [
    ["a host name the certificate does not name", "127.0.0.1", "ca", /does not match certificate's altnames/],
    ["no CA certificate", "localhost", undefined, /unable to verify the first certificate/],
    ["the wrong CA certificate", "localhost", "otherCa", /unable to verify the first certificate/],
  ] as const) {
    test(`verify-full with ${what} fails with a TLS error, before anything is touched`, async () => {
      const rootcert = ca === undefined ? undefined : certificates[ca];
      const error = await run(spec(host, "verify-full", rootcert)).then(
        () => assert.fail("the connection was accepted"),
        (e: unknown) => e as Error & { kind?: string; exitCode?: number; hint?: string },
      );
      assert.equal(error.kind, "tls", String(error));
      assert.equal(error.exitCode, 2);
      assert.match(error.message, /^TLS failed on the destination /);
      assert.match(error.message, message);
      assert.match(error.hint ?? "", /sslrootcert/);
    });
  }

  test("the CLI with sslrootcert in the spec file (verify-full), and in the URL", async () => {
    const dir = path.dirname(certificates.ca);
    const url = (database: string) =>
      `postgres://${server.user}:${server.password}@localhost:${server.port}/${database}?sslmode=verify-full&sslrootcert=${encodeURIComponent(certificates.ca)}`;
    writeFileSync(
      path.join(dir, "tls.yml"),
      [
        "source:",
        "  host: localhost",
        `  port: ${server.port}`,
        "  database: tls_src",
        `  user: ${server.user}`,
        `  password: ${server.password}`,
        "  sslmode: verify-full",
        `  sslrootcert: ${certificates.ca}`,
        `destination: ${url("tls_dst")}`,
        "targetSchema: from_cli",
        "",
      ].join("\n"),
    );
    const result = await runCli(["run", "tls.yml", "--quiet"], { cwd: dir });
    assert.equal(result.code, 0, result.stderr);
    const destination = new pg.Client({ connectionString: server.urlFor("tls_dst"), ssl: false });
    await destination.connect();
    const { rows } = await destination
      .query<{ n: number }>("SELECT count(*)::int AS n FROM from_cli.items")
      .finally(() => destination.end());
    assert.deepEqual(rows, [{ n: 200_000 }]);

    const refused = await runCli(
      ["run", "tls.yml", "--destination", url("tls_dst").replace("localhost", "127.0.0.1")],
      {
        cwd: dir,
      },
    );
    assert.equal(refused.code, 2);
    assert.match(
      refused.stderr,
      /^error: TLS failed on the destination .*does not match certificate's altnames/m,
    );
  });
});
