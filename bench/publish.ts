/** The end of a bench run: summary on the console, the raw results file, docs/benchmarks.md and .svg. */
import { readFileSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { renderChart } from "./chart.js";
import { consoleTable, extractNotes, renderMarkdown, type Environment } from "./report.js";
import { evaluateTargets, summarise, type CaseInfo, type Sample } from "./summary.js";

/** Everything a report is made from; bench/results/bench-<time>.json holds one. */
export interface BenchResults {
  env: Environment;
  cases: CaseInfo[];
  samples: Sample[];
}

const rootDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

export function describeMachine(): Environment["machine"] {
  let name = `${os.type()} ${os.release()}`;
  try {
    const pretty = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(readFileSync("/etc/os-release", "utf8"))?.[1];
    if (pretty) name = `${pretty}, kernel ${os.release()}`;
  } catch {
    // Not Linux: the kernel name and release will do.
  }
  return {
    cpus: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model.trim() ?? "?",
    memoryGiB: os.totalmem() / 2 ** 30,
    os: name,
    node: process.version,
  };
}

/** Writes bench/results/bench-<time>.json and returns its path relative to the repository. */
export async function saveResults(results: BenchResults): Promise<string> {
  const directory = path.join(rootDir, "bench", "results");
  await mkdir(directory, { recursive: true });
  const stamp = new Date().toISOString().replaceAll(":", "-").slice(0, 19);
  const file = path.join(directory, `bench-${stamp}.json`);
  await writeFile(file, JSON.stringify(results, null, 2));
  return path.relative(rootDir, file);
}

export async function loadResults(file: string): Promise<BenchResults> {
  return JSON.parse(await readFile(file, "utf8")) as BenchResults;
}

/** Prints the table and the targets; with `writeDocs`, rewrites the docs, keeping their hand-written notes. */
export async function publish(results: BenchResults, writeDocs: boolean): Promise<string[]> {
  const summaries = summarise(results.cases, results.samples);
  const targets = evaluateTargets(summaries);
  console.log(`\n${consoleTable(summaries, targets)}\n`);
  if (!writeDocs) return [];
  const { env } = results;
  const docsFile = path.join(rootDir, "docs", "benchmarks.md");
  const previous = await readFile(docsFile, "utf8").catch(() => "");
  await writeFile(docsFile, renderMarkdown(env, summaries, targets, extractNotes(previous)));
  const chartFile = path.join(rootDir, "docs", "benchmarks.svg");
  const subtitle = `pgferry bench, ${env.date}, scale ${env.scale}, ${env.servers.version.split(" on ")[0]}, ${env.machine.cpus} CPUs`;
  await writeFile(chartFile, renderChart(summaries, subtitle));
  return [docsFile, chartFile].map((file) => path.relative(rootDir, file));
}
