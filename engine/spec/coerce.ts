import { isRecord, valueAt, type SpecPath } from "./path.js";
import { schemaNodesAt } from "./schema.js";

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/**
 * Turns text into the number or boolean the schema wants at that path, for values that could only arrive as
 * text: `port: ${PGPORT}` after expansion, `--jobs 4` from a flag. Text where a string is allowed stays text
 * (a password of digits stays a string). Returns a copy; `root` is not modified.
 */
export function coerceText(root: unknown, paths: readonly SpecPath[]): unknown {
  let result = root;
  for (const path of paths) {
    const value = valueAt(result, path);
    if (typeof value !== "string") continue;
    const types = new Set(schemaNodesAt(path).map((node) => node.type));
    if (types.has("string") || types.has(undefined)) continue;
    const text = value.trim();
    let coerced: number | boolean | undefined;
    if ((types.has("integer") || types.has("number")) && NUMBER.test(text)) coerced = Number(text);
    else if (types.has("boolean") && (text === "true" || text === "false")) coerced = text === "true";
    if (coerced !== undefined) result = replaceAt(result, path, coerced);
  }
  return result;
}

function replaceAt(root: unknown, path: SpecPath, value: unknown): unknown {
  const [head, ...rest] = path;
  if (head === undefined) return value;
  if (Array.isArray(root) && typeof head === "number") {
    const copy = [...(root as unknown[])];
    copy[head] = replaceAt(copy[head], rest, value);
    return copy;
  }
  if (isRecord(root) && typeof head === "string")
    return { ...root, [head]: replaceAt(root[head], rest, value) };
  return root;
}
