import { Ajv2020, type ErrorObject, type ValidateFunction } from "ajv/dist/2020.js";
import schemaJson from "../../schemas/migration-spec.schema.json" with { type: "json" };

/**
 * The JSON Schema every spec is validated against, imported as a JSON module so that `tsc` copies it next to the
 * build, and esbuild inlines it into bundles: no path to resolve at run time. Typed explicitly so the published
 * declarations do not import JSON (which would need `resolveJsonModule` in every user's project).
 */
export const migrationSpecSchema: Readonly<Record<string, unknown>> = schemaJson;

let compiled: ValidateFunction | undefined;

/** ajv errors of `value` against the schema (empty when valid); the validator is compiled on first use. */
export function schemaErrors(value: unknown): ErrorObject[] {
  compiled ??= new Ajv2020({ allErrors: true, strict: true, verbose: true }).compile(schemaJson);
  return compiled(value) ? [] : [...(compiled.errors ?? [])];
}

/** A schema node, as far as this module reads it. */
export interface SchemaNode {
  type?: string;
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  description?: string;
  properties?: Record<string, SchemaNode>;
  required?: string[];
  items?: SchemaNode;
  anyOf?: SchemaNode[];
  $ref?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  pattern?: string;
}

export const rootSchema = schemaJson as SchemaNode & { $defs: Record<string, SchemaNode> };

/** `{"$ref": "#/$defs/x", description}` → the definition, with the referring node's own keywords on top. */
export function resolveRef(node: SchemaNode): SchemaNode {
  if (node.$ref === undefined) return node;
  const name = node.$ref.replace(/^#\/\$defs\//, "");
  const target = rootSchema.$defs[name];
  if (target === undefined) throw new Error(`unresolved $ref ${node.$ref}`);
  const { $ref: _ref, ...own } = node;
  return { ...resolveRef(target), ...own };
}

/** The schema nodes that may describe the value at `path` (several where a value may take several shapes). */
export function schemaNodesAt(path: readonly (string | number)[]): SchemaNode[] {
  let nodes: SchemaNode[] = [rootSchema];
  for (const segment of path) {
    const next: SchemaNode[] = [];
    for (const node of nodes.flatMap(expandAlternatives)) {
      const child = typeof segment === "number" ? node.items : node.properties?.[segment];
      if (child !== undefined) next.push(child);
    }
    nodes = next;
  }
  return nodes.flatMap(expandAlternatives);
}

function expandAlternatives(node: SchemaNode): SchemaNode[] {
  const resolved = resolveRef(node);
  return resolved.anyOf === undefined ? [resolved] : resolved.anyOf.flatMap(expandAlternatives);
}
