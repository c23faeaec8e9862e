/**
 * `npm run bench`: generates the data set on a source server, runs every contender round-robin into fresh
 * targets on a destination server, prints medians and ratios, and writes docs/benchmarks.md + .svg.
 */
import os from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import {
  fullCases,
  incrementalCases,
  incrementalSetup,
  INCREMENTAL_DB,
  onceCases,
  SOURCE_DB,
  type BenchCase,
  type CaseContext,
} from "./cases.js";
import { machineBusySeconds, serverCpuSeconds } from "./cpu-usage.js";
import { addNewRows, datasetSize, generateDataset, tableBytes, type BenchTable } from "./dataset.js";
import { buildChildren } from "./node-children.js";
import { parseOptions } from "./options.js";
import { runTimed, type TimedResult } from "./proc.js";
import { describeMachine, loadResults, publish, saveResults } from "./publish.js";
import type { Environment } from "./report.js";
import {
  findSystemBindir,
  recreateDatabase,
  SERVER_SETTINGS,
  serverVersion,
  startServers,
  withDb,
  type BenchServer,
} from "./servers.js";
import { caseInfo, type Sample } from "./summary.js";
import { detectTools, type Tool } from "./tools.js";

const argv = process.argv.slice(2);
const options = parseOptions(argv, process.env);
const kind = options.server === "auto" ? (findSystemBindir() ? "system" : "embedded") : options.server;
const size = datasetSize(options.scale);
const started = Date.now();
const QUIET_WAIT_SECONDS = 30;

