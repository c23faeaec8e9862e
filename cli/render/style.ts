/** Colours and symbols for one output stream: ANSI colours only on a terminal, ASCII when UTF-8 is unlikely. */
export interface Style {
  readonly color: boolean;
  readonly unicode: boolean;
  bold(text: string): string;
  dim(text: string): string;
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
  cyan(text: string): string;
  readonly symbols: Symbols;
}

export interface Symbols {
  tick: string;
  cross: string;
  arrow: string;
  dash: string;
  ellipsis: string;
  approx: string;
  barFull: string;
  barEmpty: string;
  spinner: readonly string[];
}

const UNICODE_SYMBOLS: Symbols = {
  tick: "✓",
  cross: "✗",
  arrow: "→",
  dash: "—",
  ellipsis: "…",
  approx: "~",
  barFull: "█",
  barEmpty: "░",
  spinner: ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"],
};

const ASCII_SYMBOLS: Symbols = {
  tick: "[ok]",
  cross: "[x]",
  arrow: "->",
  dash: "-",
  ellipsis: "...",
  approx: "~",
  barFull: "#",
  barEmpty: "-",
  spinner: ["-", "\\", "|", "/"],
};

type Env = Readonly<Record<string, string | undefined>>;

/** Whether the terminal can show UTF-8 symbols: the locale says so, or says nothing on a modern terminal. */
export function supportsUnicode(env: Env, platform: NodeJS.Platform = process.platform): boolean {
  if (platform === "win32") {
    return Boolean(env.WT_SESSION || env.TERM_PROGRAM === "vscode" || env.TERM === "xterm-256color");
  }
  if (env.TERM === "linux") return false;
  const locale = env.LC_ALL || env.LC_CTYPE || env.LANG;
  return locale === undefined || locale === "" || /utf-?8/i.test(locale);
}

/** Colours on a terminal unless NO_COLOR is set (https://no-color.org) or TERM is dumb; FORCE_COLOR wins. */
export function supportsColor(isTTY: boolean, env: Env): boolean {
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== "") return env.FORCE_COLOR !== "0";
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  return isTTY && env.TERM !== "dumb";
}

export function createStyle(options: { color: boolean; unicode: boolean }): Style {
  const wrap = (open: number, close: number) => (text: string) =>
    options.color ? `\u001b[${open}m${text}\u001b[${close}m` : text;
  return {
    color: options.color,
    unicode: options.unicode,
    bold: wrap(1, 22),
    dim: wrap(2, 22),
    red: wrap(31, 39),
    green: wrap(32, 39),
    yellow: wrap(33, 39),
    cyan: wrap(36, 39),
    symbols: options.unicode ? UNICODE_SYMBOLS : ASCII_SYMBOLS,
  };
}

/** A CSI escape sequence (colours, cursor moves); the capture group keeps them when splitting. */
// eslint-disable-next-line no-control-regex
export const ANSI_SEQUENCE = /(\u001b\[[0-9;?]*[A-Za-z])/;
// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;?]*[A-Za-z]/g;

export function stripAnsi(text: string): string {
  return text.replace(ANSI, "");
}

/** Columns the text takes on a terminal (ANSI sequences take none; every code point is counted as one). */
export function visibleWidth(text: string): number {
  return [...stripAnsi(text)].length;
}
