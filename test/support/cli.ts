/**
 * Runs the pgferry CLI as a child process, the way a user runs it (`node cli/main.ts`, compiled on the fly by
 * tsx), and collects its exit code and both output streams.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { ConnectionConfig } from "../../engine/spec.js";

export const repoDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
export const cliEntry = path.join(repoDir, "cli", "main.ts");
/** tsx's loader by absolute URL, so that the CLI also starts from another working directory. */
export const tsxLoader = import.meta.resolve("tsx");

/** `node --import tsx cli/main.ts …args` */
export function cliCommand(args: readonly string[]): string[] {
  return [process.execPath, "--import", tsxLoader, cliEntry, ...args];
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  env?: Record<string, string | undefined>;
  cwd?: string;
  timeoutMs?: number;
  /** In a process group of its own (to signal the group, as a terminal's Ctrl-C does). */
  detached?: boolean;
}

/** The environment of a CLI child: plain text (no colours), no inherited pgferry variables. */
export function cliEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1" };
  for (const name of ["FORCE_COLOR", "PGFERRY_SOURCE_URL", "PGFERRY_DESTINATION_URL", "PGFERRY_DEBUG"])
    delete env[name];
  for (const [name, value] of Object.entries(extra)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return env;
}

export interface RunningCli {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  result: Promise<CliResult>;
}

export function startCli(args: readonly string[], options: CliOptions = {}): RunningCli {
  const [command, ...rest] = cliCommand(args);
  const child = spawn(command as string, rest, {
    cwd: options.cwd ?? repoDir,
    env: cliEnv(options.env),
    stdio: ["ignore", "pipe", "pipe"],
    detached: options.detached ?? false,
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
  const timeoutMs = options.timeoutMs ?? 60_000;
  const result = new Promise<CliResult>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`pgferry ${args.join(" ")} did not finish in ${timeoutMs} ms.\nstderr:\n${stderr}`));
    }, timeoutMs);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
  return { child, stdout: () => stdout, stderr: () => stderr, result };
}

export async function runCli(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  return startCli(args, options).result;
}

/** Waits until the child's stderr matches. */
export async function waitForStderr(cli: RunningCli, pattern: RegExp, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(cli.stderr())) {
    if (Date.now() > deadline || cli.child.exitCode !== null) {
      assert.fail(`stderr never matched ${pattern}:\n${cli.stderr()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** `postgres://user:password@host:port/database?sslmode=disable`, every part percent-encoded. */
export function urlOf(config: ConnectionConfig, overrides: Partial<ConnectionConfig> = {}): string {
  const c = { ...config, ...overrides };
  const password = c.password !== undefined ? `:${encodeURIComponent(c.password)}` : "";
  return `postgres://${encodeURIComponent(c.user)}${password}@${c.host}:${c.port}/${encodeURIComponent(c.database)}?sslmode=disable`;
}

/** Asserts that a secret appears in none of the outputs. */
export function assertNoSecret(outputs: readonly string[], secret: string, what = "the password"): void {
  for (const output of outputs) {
    assert.ok(!output.includes(secret), `${what} appeared in the output:\n${output}`);
    assert.ok(!output.includes(encodeURIComponent(secret)), `${what} (URL-encoded) appeared in the output`);
  }
}

/** A stack trace line (`    at fn (file:1:2)`): user errors must never print one. */
export const STACK_LINE = /^\s+at .+[:(]\d+/m;

/** Sends `signal` and waits for the process to exit, which it must do within 5 s (an interrupt is prompt). */
export async function interruptPromptly(running: RunningCli, signal: NodeJS.Signals): Promise<CliResult> {
  const sentAt = Date.now();
  running.child.kill(signal);
  const result = await running.result;
  assert.ok(Date.now() - sentAt < 5000, `took ${Date.now() - sentAt} ms to stop`);
  return result;
}
