import { existsSync, promises as fs } from "node:fs";
import {
  check,
  describeEndpoint,
  listSourceTables,
  loadSpecText,
  PgferryError,
  type Mode,
  type SourceTableInfo,
  type Strategy,
} from "../../engine/index.js";
import type { CliContext } from "../context.js";
import { askConnection, probeSpec, type ConnectionAnswer } from "../init/connection.js";
import { isPromptAborted, terminalPrompter, type Choice, type Prompter } from "../init/prompter.js";
import { PASSWORD_VARIABLES, specFileText, type InitAnswers, type TableChoice } from "../init/spec-file.js";
import type { Output } from "../io.js";
import { renderEndpoint } from "../render/check.js";
import { formatCount } from "../render/format.js";
import { MODE_TITLES } from "../render/summary.js";
import { DEFAULT_SPEC_FILE } from "../spec-options.js";

const MODE_CHOICES: Choice<Mode>[] = [
  {
    value: "full",
    name: "Full database copy        → complete replication",
    description: "Every table is dropped in the target schema, recreated from the source and copied in full.",
  },
  {
    value: "incremental",
    name: "Incremental sync (delta)  → only new rows",
    description:
      "Copies the rows whose primary key is not in the target yet; missing tables are created. Tables without a primary key are skipped; updates and deletes are not synced.",
  },
  {
    value: "tables",
    name: "Table-level operations    → granular control",
    description:
      "Only the tables you pick, each recreated or synced (delta), optionally without auto-generated columns.",
  },
];

/** `pgferry init`: the guided set-up. Writes the spec file (no password in it) and prints what to run next. */
export async function initCommand(flags: { output: string }, context: CliContext): Promise<number> {
  if (!process.stdin.isTTY) {
    throw new PgferryError("usage", "pgferry init asks questions: run it in a terminal.", {
      hint: "Without a terminal, write the spec by hand (see examples/specs/) or use flags.",
    });
  }
  try {
    return await guidedSetup(terminalPrompter(), context, flags.output);
  } catch (error) {
    if (isPromptAborted(error)) {
      throw new PgferryError("interrupted", "Interrupted — nothing was written.", { exitCode: 130 });
    }
    throw error;
  }
}

/** The conversation, with the questions asked through `ask`. Resolves to the exit code. */
async function guidedSetup(ask: Prompter, context: CliContext, file: string): Promise<number> {
  const { output, env } = context;
  const style = output.errStyle;
  output.info(
    [
      style.bold("pgferry init"),
      `Answer a few questions; each connection is tested on the spot. Nothing is written before the last`,
      `question, and the file will hold no password. Ctrl-C aborts.`,
    ].join("\n"),
  );

  let overwrite = false;
  if (existsSync(file)) {
    overwrite = await ask.confirm({ message: `${file} exists. Replace it at the end?`, default: false });
    if (!overwrite) {
      output.info(
        `Nothing written: ${file} is left as it is. \`pgferry init --output other.yml\` writes elsewhere.`,
      );
      return 0;
    }
  }

  output.info(`\n${style.bold("Step 1: choose the mode")}`);
  const mode = await ask.select({ message: "What do you want to do?", choices: MODE_CHOICES });

  output.info(`\n${style.bold("Step 2: the source database (only read)")}`);
  const source = await askConnection({ side: "source", ask, output, env });
  if (!source) return aborted(output);

  output.info(`\n${style.bold("Step 3: the destination database (only its target schema is written)")}`);
  const destination = await askConnection({ side: "destination", ask, output, source, env });
  if (!destination) return aborted(output);

  output.info(`\n${style.bold("Step 4: the tables")}`);
  const available = await listSourceTables(source.config, source.schema);
  if (available.length === 0) {
    throw new PgferryError("no-tables", `Schema "${source.schema}" of the source has no tables to copy.`, {
      hint: "Run pgferry init again and give the schema that holds the tables.",
    });
  }
  const selection = await askTables(ask, mode, available);

  const targetSchema = await ask.input({
    message: "Target schema in the destination (created if missing; public is refused)",
    default: "migrated",
    validate: (value) => {
      const probe = probeSpec({
        source: source.config,
        destination: destination.config,
        sourceSchema: source.schema,
        targetSchema: value.trim(),
      });
      return probe.spec ? true : (probe.problems[0] ?? "not a valid schema name");
    },
  });

  const answers: InitAnswers = {
    mode,
    source: source.config,
    destination: destination.config,
    sourceSchema: source.schema,
    targetSchema: targetSchema.trim(),
    ...selection,
  };
  const text = specFileText(answers);
  // The file must load exactly as `pgferry run` will load it, with the passwords given the way it expects them.
  const spec = loadSpecText(text, file, { env: { ...env, ...passwordEnvironment(answers) } });

  output.info(`\n${style.bold("Step 5: confirm")}`);
  output.info(summary(answers, available, source, destination, file));
  const final = await check({ ...spec, waitTimeoutSeconds: Math.min(spec.waitTimeoutSeconds, 2) });
  for (const line of [
    ...renderEndpoint("Source", final.source, style),
    ...renderEndpoint("Destination", final.destination, style),
  ]) {
    output.info(line);
  }
  if (!final.ok)
    output.info(style.yellow("The check above fails: the file can be written, but fix this before running."));
  const write = await ask.confirm({ message: `Write ${file}?`, default: true });
  if (!write) return aborted(output);

  await writeSpecFile(file, text, overwrite);
  output.info(nextSteps(answers, file, style.green(style.symbols.tick)));
  return 0;
}

