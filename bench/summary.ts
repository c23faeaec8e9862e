/** From timed samples to medians, ratios and the targets of issues 2, 3 and 8. */
import type { BenchCase, CaseGroup } from "./cases.js";

/** What the summary needs to know of a case (kept in the results file, so a report can be redone from it). */
export type CaseInfo = Pick<BenchCase, "id" | "label" | "group" | "tables" | "skipReason"> & {
  stepCount: number;
};

export function caseInfo(c: BenchCase): CaseInfo {
  return {
    id: c.id,
    label: c.label,
    group: c.group,
    tables: c.tables,
    ...(c.skipReason ? { skipReason: c.skipReason } : {}),
    stepCount: c.steps.length,
  };
}

export interface Sample {
  caseId: string;
  round: number;
  seconds: number;
  stepSeconds: number[];
  peakRssMiB: number | null;
  /**
   * CPU seconds during the case: the contender's own processes, each server's processes, and everything else
   * on the machine (other work sharing the CPUs: noise).
   */
  cpu: { client: number | null; source: number | null; destination: number | null; other: number | null };
  note?: string;
}

export interface CaseSummary {
  id: string;
  label: string;
  group: CaseGroup;
  tables: BenchCase["tables"];
  runs: number;
  skipReason?: string;
  median: number;
  min: number;
  max: number;
  stepMedians: number[];
  stepMins: number[];
  peakRssMiB: number | null;
  cpu: Sample["cpu"];
  notes: string[];
  /** This case's time divided by the baseline's (lower is faster). */
  vsPipe?: Ratio;
  vsPgcopydb?: Ratio;
  /** For deltas and the INSERT-batch case: how many times faster pgferry is. */
  speedup?: Ratio & { of: string };
}

/**
 * A ratio of medians, and of the best (shortest) runs: on a machine shared with other work, the best run is the
 * one least disturbed, so both are shown.
 */
