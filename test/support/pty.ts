/**
 * Runs a command in a pseudo-terminal, the way a person runs it in a terminal, and drives it by keystrokes:
 * `expect` waits for text on the screen, `send` types. Uses util-linux `script`, present on Linux machines;
 * `node-pty` would need a native build.
 */
import { spawn, type ChildProcess } from "node:child_process";

export const KEYS = {
  enter: "\r",
  up: "\u001b[A",
  down: "\u001b[B",
  space: " ",
  ctrlC: "\u0003",
  backspace: "\u007f",
} as const;

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;?]*[A-Za-z]|\u001b[()][A-Z0-9]|\r/g;

export interface PtyExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class PtySession {
  private raw = "";
  private cursor = 0;
  private readonly child: ChildProcess;
  private waiters: (() => void)[] = [];
  readonly exited: Promise<PtyExit>;

  constructor(
    command: readonly string[],
    options: { cwd?: string; env?: NodeJS.ProcessEnv; columns?: number } = {},
  ) {
    const quoted = command.map((part) => `'${part.replaceAll("'", `'\\''`)}'`).join(" ");
    // `stty` gives the terminal a size (a fresh pty has 0 columns); `exec` keeps the exit code and signals direct.
    const script = `stty cols ${options.columns ?? 120} rows 40; exec ${quoted}`;
    this.child = spawn("script", ["-qfec", script, "/dev/null"], {
      cwd: options.cwd,
      env: options.env,
      stdio: ["pipe", "pipe", "pipe"],
    });
    const collect = (chunk: Buffer) => {
      this.raw += chunk.toString("utf8");
      for (const wake of this.waiters.splice(0)) wake();
    };
    this.child.stdout?.on("data", collect);
    this.child.stderr?.on("data", collect);
    this.exited = new Promise((resolve) => {
      this.child.on("close", (code, signal) => {
        for (const wake of this.waiters.splice(0)) wake();
        resolve({ code, signal });
      });
    });
  }

  /** Everything shown so far, without terminal control sequences. */
  get screen(): string {
    return this.raw.replace(ANSI, "");
  }

  /** Everything written to the terminal, control sequences included. */
  get rawOutput(): string {
    return this.raw;
  }

  /** Waits until `pattern` appears after the previous match; resolves to the text up to and including it. */
  async expect(pattern: string | RegExp, timeoutMs = 15_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const screen = this.screen;
      const rest = screen.slice(this.cursor);
      const match = typeof pattern === "string" ? indexOfString(rest, pattern) : pattern.exec(rest);
      if (match) {
        const end = this.cursor + match.index + match[0].length;
        const seen = screen.slice(this.cursor, end);
        this.cursor = end;
        return seen;
      }
      const left = deadline - Date.now();
      if (left <= 0 || this.child.exitCode !== null) {
        throw new Error(
          `Timed out waiting for ${String(pattern)}; the screen since the last match:\n${rest.slice(-3000)}`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  send(keys: string): void {
    this.child.stdin?.write(keys);
  }

  /** Types a line of text and presses enter. */
  line(text: string): void {
    this.send(text + KEYS.enter);
  }

  kill(signal: NodeJS.Signals = "SIGKILL"): void {
    this.child.kill(signal);
  }
}

function indexOfString(text: string, needle: string): { index: number; 0: string } | null {
  const index = text.indexOf(needle);
  return index < 0 ? null : { index, 0: needle };
}
