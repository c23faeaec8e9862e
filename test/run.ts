/**
 * `npm test`: starts one throwaway PostgreSQL 17 and one 14 (unless PGFERRY_TEST_PG17_URL / PGFERRY_TEST_PG14_URL
 * point at existing servers, as superuser URLs), then runs every test file with node's test runner. Each test
 * file makes its own databases on these servers.
 */
import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startEmbeddedServer, type EmbeddedServer } from "../cli/embedded-server.js";

const testDir = path.dirname(fileURLToPath(import.meta.url));
const filter = process.argv.slice(2);
const files = readdirSync(testDir, { recursive: true })
  .map(String)
  .filter((file) => file.endsWith(".test.ts"))
  .filter((file) => filter.length === 0 || filter.some((f) => file.includes(f)))
  .sort()
  .map((file) => path.join(testDir, file));

const started: EmbeddedServer[] = [];
const env = { ...process.env };
async function ensureServer(major: 17 | 14): Promise<void> {
  const key = `PGFERRY_TEST_PG${major}_URL`;
  if (env[key]) return;
  const server = await startEmbeddedServer({ major });
  started.push(server);
  env[key] = server.url;
}

let exitCode = 1;
try {
  await Promise.all([ensureServer(17), ensureServer(14)]);
  exitCode = await new Promise<number>((resolve) => {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "--test", "--test-concurrency=2", "--test-reporter=spec", ...files],
      { stdio: "inherit", env },
    );
    const forward = (signal: NodeJS.Signals) => child.kill(signal);
    process.on("SIGINT", forward);
    process.on("SIGTERM", forward);
    child.on("exit", (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
} finally {
  await Promise.all(started.map((server) => server.stop().catch(() => undefined)));
}
process.exit(exitCode);