export interface Ratio {
  median: number;
  best: number;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return NaN;
  return sorted.length % 2
    ? (sorted[middle] ?? NaN)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

const medianOrNull = (values: (number | null)[]) =>
  values.every((v) => v !== null) ? median(values as number[]) : null;

export function summarise(cases: readonly CaseInfo[], samples: readonly Sample[]): CaseSummary[] {
  const summaries = cases.map((c): CaseSummary => {
    const own = samples.filter((s) => s.caseId === c.id);
    const seconds = own.map((s) => s.seconds);
    const stepIndexes = Array.from({ length: c.stepCount }, (_, i) => i);
    const steps = stepIndexes.map((i) => median(own.map((s) => s.stepSeconds[i] ?? NaN)));
    const stepMins = stepIndexes.map((i) => Math.min(...own.map((s) => s.stepSeconds[i] ?? NaN)));
    const rss = own.map((s) => s.peakRssMiB);
    return {
      id: c.id,
      label: c.label,
      group: c.group,
      tables: c.tables,
      runs: own.length,
      ...(c.skipReason ? { skipReason: c.skipReason } : {}),
      median: median(seconds),
      min: Math.min(...seconds),
      max: Math.max(...seconds),
      stepMedians: steps,
      stepMins,
      peakRssMiB: rss.every((r) => r !== null) && rss.length > 0 ? Math.max(...(rss as number[])) : null,
      cpu: {
        client: medianOrNull(own.map((s) => s.cpu.client)),
        source: medianOrNull(own.map((s) => s.cpu.source)),
        destination: medianOrNull(own.map((s) => s.cpu.destination)),
        other: medianOrNull(own.map((s) => s.cpu.other)),
      },
      notes: [...new Set(own.flatMap((s) => (s.note ? [s.note] : [])))],
    };
  });
  const byId = new Map(summaries.map((s) => [s.id, s]));
  const ran = (id: string) => {
    const found = byId.get(id);
    return found && found.runs > 0 ? found : undefined;
  };
  const pipe = ran("psql-pipe");
  const pgcopydb = ran("pgcopydb");
  for (const s of summaries) {
    if (s.runs === 0) continue;
    if (pipe && s.tables === "orders+events")
      s.vsPipe = { median: s.median / pipe.median, best: s.min / pipe.min };
    if (pipe && s.tables === "orders")
      s.vsPipe = { median: s.median / (pipe.stepMedians[0] ?? NaN), best: s.min / (pipe.stepMins[0] ?? NaN) };
    if (pgcopydb && s.tables === "orders+events")
      s.vsPgcopydb = { median: s.median / pgcopydb.median, best: s.min / pgcopydb.min };
  }
  const speedup = (fast: string, slow: string) => {
    const [f, s] = [ran(fast), ran(slow)];
    if (f && s) f.speedup = { of: s.label, median: s.median / f.median, best: s.min / f.min };
  };
  speedup("pgferry-orders", "insert-batches");
  speedup("pgferry-bigint", "all-keys-bigint");
  speedup("pgferry-uuid", "all-keys-uuid");
  return summaries;
}

export interface Target {
  issue: number;
  text: string;
  measured: string;
  status: "PASS" | "MISS" | "n/a";
}

/** The issues say MB: 150 × 10⁶ bytes, about 143 MiB. */
const PGFERRY_MEMORY_LIMIT_MB = 150;

export function evaluateTargets(summaries: readonly CaseSummary[]): Target[] {
  const get = (id: string) => summaries.find((s) => s.id === id && s.runs > 0);
  // Three decimals when two would round a miss onto the limit.
  const shown = (value: number, limit: number) => value.toFixed(Math.abs(value - limit) < 0.01 ? 3 : 2);
  const compare = (
    value: Ratio | undefined,
    limit: number,
    passes: (v: number) => boolean,
    suffix: string,
  ): Pick<Target, "measured" | "status"> =>
    value === undefined
      ? { measured: "not measured", status: "n/a" }
      : {
          measured: `${shown(value.median, limit)}×${suffix} (best runs: ${shown(value.best, limit)}×)`,
          status: passes(value.median) ? "PASS" : "MISS",
        };
  const ratio = (value: Ratio | undefined, limit: number) => compare(value, limit, (v) => v <= limit, "");
  const atLeast = (value: Ratio | undefined, limit: number) =>
    compare(value, limit, (v) => v >= limit, " faster");
  const memory = (ids: string[]): Pick<Target, "measured" | "status"> => {
    const values = ids.map((id) => get(id)?.peakRssMiB).filter((v): v is number => typeof v === "number");
    if (values.length === 0) return { measured: "not measured", status: "n/a" };
    const peakMiB = Math.max(...values);
    const peakMB = (peakMiB * 2 ** 20) / 1e6;
    return {
      measured: `${peakMB.toFixed(0)} MB (${peakMiB.toFixed(0)} MiB)`,
      status: peakMB <= PGFERRY_MEMORY_LIMIT_MB ? "PASS" : "MISS",
    };
  };

  return [
    { issue: 2, text: "full copy, jobs 1 ≤ 1.0× the psql pipe", ...ratio(get("pgferry-j1")?.vsPipe, 1.0) },
    { issue: 2, text: "full copy, jobs 2 ≤ 1.0× the psql pipe", ...ratio(get("pgferry-j2")?.vsPipe, 1.0) },
    {
      issue: 2,
      text: "full copy peak memory ≤ 150 MB",
      ...memory(["pgferry-j1", "pgferry-j2", "pgferry-orders"]),
    },
    { issue: 8, text: "jobs 2 ≤ 0.70× pgcopydb clone", ...ratio(get("pgferry-j2")?.vsPgcopydb, 0.7) },
    { issue: 8, text: "jobs 2 ≤ 0.75× the sequential psql pipes", ...ratio(get("pgferry-j2")?.vsPipe, 0.75) },
    {
      issue: 8,
      text: "≥ 8× faster than SELECT-all + INSERT batches (orders)",
      ...atLeast(get("pgferry-orders")?.speedup, 8),
    },
    {
      issue: 8,
      text: "peak memory ≤ 150 MB, every pgferry case",
      ...memory(["pgferry-j1", "pgferry-j2", "pgferry-orders", "pgferry-bigint", "pgferry-uuid"]),
    },
    {
      issue: 3,
      text: "incremental, bigint key: ≥ 10× faster than all keys in Node",
      ...atLeast(get("pgferry-bigint")?.speedup, 10),
    },
    {
      issue: 3,
      text: "incremental, uuid key: ≥ 2.5× faster than all keys in Node",
      ...atLeast(get("pgferry-uuid")?.speedup, 2.5),
    },
    { issue: 3, text: "incremental peak memory ≤ 150 MB", ...memory(["pgferry-bigint", "pgferry-uuid"]) },
  ];
}
