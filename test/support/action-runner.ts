/**
 * Runs the committed Action bundle the way the GitHub runner does: `node action/dist/index.mjs` in the workspace,
 * inputs as `INPUT_<NAME>` environment variables (upper-cased, hyphens kept), and GITHUB_OUTPUT /
 * GITHUB_STEP_SUMMARY pointing at files the step appends to.
 */
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const bundlePath = path.join(repoRoot, "action/dist/index.mjs");

export interface ActionRun {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** Parsed from GITHUB_OUTPUT (`name<<delimiter` blocks). */
  outputs: Record<string, string>;
  /** The raw GITHUB_OUTPUT file. */
  outputsFile: string;
  summary: string;
}

export interface RunActionOptions {
  /** Input name as in action.yml → value. */
  inputs?: Record<string, string>;
  /** The workspace (cwd and GITHUB_WORKSPACE). */
  workspace: string;
  env?: Record<string, string>;
  /** Sends `signal` once stdout matches `when` (the runner cancels a step with SIGINT). */
  interrupt?: { when: RegExp; signal: NodeJS.Signals };
  /** A step still running after this long is killed (SIGKILL) so that a hang fails the test; default 120 s. */
  timeoutMs?: number;
}

export async function runAction(options: RunActionOptions): Promise<ActionRun> {
  const files = await mkdtemp(path.join(tmpdir(), "pgferry-action-files-"));
  const outputPath = path.join(files, "output");
  const summaryPath = path.join(files, "step_summary");
  await writeFile(outputPath, "");
  await writeFile(summaryPath, "");
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "",
    GITHUB_ACTIONS: "true",
    GITHUB_WORKSPACE: options.workspace,
    GITHUB_OUTPUT: outputPath,
    GITHUB_STEP_SUMMARY: summaryPath,
    RUNNER_TEMP: files,
    ...options.env,
  };
  for (const [name, value] of Object.entries(options.inputs ?? {})) {
    env[`INPUT_${name.replace(/ /g, "_").toUpperCase()}`] = value;
  }
  try {
    const { exitCode, stdout, stderr } = await new Promise<{
      exitCode: number;
      stdout: string;
      stderr: string;
    }>((resolve, reject) => {
      const child = spawn(process.execPath, [bundlePath], { cwd: options.workspace, env });
      let stdout = "";
      let stderr = "";
      const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 120_000);
      let interrupted = false;
      child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
        stdout += chunk;
        if (options.interrupt && !interrupted && options.interrupt.when.test(stdout)) {
          interrupted = true;
          child.kill(options.interrupt.signal);
        }
      });
      child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
      child.on("error", reject);
      child.on("close", (code, signal) => {
        clearTimeout(timer);
        resolve({ exitCode: code ?? (signal ? 128 : 0), stdout, stderr });
      });
    });
    const outputsFile = await readFile(outputPath, "utf8");
    return {
      exitCode,
      stdout,
      stderr,
      outputs: parseOutputs(outputsFile),
      outputsFile,
      summary: await readFile(summaryPath, "utf8"),
    };
  } finally {
    await rm(files, { recursive: true, force: true });
  }
}

/** The runner's file-command format: `name<<DELIMITER\nvalue\nDELIMITER\n` per output. */
export function parseOutputs(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? "";
    if (line === "") continue;
    const match = /^([^<=]+)<<(.+)$/.exec(line);
    if (!match) {
      const eq = line.indexOf("=");
      if (eq < 0) throw new Error(`unreadable GITHUB_OUTPUT line: ${line}`);
      outputs[line.slice(0, eq)] = line.slice(eq + 1);
      continue;
    }
    const [, name = "", delimiter] = match;
    const end = lines.indexOf(delimiter ?? "", i + 1);
    if (end < 0) throw new Error(`GITHUB_OUTPUT: no closing delimiter for ${name}`);
    outputs[name] = lines.slice(i + 1, end).join("\n");
    i = end;
  }
  return outputs;
}

/** Values registered with `::add-mask::`, unescaped as the runner reads them. */
export function maskedValues(stdout: string): string[] {
  return stdout
    .split(/\r?\n/)
    .filter((line) => line.startsWith("::add-mask::"))
    .map((line) =>
      line
        .slice("::add-mask::".length)
        .replaceAll("%0D", "\r")
        .replaceAll("%0A", "\n")
        .replaceAll("%25", "%"),
    );
}
