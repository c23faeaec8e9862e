/** A location inside a spec document: object keys and array indexes, outermost first. */
export type PathSegment = string | number;
export type SpecPath = readonly PathSegment[];

const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `tables[1].strategy`; keys that are not plain words are bracketed and quoted: `source["my key"]`. */
export function formatPath(path: SpecPath): string {
  let text = "";
  for (const segment of path) {
    if (typeof segment === "number") text += `[${segment}]`;
    else if (PLAIN_KEY.test(segment)) text += text === "" ? segment : `.${segment}`;
    else text += `[${JSON.stringify(segment)}]`;
  }
  return text;
}

/** ajv's instancePath (`/tables/1/strategy`, JSON Pointer) as segments; numeric segments of arrays become numbers. */
export function pathFromPointer(pointer: string, root: unknown): PathSegment[] {
  if (pointer === "") return [];
  const path: PathSegment[] = [];
  let node: unknown = root;
  for (const raw of pointer.slice(1).split("/")) {
    const key = raw.replaceAll("~1", "/").replaceAll("~0", "~");
    if (Array.isArray(node)) {
      const index = Number(key);
      path.push(index);
      node = node[index];
    } else {
      path.push(key);
      node = isRecord(node) ? node[key] : undefined;
    }
  }
  return path;
}

export function isWithin(path: SpecPath, prefix: SpecPath): boolean {
  return prefix.length <= path.length && prefix.every((segment, i) => path[i] === segment);
}

export function samePath(a: SpecPath, b: SpecPath): boolean {
  return a.length === b.length && isWithin(a, b);
}

export function valueAt(root: unknown, path: SpecPath): unknown {
  let node = root;
  for (const segment of path) {
    if (typeof segment === "number") node = Array.isArray(node) ? node[segment] : undefined;
    else node = isRecord(node) ? node[segment] : undefined;
  }
  return node;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
