/**
 * Child processes of the bench: plain commands, and timed runs whose peak RSS and CPU time come from GNU
 * `/usr/bin/time` (it reads the rusage of wait4(), which covers the process and the descendants it reaped).
 */
import { spawn } from "node:child_process";
import { existsSync, promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";

export const GNU_TIME = "/usr/bin/time";
export const hasGnuTime = existsSync(GNU_TIME);

export interface ExecOptions {
  env?: NodeJS.ProcessEnv;
  uid?: number;
  gid?: number;
  cwd?: string;
}

/** Runs a command to completion and resolves to its stdout; rejects with its stderr when it fails. */
export function execText(
  command: string,
  args: readonly string[],
  options: ExecOptions = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...options, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0
        ? resolve(stdout)
        : reject(
            new Error(`${path.basename(command)} ${args.join(" ")} exited with ${code}: ${stderr.trim()}`),
          ),
    );
  });
}

export interface ProcessUsage {
  /** Peak resident set size in MiB, null when /usr/bin/time is missing. */
  peakRssMiB: number | null;
  /** User + system CPU seconds, null when /usr/bin/time is missing. */
  cpuSeconds: number | null;
}

export interface Command {
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
}

/** POSIX single-quoting, for building the pipe's bash command line. */
function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

async function readUsage(usageFile: string): Promise<ProcessUsage> {
  if (!hasGnuTime) return { peakRssMiB: null, cpuSeconds: null };
  const text = await fs.readFile(usageFile, "utf8").catch(() => "");
  // GNU time writes "Command exited with non-zero status N" before the format line when the command fails.
  const last = text.trim().split("\n").pop() ?? "";
  const [rssKiB, user, system] = last.split(" ").map(Number);
  if (rssKiB === undefined || user === undefined || system === undefined || Number.isNaN(rssKiB))
    return { peakRssMiB: null, cpuSeconds: null };
  return { peakRssMiB: rssKiB / 1024, cpuSeconds: user + system };
}

export interface TimedResult {
  seconds: number;
  stdout: string;
  /** Peak RSS: the largest of the processes; CPU: their sum. */
  usage: ProcessUsage;
}

/**
 * Runs `first | second | …` (or one command) through bash with `pipefail`, each command under /usr/bin/time,
 * and measures the wall clock of the whole pipe.
 */
export async function runTimed(commands: readonly Command[]): Promise<TimedResult> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "bench-time-"));
  const usageFiles = commands.map((_, i) => path.join(dir, `usage-${i}`));
  const stages = commands.map((c, i) => {
    const words = [c.command, ...c.args].map(shellQuote).join(" ");
    const env = Object.entries(c.env ?? {})
      .map(([key, value]) => `${key}=${shellQuote(value ?? "")} `)
      .join("");
    return hasGnuTime
      ? `${env}${GNU_TIME} -f '%M %U %S' -o ${shellQuote(usageFiles[i] ?? "")} ${words}`
      : env + words;
  });
  const started = process.hrtime.bigint();
  try {
    const stdout = await execText("bash", ["-c", `set -o pipefail; ${stages.join(" | ")}`]);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const usages = await Promise.all(usageFiles.map(readUsage));
    return {
      seconds,
      stdout,
      usage: {
        peakRssMiB: usages.every((u) => u.peakRssMiB !== null)
          ? Math.max(...usages.map((u) => u.peakRssMiB ?? 0))
          : null,
        cpuSeconds: usages.every((u) => u.cpuSeconds !== null)
          ? usages.reduce((sum, u) => sum + (u.cpuSeconds ?? 0), 0)
          : null,
      },
    };
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}
