/**
 * CPU accounting from /proc (Linux only; null elsewhere).
 * A PostgreSQL server's CPU seconds: the postmaster's own time, the time of its living children (background
 * workers, open backends) and, through the postmaster's cutime/cstime, the time of the backends that already
 * exited and were reaped. The difference of two readings is what the server spent in between, whichever
 * sessions did the work. The machine's busy time (all CPUs) tells how much other processes took meanwhile.
 */
import { execSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";

const available = existsSync("/proc/self/stat");
const ticksPerSecond = available ? Number(execSync("getconf CLK_TCK").toString().trim()) || 100 : 100;

interface ProcStat {
  ppid: number;
  /** utime + stime, in ticks. */
  own: number;
  /** cutime + cstime of reaped children, in ticks. */
  reaped: number;
}

function readStat(pid: number | string): ProcStat | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return null;
  }
  // The command name (field 2) may contain spaces and parentheses: fields are counted after its last ')'.
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const field = (n: number) => Number(fields[n - 3] ?? 0);
  return { ppid: field(4), own: field(14) + field(15), reaped: field(16) + field(17) };
}

/** CPU seconds used so far by the server whose postmaster is `postmasterPid`; null off Linux. */
export function serverCpuSeconds(postmasterPid: number): number | null {
  if (!available) return null;
  const postmaster = readStat(postmasterPid);
  if (!postmaster) return null;
  let ticks = postmaster.own + postmaster.reaped;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(entry);
    if (stat?.ppid === postmasterPid) ticks += stat.own;
  }
  return ticks / ticksPerSecond;
}

/** CPU seconds all CPUs of the machine spent busy (not idle, not waiting for I/O) since boot; null off Linux. */
export function machineBusySeconds(): number | null {
  if (!available) return null;
  const line = readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
  // cpu  user nice system idle iowait irq softirq steal guest guest_nice (guest time is inside user).
  const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  return (
    ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) / ticksPerSecond
  );
}
