/**
 * The GitHub Action: read the inputs, load and validate the spec, run (or plan) it with the engine, then write the
 * outputs, the annotations and the job summary. The engine does all the database work; nothing here writes SQL.
 */
import { existsSync } from "node:fs";
import * as core from "@actions/core";
import {
  describeEndpoint,
  exitCodeOf,
  isPgferryError,
  loadSpecFile,
  plan,
  run as runSpec,
  specFromOverrides,
  SpecError,
  type MigrationSpec,
  type ProgressListener,
  type RunReport,
} from "../engine/index.js";
import {
  locationText,
  problemText,
  specProblemAnnotation,
  tableAnnotations,
  type Annotation,
} from "./annotations.js";
import { DEFAULT_SPEC, readInputs, type ActionInputs } from "./inputs.js";
import { oneLine, planLine, progressLine, totalsLine } from "./log-lines.js";
import { Secrets } from "./secrets.js";
import { renderFailureSummary, renderSummary, type FailureSummary } from "./summary.js";

/** A run that finished with failed tables: outputs and summary are written, the step still fails. */
class TablesFailedError extends Error {}

export async function run(): Promise<void> {
  const secrets = new Secrets((value) => core.setSecret(value));
  try {
    await ferry(readInputs(secrets), secrets);
  } catch (error) {
    core.setFailed(secrets.scrub(await reportFailure(error, secrets)));
  }
}

async function ferry(inputs: ActionInputs, secrets: Secrets): Promise<void> {
  const spec = await loadSpec(inputs);
  // A password written in the spec (or expanded from a variable that is not a GitHub secret) is masked too.
  secrets.addPassword(spec.source.password);
  secrets.addPassword(spec.destination.password);
  const say = (line: string) => core.info(oneLine(secrets.scrub(line)));

  say(
    `pgferry ${inputs.dryRun ? "dry run (plan)" : "run"}, mode ${spec.mode}: ` +
      `${describeEndpoint(spec.source)} schema "${spec.sourceSchema}" → ` +
      `${describeEndpoint(spec.destination)} schema "${spec.targetSchema}"`,
  );
  const report = secrets.scrubDeep(
    inputs.dryRun ? await plan(spec, { onEvent: logProgress(say) }) : await copy(spec, say),
  );
  if (report.dryRun) {
    core.startGroup("Plan, table by table");
    for (const table of report.tables) say(planLine(table));
    core.endGroup();
  }
  say(totalsLine(report));

  for (const annotation of tableAnnotations(report)) annotate(annotation, secrets);
  setOutputs(report);
  await writeSummary(renderSummary(report, { redact: (text) => secrets.scrub(text) }));

  if (exitCodeOf(report) !== 0) {
    const failed = report.tables.filter((t) => t.status === "failed").map((t) => `"${t.name}"`);
    const names =
      failed.length > 5
        ? `${failed.slice(0, 5).join(", ")} and ${failed.length - 5} more`
        : failed.join(", ");
    const verb = report.dryRun ? "would fail" : "failed";
    throw new TablesFailedError(`${failed.length} of ${report.totals.tables} tables ${verb}: ${names}.`);
  }
}

/**
 * The spec file named by the `spec` input, with the inputs applied. Without a file at the default path, URLs
 * given as inputs (or as PGFERRY_SOURCE_URL / PGFERRY_DESTINATION_URL) make a spec on their own; a file named
 * explicitly must exist.
 */
async function loadSpec(inputs: ActionInputs): Promise<MigrationSpec> {
  const { overrides } = inputs;
  const urlsGiven =
    overrides.source !== undefined ||
    overrides.destination !== undefined ||
    Boolean(process.env.PGFERRY_SOURCE_URL) ||
    Boolean(process.env.PGFERRY_DESTINATION_URL);
  if (inputs.spec === DEFAULT_SPEC && !existsSync(inputs.spec) && urlsGiven) {
    core.info(`No ${DEFAULT_SPEC} in the workspace: the spec is made from the inputs alone.`);
    return specFromOverrides(overrides);
  }
  return loadSpecFile(inputs.spec, { overrides });
}

/** `run`, with the runner's cancellation (SIGINT, then SIGTERM) rolling back the tables in flight. */
/** Progress events as log lines, the frequent ones left out. */
function logProgress(say: (line: string) => void): ProgressListener {
  return (event) => {
    const line = progressLine(event);
    if (line !== undefined) say(line);
  };
}

async function copy(spec: MigrationSpec, say: (line: string) => void): Promise<RunReport> {
  const controller = new AbortController();
  const cancel = () => {
    say("Cancelled: rolling back the tables in flight…");
    controller.abort();
  };
  process.once("SIGINT", cancel);
  process.once("SIGTERM", cancel);
  core.startGroup("Tables");
  try {
    return await runSpec(spec, {
      signal: controller.signal,
      onEvent: logProgress(say),
    });
  } finally {
    core.endGroup();
    process.off("SIGINT", cancel);
    process.off("SIGTERM", cancel);
  }
}

function setOutputs(report: RunReport): void {
  const totals = report.totals;
  core.setOutput("tables-copied", String(totals.tablesCreated + totals.tablesSynced));
  core.setOutput("rows-copied", String(totals.rowsCopied));
  core.setOutput("tables-failed", String(totals.tablesFailed));
  core.setOutput("report", JSON.stringify(report));
}

function annotate(annotation: Annotation, secrets: Secrets): void {
  const message = secrets.scrub(annotation.message);
  if (annotation.level === "error") core.error(message, annotation.properties);
  else core.warning(message, annotation.properties);
}

/** The summary is a courtesy: failing to write it never fails the step. */
async function writeSummary(html: string): Promise<void> {
  try {
    await core.summary.addRaw(html).write();
  } catch (error) {
    core.warning(`pgferry: could not write the job summary: ${(error as Error).message}`);
  }
}

/** Annotations and a summary for what stopped the step; returns the message the step fails with. */
async function reportFailure(error: unknown, secrets: Secrets): Promise<string> {
  if (error instanceof TablesFailedError) return error.message;
  const workspace = process.env.GITHUB_WORKSPACE || process.cwd();
  const redact = (text: string) => secrets.scrub(text);
  let failure: FailureSummary;
  let message: string;
  if (error instanceof SpecError) {
    for (const problem of error.problems) annotate(specProblemAnnotation(problem, workspace), secrets);
    const n = error.problems.length;
    message = `The spec is invalid: ${n} ${n === 1 ? "problem" : "problems"} (see the annotations).`;
    failure = {
      title: "pgferry: the spec is invalid",
      problems: error.problems.map((problem) => ({
        location: locationText(problem, workspace),
        message: problemText(problem),
      })),
    };
  } else if (isPgferryError(error)) {
    message = error.hint === undefined ? error.message : `${error.message}\nHint: ${error.hint}`;
    failure = {
      title: "pgferry failed",
      message: error.message,
      ...(error.hint ? { hint: error.hint } : {}),
    };
  } else {
    // Not an error a user can act on: a bug. The stack goes to the debug log.
    core.debug(secrets.scrub((error as Error)?.stack ?? String(error)));
    message = `pgferry failed unexpectedly: ${error instanceof Error ? error.message : String(error)}`;
    failure = { title: "pgferry failed unexpectedly", message };
  }
  await writeSummary(renderFailureSummary(failure, { redact }));
  return message;
}
