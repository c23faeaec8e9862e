import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from "yaml";
import type { PathSegment, SpecPath } from "./path.js";
import { substituteVariables, type Environment } from "./variables.js";

export interface Position {
  line: number;
  column: number;
}

/** A problem found while reading the text, already placed. */
export interface TextProblem {
  path: SpecPath;
  position: Position;
  message: string;
}

export interface SpecText {
  /** The document as plain data, `${NAME}` expanded; undefined when the YAML itself is broken. */
  value: unknown;
  problems: TextProblem[];
  /** Paths of the strings that had a `${NAME}` expanded (their value may be meant as a number or boolean). */
  expanded: SpecPath[];
  /** Where the node at `path` starts (its key's start with `atKey`); the nearest existing ancestor when absent. */
  locate(path: SpecPath, atKey?: boolean): Position;
}

/**
 * Parses YAML (or JSON) spec text, expands `${NAME}` in every string value, and keeps the source positions so
 * that any later problem can point at its line and column.
 */
export function readSpecText(text: string, env: Environment): SpecText {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, merge: true, uniqueKeys: true });
  const position = (offset: number): Position => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  const locate = (path: SpecPath, atKey = false) => position(offsetOf(doc, path, atKey));

  if (doc.errors.length > 0) {
    const problems = doc.errors.map((error) => ({
      path: [],
      position: position(error.pos[0]),
      // Messages such as `Unexpected scalar token in YAML stream: "…"` quote the text, which may be a password.
      message: `invalid YAML: ${error.message.replace(/: ".*"$/s, "")}`,
    }));
    return { value: undefined, problems, expanded: [], locate };
  }

  const problems: TextProblem[] = [];
  const expanded: SpecPath[] = [];
  forEachStringScalar(doc.contents, [], (node, path) => {
    const original = node.value as string;
    if (!original.includes("${")) return;
    const result = substituteVariables(original, env);
    const [start, end] = node.range ?? [0, 0];
    const source = text.slice(start, end);
    let searchFrom = 0;
    for (const problem of result.problems) {
      const index = source.indexOf(problem.reference, searchFrom);
      if (index >= 0) searchFrom = index + problem.reference.length;
      problems.push({ path, position: position(start + Math.max(index, 0)), message: problem.message });
    }
    node.value = result.value;
    if (result.substituted) expanded.push(path);
  });

  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    problems.push({ path: [], position: position(0), message: `invalid YAML: ${(error as Error).message}` });
  }
  return { value, problems, expanded, locate };
}

type ScalarNode = Node & { value: unknown };

function forEachStringScalar(
  node: unknown,
  path: PathSegment[],
  visit: (node: ScalarNode, path: SpecPath) => void,
): void {
  if (isMap(node)) {
    for (const pair of node.items) {
      const key = keyOf(pair.key);
      if (key !== undefined) forEachStringScalar(pair.value, [...path, key], visit);
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, index) => forEachStringScalar(item, [...path, index], visit));
  } else if (isScalar(node) && typeof node.value === "string") {
    visit(node, path);
  }
}

function keyOf(key: unknown): string | undefined {
  return isScalar(key) ? String(key.value) : undefined;
}

function offsetOf(doc: Document, path: SpecPath, atKey: boolean): number {
  let node: unknown = doc.contents;
  let offset = startOf(node) ?? 0;
  let keyOffset: number | undefined;
  for (const segment of path) {
    if (isAlias(node)) node = node.resolve(doc);
    let next: unknown;
    if (isMap(node)) {
      const pair = node.items.find((item) => keyOf(item.key) === String(segment));
      if (pair === undefined) return offset;
      keyOffset = startOf(pair.key);
      next = pair.value;
      // `key:` with nothing after it has an empty value node: point at the key.
      offset = (isEmpty(next) ? undefined : startOf(next)) ?? keyOffset ?? offset;
    } else if (isSeq(node) && typeof segment === "number" && segment < node.items.length) {
      keyOffset = undefined;
      next = node.items[segment];
      offset = startOf(next) ?? offset;
    } else {
      return offset;
    }
    node = next;
  }
  return atKey && keyOffset !== undefined ? keyOffset : offset;
}

function isEmpty(node: unknown): boolean {
  return isScalar(node) && node.value === null && node.range != null && node.range[0] === node.range[1];
}

function startOf(node: unknown): number | undefined {
  if (isScalar(node) || isMap(node) || isSeq(node) || isAlias(node)) return node.range?.[0];
  return undefined;
}
