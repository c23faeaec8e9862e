/**
 * Runs plain-format `pg_dump` SQL scripts (what `psql -f` would do) through a `pg.Client`, for test fixtures.
 */
import { existsSync, promises as fs } from "node:fs";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import type pg from "pg";
import { from as copyFrom } from "pg-copy-streams";

/** One executable unit of a script, as found by {@link splitSqlScript}. */
export interface SqlScriptStep {
  /** The statement, from its first token up to and including its terminating `;` (if any). */
  sql: string;
  /** 1-based line of the script where the statement starts. */
  line: number;
  /**
   * Only for `COPY … FROM stdin`: the data lines that follow the statement, each ending with "\n", without the
   * terminating `\.` line.
   */
  copyData?: string;
}

/** A statement of a script failed; `code` is the PostgreSQL SQLSTATE when the server reported one. */
export class SqlScriptError extends Error {
  constructor(
    message: string,
    readonly line: number,
    readonly statement: string,
    readonly code: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "SqlScriptError";
  }
}

const CREATE_ROUTINE_HEAD_WORDS = new Set(["create", "function", "procedure", "or", "replace"]);

function isIdentStart(code: number): boolean {
  return (
    (code >= 0x61 && code <= 0x7a) || (code >= 0x41 && code <= 0x5a) || code === 0x5f /* _ */ || code >= 0x80
  );
}

function isIdentPart(code: number): boolean {
  return isIdentStart(code) || (code >= 0x30 && code <= 0x39) || code === 0x24; /* $ */
}

function isSpace(code: number): boolean {
  return code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0d || code === 0x0c || code === 0x0b;
}

/**
 * Splits a SQL script into statements the way psql does: a `;` ends a statement unless it is inside a string
 * (`'…'`, `E'…'` with backslash escapes, `U&'…'`, `B'…'`, `X'…'`), a quoted identifier, a dollar-quoted body
 * (`$$…$$`, `$tag$…$tag$`), a `--` or (nested) `/* *\/` comment, parentheses, or a `BEGIN ATOMIC … END` body of a
 * `CREATE FUNCTION/PROCEDURE` (psql's own heuristic). `COPY … FROM stdin` statements carry the data lines that
 * follow them up to the `\.` line. psql meta-commands (a backslash outside quotes between statements, e.g.
 * `\connect`, `\restrict`) are skipped up to the end of their line. Comments between statements are dropped.
 * Assumes `standard_conforming_strings = on` (what pg_dump always sets): a backslash is only an escape in `E''`.
 */