function aborted(output: Output): number {
  output.info("Aborted: nothing was written.");
  return 0;
}

async function askTables(
  ask: Prompter,
  mode: Mode,
  available: readonly SourceTableInfo[],
): Promise<{ tables?: TableChoice[]; exclude?: string[] }> {
  const width = Math.max(...available.map((table) => table.name.length));
  const choices = available.map((table) => ({
    value: table.name,
    short: table.name,
    name: `${table.name.padEnd(width)}  ~${formatCount(table.estimatedRows)} rows${
      table.hasPrimaryKey
        ? ""
        : mode === "incremental"
          ? "  (no primary key: skipped by incremental sync)"
          : "  (no primary key)"
    }`,
    checked: mode !== "tables",
  }));
  const picked = await ask.checkbox({
    message:
      mode === "tables"
        ? "Tables to copy (space to pick, enter when done)"
        : "Tables to copy (all are picked; space to leave one out)",
    choices,
    validate: (selected) => (selected.length > 0 ? true : "pick at least one table"),
  });
  if (mode !== "tables") {
    const exclude = available.map((table) => table.name).filter((name) => !picked.includes(name));
    return exclude.length > 0 ? { exclude } : {};
  }
  const tables: TableChoice[] = [];
  for (const name of picked) {
    const info = available.find((table) => table.name === name);
    const strategy = await ask.select<Strategy>({
      message: `${name}: how?`,
      choices: [
        {
          value: "recreate",
          name: "Delete & recreate  → fresh copy of every row",
          description:
            "Drops the table in the target schema, recreates it from the source and copies every row.",
        },
        {
          value: "delta",
          name: "Delta only         → add the new rows",
          description: "Copies the rows whose primary key is not in the target yet; existing rows are kept.",
          ...(info?.hasPrimaryKey === false ? { disabled: "(no primary key)" } : {}),
        },
      ],
    });
    const excludeAutoGenerated = await ask.confirm({
      message: `${name}: leave out auto-generated columns (serial/identity ids, defaults such as now())?${
        strategy === "delta" ? " Delta needs the primary key, so not if it is one of them." : ""
      }`,
      default: false,
    });
    tables.push({ name, strategy, ...(excludeAutoGenerated ? { excludeAutoGenerated } : {}) });
  }
  return { tables };
}

function passwordEnvironment(answers: InitAnswers): Record<string, string> {
  const env: Record<string, string> = {};
  for (const side of ["source", "destination"] as const) {
    const password = answers[side].password;
    if (password !== undefined) env[PASSWORD_VARIABLES[side]] = password;
  }
  return env;
}

function summary(
  answers: InitAnswers,
  available: readonly SourceTableInfo[],
  source: ConnectionAnswer,
  destination: ConnectionAnswer,
  file: string,
): string {
  let tables: string;
  if (answers.tables) {
    tables = answers.tables
      .map(
        (t) =>
          `${t.name} (${t.strategy ?? "recreate"}${t.excludeAutoGenerated ? ", without auto-generated columns" : ""})`,
      )
      .join(", ");
  } else if (answers.exclude) {
    tables = `all ${available.length - answers.exclude.length} of ${available.length}, except ${answers.exclude.join(", ")}`;
  } else {
    tables = `all ${available.length} (and tables added later)`;
  }
  return [
    `  mode         ${MODE_TITLES[answers.mode]}`,
    `  source       ${describeEndpoint(source.config)}, schema ${answers.sourceSchema}`,
    `  destination  ${describeEndpoint(destination.config)}, schema ${answers.targetSchema}`,
    `  tables       ${tables}`,
    `  file         ${file}`,
  ].join("\n");
}

async function writeSpecFile(file: string, text: string, overwrite: boolean): Promise<void> {
  try {
    await fs.writeFile(file, text, { flag: overwrite ? "w" : "wx" });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new PgferryError(
      "usage",
      code === "EEXIST"
        ? `${file} appeared while you answered: it was not replaced.`
        : `Cannot write ${file}: ${(error as Error).message}`,
    );
  }
}

function nextSteps(answers: InitAnswers, file: string, tick: string): string {
  const argument = file === DEFAULT_SPEC_FILE ? "" : ` ${file}`;
  const lines = ["", `${tick} Wrote ${file}`, ""];
  const sides = (["source", "destination"] as const).filter((side) => answers[side].password !== undefined);
  if (sides.length > 0) {
    lines.push("The passwords are not in the file. Set them in the environment first:");
    const width = Math.max(...sides.map((side) => PASSWORD_VARIABLES[side].length));
    for (const side of sides) {
      const assignment = `export ${PASSWORD_VARIABLES[side]}='…'`.padEnd(width + 11);
      lines.push(`  ${assignment} # password of ${describeEndpoint(answers[side])}`);
    }
    lines.push("(`read -rs NAME && export NAME` keeps a password out of your shell history.)", "");
  }
  lines.push(
    "Then:",
    `  pgferry check${argument}    test both connections and the privileges`,
    `  pgferry plan${argument}     see what would happen, changing nothing`,
    `  pgferry run${argument}      copy`,
  );
  return lines.join("\n");
}
