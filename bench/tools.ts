/** Which external contenders can run here: psql, pg_dump and pgcopydb, with their versions. */
import { execText } from "./proc.js";

export interface Tool {
  available: boolean;
  version: string;
  /** Why the contender is skipped, when it is. */
  skipReason?: string;
}

export interface Tools {
  psql: Tool;
  pgDump: Tool;
  pgcopydb: Tool;
}

async function versionOf(command: string): Promise<string | null> {
  try {
    return (await execText(command, ["--version"])).trim();
  } catch {
    return null;
  }
}

const majorOf = (version: string) => Number(/(\d+)(?:\.\d+)?/.exec(version.replace(/^[^\d]*/, ""))?.[1] ?? 0);

export async function detectTools(serverMajor: number): Promise<Tools> {
  const psql = await versionOf("psql");
  const pgDump = await versionOf("pg_dump");
  // pgcopydb prints its log line on stderr and "pgcopydb version …" plus "compatible with Postgres …" on stdout.
  const pgcopydb = await versionOf("pgcopydb");
  const tool = (
    version: string | null,
    name: string,
    check?: (version: string) => string | undefined,
  ): Tool => {
    if (version === null) return { available: false, version: "", skipReason: `${name} is not installed` };
    const problem = check?.(version);
    return problem ? { available: false, version, skipReason: problem } : { available: true, version };
  };
  const dumpProblem = (version: string) =>
    majorOf(version) < serverMajor
      ? `pg_dump ${majorOf(version)} cannot dump a PostgreSQL ${serverMajor} server`
      : undefined;
  return {
    psql: tool(psql, "psql"),
    pgDump: tool(pgDump, "pg_dump", dumpProblem),
    pgcopydb: tool(pgcopydb, "pgcopydb", (version) => {
      const compatible = /compatible with Postgres ([\d, and]+)/.exec(version)?.[1] ?? "";
      const newest = Math.max(0, ...(compatible.match(/\d+/g) ?? []).map(Number));
      if (newest > 0 && newest < serverMajor)
        return `pgcopydb supports PostgreSQL up to ${newest}, the servers run ${serverMajor}`;
      return pgDump === null ? "pgcopydb needs pg_dump" : dumpProblem(pgDump);
    }),
  };
}