export function splitSqlScript(text: string): SqlScriptStep[] {
  const steps: SqlScriptStep[] = [];
  const length = text.length;

  // Line numbers, computed lazily and monotonically.
  let countedUpTo = 0;
  let countedLine = 1;
  const lineAt = (position: number): number => {
    for (let p = countedUpTo; p < position; p++) if (text.charCodeAt(p) === 0x0a) countedLine++;
    countedUpTo = Math.max(countedUpTo, position);
    return countedLine;
  };
  const fail = (what: string, position: number): never => {
    throw new SyntaxError(`${what} starting at line ${lineAt(position)} is not terminated`);
  };

  let start = -1; // Start of the current statement, -1 when between statements.
  let parenDepth = 0;
  let beginDepth = 0;
  let words: string[] = []; // Unquoted words of the current statement at parenthesis depth 0, lower-cased.
  let heads: string[] = []; // psql's heuristic: first letters of the leading CREATE [OR REPLACE] FUNCTION words.
  let wordCount = 0;

  const endStatement = (end: number): number => {
    const sql = text.slice(start, end);
    const line = lineAt(start);
    let next = end;
    const isCopyFromStdin =
      words[0] === "copy" && words.some((word, index) => word === "from" && words[index + 1] === "stdin");
    if (isCopyFromStdin) {
      // The data starts on the line after the statement and ends with a line `\.` (or at the end of the text).
      const newline = text.indexOf("\n", end);
      const dataStart = newline === -1 ? length : newline + 1;
      let lineStart = dataStart;
      let dataEnd = length;
      next = length;
      while (lineStart < length) {
        let lineEnd = text.indexOf("\n", lineStart);
        if (lineEnd === -1) lineEnd = length;
        if (
          text.charCodeAt(lineStart) === 0x5c /* \ */ &&
          text.charCodeAt(lineStart + 1) === 0x2e /* . */ &&
          (lineEnd === lineStart + 2 ||
            (lineEnd === lineStart + 3 && text.charCodeAt(lineStart + 2) === 0x0d))
        ) {
          dataEnd = lineStart;
          next = Math.min(lineEnd + 1, length);
          break;
        }
        lineStart = lineEnd + 1;
      }
      steps.push({ sql, line, copyData: text.slice(dataStart, dataEnd) });
    } else {
      steps.push({ sql, line });
    }
    start = -1;
    parenDepth = 0;
    beginDepth = 0;
    words = [];
    heads = [];
    wordCount = 0;
    return next;
  };

  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  while (i < length) {
    const code = text.charCodeAt(i);
    if (isSpace(code)) {
      i++;
      continue;
    }
    const next = text.charCodeAt(i + 1);
    if (code === 0x2d /* - */ && next === 0x2d) {
      const newline = text.indexOf("\n", i);
      i = newline === -1 ? length : newline + 1;
      continue;
    }
    if (code === 0x2f /* / */ && next === 0x2a /* * */) {
      let depth = 1;
      let p = i + 2;
      while (depth > 0) {
        if (p >= length) fail("Comment", i);
        const c = text.charCodeAt(p);
        if (c === 0x2a && text.charCodeAt(p + 1) === 0x2f) {
          depth--;
          p += 2;
        } else if (c === 0x2f && text.charCodeAt(p + 1) === 0x2a) {
          depth++;
          p += 2;
        } else {
          p++;
        }
      }
      i = p;
      continue;
    }
    if (code === 0x5c /* \ */) {
      if (start !== -1) {
        throw new SyntaxError(`Unsupported psql meta-command inside a statement at line ${lineAt(i)}`);
      }
      const newline = text.indexOf("\n", i);
      i = newline === -1 ? length : newline + 1;
      continue;
    }
    if (start === -1) start = i;
    if (code === 0x3b /* ; */) {
      if (parenDepth === 0 && beginDepth === 0) {
        i = endStatement(i + 1);
        continue;
      }
      i++;
      continue;
    }
    if (code === 0x27 /* ' */) {
      i = skipQuoted(text, i, 0x27, false, fail);
      continue;
    }
    if (code === 0x22 /* " */) {
      i = skipQuoted(text, i, 0x22, false, fail);
      continue;
    }
    if (code === 0x24 /* $ */) {
      const match = /^\$(?:[A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/.exec(text.slice(i, i + 256));
      if (match) {
        const delimiter = match[0];
        const close = text.indexOf(delimiter, i + delimiter.length);
        if (close === -1) fail("Dollar-quoted string", i);
        i = close + delimiter.length;
        continue;
      }
      i++;
      continue;
    }
    if (code === 0x28 /* ( */) {
      parenDepth++;
      i++;
      continue;
    }
    if (code === 0x29 /* ) */) {
      if (parenDepth > 0) parenDepth--;
      i++;
      continue;
    }
    if (code >= 0x30 && code <= 0x39) {
      // A number (possibly `1e5`, `0x1F`): its letters must not be taken for words.
      let p = i + 1;
      while (p < length && isIdentPart(text.charCodeAt(p))) p++;
      i = p;
      continue;
    }
    if (isIdentStart(code)) {
      let p = i + 1;
      while (p < length && isIdentPart(text.charCodeAt(p))) p++;
      const word = text.slice(i, p).toLowerCase();
      if (text.charCodeAt(p) === 0x27 && word.length === 1) {
        // A prefixed string: E'…' uses backslash escapes; U&'…', B'…', X'…', N'…' do not.
        i = skipQuoted(text, p, 0x27, word === "e", fail);
        continue;
      }
      i = p;
      if (parenDepth === 0) words.push(word);
      // psql's heuristic for `CREATE [OR REPLACE] FUNCTION|PROCEDURE … BEGIN ATOMIC … END`.
      if (wordCount < 4 && CREATE_ROUTINE_HEAD_WORDS.has(word)) heads[wordCount] = word.charAt(0);
      wordCount++;
      const inCreateRoutine =
        heads[0] === "c" &&
        (heads[1] === "f" ||
          heads[1] === "p" ||
          (heads[1] === "o" && heads[2] === "r" && (heads[3] === "f" || heads[3] === "p")));
      if (inCreateRoutine && parenDepth === 0) {
        if (word === "begin") beginDepth++;
        else if (word === "case" && beginDepth >= 1) beginDepth++;
        else if (word === "end" && beginDepth > 0) beginDepth--;
      }
      continue;
    }
    i++;
  }
  if (start !== -1) {
    // Like psql, a final statement without a semicolon is still executed.
    endStatement(length);
  }
  return steps;
}

/** Returns the position after the quoted token opening at `open` (`''`/`""` doubling, optional backslashes). */
function skipQuoted(
  text: string,
  open: number,
  quote: number,
  backslashEscapes: boolean,
  fail: (what: string, position: number) => never,
): number {
  let p = open + 1;
  for (;;) {
    if (p >= text.length) fail(quote === 0x22 ? "Quoted identifier" : "String", open);
    const c = text.charCodeAt(p);
    if (backslashEscapes && c === 0x5c) {
      p += 2;
    } else if (c === quote) {
      if (text.charCodeAt(p + 1) === quote) p += 2;
      else return p + 1;
    } else {
      p++;
    }
  }
}

const SET_STATEMENT = /^SET\s+(?:SESSION\s+|LOCAL\s+)?[A-Za-z_][\w.]*\s*(?:=|TO\b)/i;

/**
 * Executes a plain SQL script (typically a `pg_dump` output) statement by statement, like `psql -f`: `COPY … FROM
 * stdin` data is streamed with `pg-copy-streams`, psql meta-commands are skipped, and the first failing statement
 * rejects with a {@link SqlScriptError} giving its line. The client's session settings are reset (`RESET ALL`)
 * afterwards, since pg_dump scripts set `search_path` to '' among others.
 *
 * `SET name = value` statements failing with SQLSTATE 42704 (unrecognized configuration parameter) are ignored, so
 * that dumps from a newer pg_dump (e.g. `SET transaction_timeout = 0` from pg_dump 17) load on older servers.
 * Caveat: such a failure inside an explicit transaction block of the script would still abort that transaction.
 */
export async function runSqlScript(client: pg.Client, sqlText: string, source = "SQL script"): Promise<void> {
  const steps = splitSqlScript(sqlText);
  let failed = false;
  try {
    for (const step of steps) {
      try {
        if (step.copyData === undefined) {
          await client.query(step.sql);
        } else {
          const chunks = step.copyData.length > 0 ? [step.copyData] : [];
          await pipeline(Readable.from(chunks), client.query(copyFrom(step.sql)));
        }
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        if (code === "42704" && SET_STATEMENT.test(step.sql)) continue;
        const message = error instanceof Error ? error.message : String(error);
        const excerpt = step.sql.length > 300 ? `${step.sql.slice(0, 300)}…` : step.sql;
        throw new SqlScriptError(
          `${source}, line ${step.line}: ${message}\n${excerpt}`,
          step.line,
          step.sql,
          typeof code === "string" ? code : undefined,
          { cause: error },
        );
      }
    }
  } catch (error) {
    failed = true;
    throw error;
  } finally {
    // After a failure inside a transaction block the reset itself fails: keep the original error then.
    await client.query("RESET ALL").catch((error: unknown) => {
      if (!failed) throw error;
    });
  }
}

/** {@link runSqlScript} on the contents of a file (UTF-8); errors name the file and line. */
export async function loadSqlFile(client: pg.Client, filePath: string): Promise<void> {
  await runSqlScript(client, await fs.readFile(filePath, "utf8"), filePath);
}

function findRepoRoot(): string {
  let directory = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(directory, "package.json"))) {
    const parent = path.dirname(directory);
    if (parent === directory) throw new Error(`No package.json above ${fileURLToPath(import.meta.url)}`);
    directory = parent;
  }
  return directory;
}

/** The checkout's root (the folder holding package.json). */
export const repoRoot = findRepoRoot();

/** The Pagila fixtures, in `shared/` beside the checkout. */
export const pagilaDir = path.resolve(repoRoot, "..", "shared", "fixtures", "pagila");
export const pagilaSchemaPath = path.join(pagilaDir, "pagila-schema.sql");
export const pagilaDataPath = path.join(pagilaDir, "pagila-data.sql");

/**
 * Loads the Pagila sample database (schema `public`, with a partitioned `payment` table) into the client's
 * database, which should be fresh (e.g. just created).
 */
export async function loadPagila(client: pg.Client): Promise<void> {
  await loadSqlFile(client, pagilaSchemaPath);
  await loadSqlFile(client, pagilaDataPath);
}
