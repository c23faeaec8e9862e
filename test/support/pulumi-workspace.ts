/**
 * A Pulumi program folder as a user has it, for the provider's end-to-end tests: pgferry installed from `npm pack`
 * of this checkout (so a module missing from `files`, `exports` or `dependencies` fails here as it would for a
 * user) next to `@pulumi/pulumi`, and commands run by the test engine (`pulumi-cli.ts`) in a process of its own.
 *
 * Packing builds in a copy of the checkout (never touching its `dist/`, which other tests may be reading) and is
 * cached in the system's temporary folder by the hash of its inputs, so test files share one pack per change.
 */
import { execFile, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import {
  cp,
  mkdir,
  mkdtemp,
  readFile,
  readdir,
  rename,
  rm,
  stat,
  symlink,
  writeFile,
} from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { build } from "esbuild";
import type { Command, CommandResult } from "./pulumi-engine.js";

const run = promisify(execFile);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const cacheDir = path.join(os.tmpdir(), "pgferry-provider-tests");

/** What `npm pack` reads: the build's sources and configuration, and what the package ships besides `dist/`. */
const PACK_INPUTS = [
  "package.json",
  "tsconfig.json",
  "tsconfig.build.json",
  "README.md",
  "engine",
  "cli",
  "provider",
  "schemas",
  "scripts/build-provider.ts",
];

export const PROJECT = "pgferry-test";

async function filesOf(entry: string): Promise<string[]> {
  const full = path.join(root, entry);
  if (!(await stat(full)).isDirectory()) return [entry];
  const names = (await readdir(full, { recursive: true })).map(String).sort();
  const files: string[] = [];
  for (const name of names) {
    if ((await stat(path.join(full, name))).isFile()) files.push(path.join(entry, name));
  }
  return files;
}

async function hashOf(entries: string[]): Promise<string> {
  const hash = createHash("sha256");
  for (const entry of entries) {
    for (const file of await filesOf(entry))
      hash.update(`${file}\0`).update(await readFile(path.join(root, file)));
  }
  return hash.digest("hex").slice(0, 16);
}

/** One builder at a time per cache entry, across test processes; a lock left by a killed process expires. */
async function withLock<T>(name: string, work: () => Promise<T>): Promise<T> {
  const lock = path.join(cacheDir, `${name}.lock`);
  for (;;) {
    try {
      await mkdir(lock);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const age = Date.now() - (await stat(lock).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs;
      if (age > 10 * 60_000) await rm(lock, { recursive: true, force: true });
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  try {
    return await work();
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}

/** Cache entries of earlier sources: anything older than a day is from a change long gone. */
async function pruneStale(dir: string, prefix: string): Promise<void> {
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const file = path.join(dir, name);
    const { mtimeMs } = await stat(file).catch(() => ({ mtimeMs: Date.now() }));
    if (name.startsWith(prefix) && Date.now() - mtimeMs > 24 * 3600_000)
      await rm(file, { recursive: true, force: true });
  }
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

/** The tarball `npm pack` makes of this checkout (its `prepare` script runs the build). */
export async function packPgferry(): Promise<string> {
  await mkdir(cacheDir, { recursive: true });
  const tarball = path.join(cacheDir, `pgferry-${await hashOf(PACK_INPUTS)}.tgz`);
  if (await exists(tarball)) return tarball;
  return withLock(path.basename(tarball), async () => {
    if (await exists(tarball)) return tarball;
    const staging = await mkdtemp(path.join(os.tmpdir(), "pgferry-pack-"));
    try {
      for (const entry of PACK_INPUTS) {
        await cp(path.join(root, entry), path.join(staging, entry), { recursive: true });
      }
      await symlink(path.join(root, "node_modules"), path.join(staging, "node_modules"), "dir");
      const { stdout } = await run("npm", ["pack", "--json", "--pack-destination", staging], {
        cwd: staging,
        env: { ...process.env, NODE_OPTIONS: "" },
        maxBuffer: 16 * 1024 * 1024,
      });
      const [packed] = JSON.parse(stdout.slice(stdout.indexOf("["))) as { filename: string }[];
      if (packed === undefined) throw new Error(`npm pack printed no tarball:\n${stdout}`);
      await rename(path.join(staging, packed.filename), tarball);
      await pruneStale(cacheDir, "pgferry-");
      return tarball;
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  });
}

/**
 * Installs the packed pgferry into `dir/node_modules` the way npm lays it out, without a registry: the tarball's
 * files, and each package its manifest depends on (plus `extra`) linked from this checkout's node_modules.
 */
export async function installPacked(dir: string, tarball: string, extra: string[] = []): Promise<void> {
  const target = path.join(dir, "node_modules", "pgferry");
  await mkdir(target, { recursive: true });
  await run("tar", ["-xzf", tarball, "-C", target, "--strip-components=1"]);
  const manifest = JSON.parse(await readFile(path.join(target, "package.json"), "utf8")) as {
    dependencies?: Record<string, string>;
  };
  for (const name of [...Object.keys(manifest.dependencies ?? {}), "@pulumi/pulumi", ...extra]) {
    const link = path.join(dir, "node_modules", name);
    await mkdir(path.dirname(link), { recursive: true });
    await symlink(path.join(root, "node_modules", name), link, "dir");
  }
}

let cliBundle: Promise<string> | undefined;

/** The test engine's CLI as plain JavaScript, placed where it resolves this checkout's packages. */
function engineCli(): Promise<string> {
  cliBundle ??= (async () => {
    const sources = [
      "test/support/pulumi-cli.ts",
      "test/support/pulumi-engine.ts",
      "test/support/pulumi-host.ts",
    ];
    const outDir = path.join(root, "node_modules", ".cache", "pgferry-provider-tests");
    const outfile = path.join(outDir, `pulumi-cli-${await hashOf(sources)}.mjs`);
    if (await exists(outfile)) return outfile;
    const partial = `${outfile}.${process.pid}`;
    await build({
      entryPoints: [path.join(root, "test/support/pulumi-cli.ts")],
      outfile: partial,
      bundle: true,
      packages: "external",
      platform: "node",
      format: "esm",
      target: "node20",
      logLevel: "warning",
    });
    await rename(partial, outfile);
    await pruneStale(outDir, "pulumi-cli-");
    return outfile;
  })();
  return cliBundle;
}

export interface RunOptions {
  /** The program file, relative to the workspace (up and preview). */
  program?: string;
  stack?: string;
  /** Stack configuration: plain values, and secrets (as `pulumi config set --secret`). */
  config?: Record<string, string>;
  secrets?: Record<string, string>;
}

export interface PulumiWorkspace {
  readonly dir: string;
  /** Runs one command; the state of each stack persists between commands. */
  run(command: Command, options?: RunOptions): Promise<CommandResult>;
  /** The stack's state file as stored (secrets as ciphertext). */
  stateText(stack?: string): Promise<string>;
  write(file: string, text: string): Promise<string>;
  remove(): Promise<void>;
}

/** A fresh program folder with pgferry installed from the pack (built and cached on first use). */
export async function createPulumiWorkspace(extraPackages: string[] = []): Promise<PulumiWorkspace> {
  const [tarball, cli] = await Promise.all([packPgferry(), engineCli()]);
  const dir = await mkdtemp(path.join(os.tmpdir(), "pgferry-pulumi-"));
  await installPacked(dir, tarball, extraPackages);
  await writeFile(
    path.join(dir, "package.json"),
    JSON.stringify({ name: PROJECT, private: true, dependencies: { pgferry: `file:${tarball}` } }, null, 2),
  );
  const stateFile = (stack: string) => path.join(dir, `.pulumi-state-${stack}.json`);
  return {
    dir,
    async run(command, options = {}) {
      const stack = options.stack ?? "dev";
      const request = {
        command,
        workDir: dir,
        ...(options.program ? { program: path.join(dir, options.program) } : {}),
        stateFile: stateFile(stack),
        project: PROJECT,
        stack,
      };
      const config = { ...options.config, ...options.secrets };
      const env = {
        ...process.env,
        NODE_OPTIONS: "",
        PULUMI_CONFIG: JSON.stringify(
          Object.fromEntries(Object.entries(config).map(([key, value]) => [`${PROJECT}:${key}`, value])),
        ),
        PULUMI_CONFIG_SECRET_KEYS: JSON.stringify(
          Object.keys(options.secrets ?? {}).map((k) => `${PROJECT}:${k}`),
        ),
      };
      const resultFile = path.join(dir, `.result-${stack}.json`);
      await rm(resultFile, { force: true });
      const output = await new Promise<string>((resolve, reject) => {
        const child = spawn(process.execPath, [cli, JSON.stringify(request), resultFile], { cwd: dir, env });
        let text = "";
        child.stdout.on("data", (chunk: Buffer) => (text += chunk.toString()));
        child.stderr.on("data", (chunk: Buffer) => (text += chunk.toString()));
        const timer = setTimeout(() => child.kill("SIGKILL"), 180_000);
        child.on("error", reject);
        child.on("exit", () => {
          clearTimeout(timer);
          resolve(text);
        });
      });
      const result = await readFile(resultFile, "utf8").catch(() => {
        throw new Error(`pulumi ${command} crashed:\n${output}`);
      });
      return JSON.parse(result) as CommandResult;
    },
    stateText: (stack = "dev") => readFile(stateFile(stack), "utf8"),
    write: async (file, text) => {
      await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
      await writeFile(path.join(dir, file), text);
      return path.join(dir, file);
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
