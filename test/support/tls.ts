/**
 * Certificates for TLS tests, made with the `openssl` command: a self-signed CA, a server certificate it signs for
 * the given host names, and an unrelated CA that must not be trusted in its place.
 */
import { execFileSync } from "node:child_process";
import { chownSync, chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

export interface TestCertificates {
  /** PEM of the CA that signed the server certificate. */
  ca: string;
  /** PEM of a CA that signed nothing here. */
  otherCa: string;
  serverCert: string;
  serverKey: string;
  remove(): void;
}

function openssl(args: string[], cwd: string): void {
  execFileSync("openssl", args, { cwd, stdio: ["ignore", "ignore", "pipe"] });
}

/** EC keys: fast to make. The server's files belong to `owner` (the server's OS user), its key readable by it only. */
export function makeCertificates(
  hostNames: readonly string[],
  owner: { uid: number; gid: number },
): TestCertificates {
  const dir = mkdtempSync(path.join(os.tmpdir(), "pgferry-tls-"));
  chmodSync(dir, 0o755);
  const key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  for (const name of ["ca", "other-ca"]) {
    openssl(
      [
        "req",
        "-x509",
        ...key,
        "-keyout",
        `${name}.key`,
        "-out",
        `${name}.pem`,
        "-days",
        "2",
        "-subj",
        `/CN=pgferry test ${name}`,
      ],
      dir,
    );
  }
  openssl(
    [
      "req",
      ...key,
      "-keyout",
      "server.key",
      "-out",
      "server.csr",
      "-subj",
      `/CN=${hostNames[0] ?? "localhost"}`,
    ],
    dir,
  );
  writeFileSync(
    path.join(dir, "san.ext"),
    `subjectAltName=${hostNames.map((name) => `DNS:${name}`).join(",")}\n`,
  );
  openssl(
    [
      "x509",
      "-req",
      "-in",
      "server.csr",
      "-CA",
      "ca.pem",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-out",
      "server.pem",
      "-days",
      "2",
      "-extfile",
      "san.ext",
    ],
    dir,
  );
  // PostgreSQL refuses a key file that others can read.
  for (const file of ["server.pem", "server.key"]) chownSync(path.join(dir, file), owner.uid, owner.gid);
  chmodSync(path.join(dir, "server.key"), 0o600);
  return {
    ca: path.join(dir, "ca.pem"),
    otherCa: path.join(dir, "other-ca.pem"),
    serverCert: path.join(dir, "server.pem"),
    serverKey: path.join(dir, "server.key"),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
