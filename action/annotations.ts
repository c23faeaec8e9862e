/**
 * Annotations: spec problems point at the spec file's line and column; skipped tables are warnings and failed
 * tables errors. Pure functions; `main.ts` hands the result to `core.error` / `core.warning`.
 */
import path from "node:path";
import type { AnnotationProperties } from "@actions/core";
import type { RunReport, SpecProblem } from "../engine/index.js";
import { errorText } from "./log-lines.js";

export interface Annotation {
  level: "error" | "warning";
  message: string;
  properties: AnnotationProperties;
}

/** GitHub shows at most 10 annotations of each level per step; the rest are counted in one more. */
export const ANNOTATIONS_PER_LEVEL = 10;

/** The inputs that stand in for the CLI flags a problem's `origin` names, by the spec property they set. */
const INPUT_FOR_PROPERTY: Record<string, string> = {
  source: "source-url",
  destination: "destination-url",
  mode: "mode",
  tables: "tables",
};

export function specProblemAnnotation(problem: SpecProblem, workspace: string): Annotation {
  return {
    level: "error",
    message: `pgferry: ${problemText(problem)}`,
    properties: problemLocation(problem, workspace),
  };
}

/**
 * The problem without its file position (an annotation carries that itself), naming the Action's inputs where the
 * engine names the CLI flags they stand for.
 */
export function problemText(problem: SpecProblem): string {
  const where = problem.path === "" ? "" : `${problem.path}: `;
  const message = problem.message.replace(
    /--(source|destination|mode|tables)\b(?: URL)?/g,
    (_flag, property: string) => `the ${INPUT_FOR_PROPERTY[property] ?? property} input`,
  );
  if (problem.origin === undefined) return `${where}${message}`;
  const input = problem.origin.startsWith("--") ? INPUT_FOR_PROPERTY[problem.property] : undefined;
  if (input === undefined) return `${problem.origin}: ${where}${message}`;
  const shownPath = problem.path === problem.property ? "" : where;
  return `input ${input}: ${shownPath}${message}`;
}

/** `pgferry.yml:3:7`, or the input a problem came from, for the summary. */
export function problemLocation(problem: SpecProblem, workspace: string): AnnotationProperties {
  if (problem.origin !== undefined || problem.file === undefined) return {};
  const properties: AnnotationProperties = { file: workspaceRelative(problem.file, workspace) };
  if (problem.line !== undefined) properties.startLine = problem.line;
  if (problem.column !== undefined) properties.startColumn = problem.column;
  return properties;
}

export function locationText(problem: SpecProblem, workspace: string): string | undefined {
  const { file, startLine, startColumn } = problemLocation(problem, workspace);
  if (file === undefined) return undefined;
  return [file, startLine, startColumn].filter((part) => part !== undefined).join(":");
}

/**
 * Annotations point at files by their path in the repository: a spec path is made relative to the workspace
 * (the checkout) when it lies inside it, with forward slashes.
 */
export function workspaceRelative(file: string, workspace: string): string {
  const relative = path.relative(workspace, path.resolve(workspace, file));
  if (relative === "" || relative.startsWith("..") || path.isAbsolute(relative)) return file;
  return relative.split(path.sep).join("/");
}

/** A warning per skipped table and an error per failed one, at most ANNOTATIONS_PER_LEVEL of each. */
export function tableAnnotations(report: RunReport, perLevel = ANNOTATIONS_PER_LEVEL): Annotation[] {
  const would = report.dryRun ? "would be " : "";
  const failed = report.tables
    .filter((t) => t.status === "failed")
    .map((t) => `pgferry: table "${t.name}" ${report.dryRun ? "would fail" : "failed"}: ${errorText(t)}`);
  const skipped = report.tables
    .filter((t) => t.status === "skipped")
    .map((t) => `pgferry: table "${t.name}" ${would}skipped: ${t.reason ?? "skipped"}`);
  return [
    ...capped("error", failed, perLevel, report.dryRun ? "tables would fail" : "tables failed"),
    ...capped("warning", skipped, perLevel, `tables ${would}skipped`),
  ];
}

function capped(
  level: Annotation["level"],
  messages: string[],
  perLevel: number,
  what: string,
): Annotation[] {
  const kept = messages.length > perLevel ? messages.slice(0, perLevel - 1) : messages;
  const annotations = kept.map((message): Annotation => ({ level, message, properties: {} }));
  const more = messages.length - kept.length;
  if (more > 0) {
    annotations.push({
      level,
      message: `pgferry: ${more.toLocaleString("en-US")} more ${what}: see the job summary`,
      properties: {},
    });
  }
  return annotations;
}