const log = (message: string) =>
  console.log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${message}`);

async function checkpoint(server: BenchServer): Promise<void> {
  await withDb(server, "postgres", (client) => client.query("CHECKPOINT"));
}

/** Peak RSS from /usr/bin/time, or what a Node child reported about itself when GNU time is missing. */
function peakRss(result: TimedResult): number | null {
  if (result.usage.peakRssMiB !== null) return result.usage.peakRssMiB;
  const reported = /"maxRssKiB":(\d+)/.exec(result.stdout)?.[1];
  return reported ? Number(reported) / 1024 : null;
}

interface CpuReading {
  source: number | null;
  destination: number | null;
  machine: number | null;
}

function readCpu(context: CaseContext): CpuReading {
  return {
    source: serverCpuSeconds(context.source.postmasterPid()),
    destination: serverCpuSeconds(context.destination.postmasterPid()),
    machine: machineBusySeconds(),
  };
}

const difference = (before: number | null, after: number | null) =>
  before === null || after === null ? null : after - before;

function sum(values: readonly (number | null)[]): number | null {
  return values.every((v) => v !== null) ? (values as number[]).reduce((a, b) => a + b, 0) : null;
}

/**
 * On a machine shared with other work, start a case in a quiet moment: wait (at most QUIET_WAIT_SECONDS) for a
 * second in which the whole machine, the idle bench servers included, keeps less than 10% of its CPUs busy.
 */
async function waitForQuiet(): Promise<void> {
  const limit = 0.1 * os.availableParallelism();
  const since = Date.now();
  while (Date.now() - since < QUIET_WAIT_SECONDS * 1000) {
    const before = machineBusySeconds();
    await sleep(1000);
    const after = machineBusySeconds();
    if (before === null || after === null || after - before < limit) return;
  }
  log(`  (the machine stayed busy for ${QUIET_WAIT_SECONDS} s: starting anyway)`);
}

async function runCase(context: CaseContext, benchCase: BenchCase, round: number): Promise<Sample> {
  await benchCase.prepare();
  await Promise.all([checkpoint(context.source), checkpoint(context.destination)]);
  await waitForQuiet();
  const before = readCpu(context);
  const results: TimedResult[] = [];
  for (const step of benchCase.steps) results.push(await runTimed(step));
  // Backends finish exiting (and are reaped into the postmaster's times) a moment after their client is gone.
  await sleep(500);
  const after = readCpu(context);
  const note = await benchCase.check(results.map((r) => r.stdout));
  await benchCase.cleanup();

  const client = sum(results.map((r) => r.usage.cpuSeconds));
  const source = difference(before.source, after.source);
  const destination = difference(before.destination, after.destination);
  const machine = difference(before.machine, after.machine);
  const ours = sum([client, source, destination]);
  const rss = results.map(peakRss);
  const sample: Sample = {
    caseId: benchCase.id,
    round,
    seconds: results.reduce((total, r) => total + r.seconds, 0),
    stepSeconds: results.map((r) => r.seconds),
    peakRssMiB: rss.every((r) => r !== null) ? Math.max(...(rss as number[])) : null,
    cpu: {
      client,
      source,
      destination,
      other: machine === null || ours === null ? null : Math.max(0, machine - ours),
    },
    ...(note ? { note } : {}),
  };
  const cpu = Object.values(sample.cpu)
    .map((v) => (v === null ? "–" : v.toFixed(1)))
    .join("/");
  log(
    `  ${benchCase.id.padEnd(16)} round ${round}: ${sample.seconds.toFixed(2)} s, peak ${sample.peakRssMiB?.toFixed(0) ?? "?"} MiB, CPU client/src/dst/other ${cpu} s${note ? `, ${note}` : ""}`,
  );
  return sample;
}

/** Every case once per round, the first case rotating so that none always runs right after the same one. */
async function runRounds(context: CaseContext, cases: BenchCase[], rounds: number): Promise<Sample[]> {
  const runnable = cases.filter((c) => {
    if (c.skipReason) log(`  skipping ${c.id}: ${c.skipReason}`);
    return !c.skipReason;
  });
  const samples: Sample[] = [];
  for (let round = 1; round <= rounds; round++) {
    const shift = (round - 1) % Math.max(1, runnable.length);
    const order = [...runnable.slice(shift), ...runnable.slice(0, shift)];
    for (const benchCase of order) samples.push(await runCase(context, benchCase, round));
  }
  return samples;
}

function connectTo(server: BenchServer, database: string) {
  return async () => {
    const client = new pg.Client({ ...server.configFor(database), ssl: false });
    await client.connect();
    return client;
  };
}

function commandLine(): string {
  const variables = Object.entries(process.env)
    .filter(([key]) => key.startsWith("BENCH_"))
    .map(([key, value]) => `${key}=${value}`);
  return [...variables, "npm run bench", ...(argv.length > 0 ? ["--", ...argv] : [])].join(" ");
}

function toolVersion(tool: Tool): string {
  if (!tool.available) return `not used: ${tool.skipReason}`;
  return tool.version.split("\n").find((line) => /\d/.test(line)) ?? tool.version;
}

async function main(): Promise<void> {
  if (options.report) {
    await publish(await loadResults(options.report), options.docs);
    return;
  }
  log(
    `scale ${options.scale} (orders ${size.orders}, events ${size.events}, tokens ${size.tokens}, new ${size.newRows}), ${options.rounds} round(s), ${kind} servers`,
  );
  await buildChildren();
  const [source, destination] = await startServers(kind);
  const stop = () => Promise.all([source.stop(), destination.stop()]);
  const onSignal = () => void stop().finally(() => process.exit(130));
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    const version = await serverVersion(source);
    const major = Number(/PostgreSQL (\d+)/.exec(version)?.[1] ?? 0);
    const tools = await detectTools(major);
    log(`servers up: ${version}`);

    await recreateDatabase(source, SOURCE_DB);
    const generationStarted = Date.now();
    await generateDataset(connectTo(source, SOURCE_DB), size);
    const generationSeconds = (Date.now() - generationStarted) / 1000;
    const tables: BenchTable[] = ["orders", "events", "tokens"];
    const dataset = await withDb(source, SOURCE_DB, async (client) => {
      const rows = [];
      for (const table of tables) {
        const bytes = await tableBytes(client, table);
        rows.push({
          table,
          rows: size[table],
          heapMiB: bytes.heap / 2 ** 20,
          totalMiB: bytes.total / 2 ** 20,
        });
      }
      return rows;
    });
    log(`data set generated in ${generationSeconds.toFixed(1)} s`);

    const context: CaseContext = { source, destination, size, tools };
    const full = fullCases(context);
    const once = onceCases(context);
    const incremental = incrementalCases(context);
    log("full copies");
    const samples = await runRounds(context, full, options.rounds);
    log("original tool's full copy (once)");
    samples.push(...(await runRounds(context, once, 1)));

    log("incremental: full copy of orders and tokens into the target, then new rows in the source");
    await recreateDatabase(destination, INCREMENTAL_DB);
    await runTimed([incrementalSetup(context)]);
    await withDb(source, SOURCE_DB, async (client) => {
      await addNewRows(client, "orders", size);
      await addNewRows(client, "tokens", size);
    });
    samples.push(...(await runRounds(context, incremental, options.rounds)));

    const env: Environment = {
      date: new Date().toISOString().slice(0, 10),
      command: commandLine(),
      scale: options.scale,
      rounds: options.rounds,
      machine: describeMachine(),
      servers: { kind, version, settings: SERVER_SETTINGS },
      tools: {
        psql: toolVersion(tools.psql),
        pg_dump: toolVersion(tools.pgDump),
        pgcopydb: toolVersion(tools.pgcopydb),
      },
      dataset,
      newRows: size.newRows,
      generationSeconds,
    };
    const results = { env, cases: [...full, ...once, ...incremental].map(caseInfo), samples };
    log(`raw results: ${await saveResults(results)}`);
    const written = await publish(results, options.docs);
    if (written.length > 0) log(`wrote ${written.join(" and ")}`);
  } finally {
    await stop();
  }
}

await main();
