import type { ConnectionConfig, MigrationSpec, SpecProblem, SpecResult } from "../engine/index.js";
import { CONTROL_KEYS, OUTPUT_KEYS } from "./args.js";

/** How the Pulumi engine sends a value it does not know yet (a preview with outputs of resources to come). */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
/** The serialized provider, which Pulumi adds to the inputs and outputs of every dynamic resource. */
export const PROVIDER_KEY = "__provider";

export type Props = Record<string, unknown>;
export type Validate = (value: unknown) => SpecResult;

/** One Pulumi check failure: the input property it concerns and why. */
export interface CheckFailure {
  property: string;
  reason: string;
}

/** The pgferry spec inside a property bag (inputs, or a state that echoes them): everything but the rest. */
export function specDocument(props: Props): Props {
  const skip = new Set<string>([PROVIDER_KEY, ...CONTROL_KEYS, ...OUTPUT_KEYS]);
  return Object.fromEntries(Object.entries(props).filter(([key]) => !skip.has(key)));
}

/** The inputs as they are echoed in the state: every input, nothing derived. */
export function echoedInputs(props: Props): Props {
  const skip = new Set<string>([PROVIDER_KEY, ...OUTPUT_KEYS]);
  return Object.fromEntries(Object.entries(props).filter(([key]) => !skip.has(key)));
}

/** Paths (`tables[1].name`, as the validator writes them) of every unknown value inside `value`. */
export function unknownPaths(value: unknown, path = ""): string[] {
  if (value === UNKNOWN) return [path];
  if (Array.isArray(value)) return value.flatMap((item, index) => unknownPaths(item, `${path}[${index}]`));
  if (typeof value === "object" && value !== null) {
    return Object.entries(value).flatMap(([key, item]) => unknownPaths(item, childPath(path, key)));
  }
  return [];
}

function childPath(path: string, key: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) return `${path}[${JSON.stringify(key)}]`;
  return path === "" ? key : `${path}.${key}`;
}

/** The value with every unknown replaced by null, so that the validator sees a complete document. */
function withoutUnknowns(value: unknown): unknown {
  if (value === UNKNOWN) return null;
  if (Array.isArray(value)) return value.map(withoutUnknowns);
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, withoutUnknowns(item)]));
  }
  return value;
}

/** `a` is `b`, lies inside it, or contains it. */
function related(a: string, b: string): boolean {
  const inside = (inner: string, outer: string) =>
    outer === "" || inner === outer || inner.startsWith(`${outer}.`) || inner.startsWith(`${outer}[`);
  return inside(a, b) || inside(b, a);
}

/**
 * The spec's problems as Pulumi check failures, one per wrong value, each under its top-level input. During a
 * preview, values not known yet are not judged: problems at, inside or around an unknown value are left to the
 * real run, which checks again with every value known.
 */
export function specFailures(validate: Validate, inputs: Props): CheckFailure[] {
  const document = specDocument(inputs);
  const unknown = unknownPaths(document);
  const result = validate(withoutUnknowns(document));
  if (result.ok) return [];
  return result.problems
    .filter((problem) => !unknown.some((path) => related(problem.path, path)))
    .map(toFailure);
}

function toFailure(problem: SpecProblem): CheckFailure {
  const where = problem.path === problem.property ? "" : `${problem.path}: `;
  return { property: problem.property || problem.path, reason: `${where}${problem.message}` };
}

/** The resource's own inputs: `triggers` a list, the two switches booleans; syncOnEveryUpdate needs a delta mode. */
export function controlFailures(inputs: Props): CheckFailure[] {
  const failures: CheckFailure[] = [];
  const { triggers, syncOnEveryUpdate, retainOnDelete, mode } = inputs;
  if (triggers !== undefined && triggers !== UNKNOWN && !Array.isArray(triggers)) {
    failures.push({ property: "triggers", reason: "must be a list of values" });
  }
  for (const [property, value] of Object.entries({ syncOnEveryUpdate, retainOnDelete })) {
    if (value !== undefined && value !== UNKNOWN && typeof value !== "boolean") {
      failures.push({ property, reason: "must be true or false" });
    }
  }
  if (syncOnEveryUpdate === true && (mode === undefined || mode === "full")) {
    failures.push({
      property: "syncOnEveryUpdate",
      reason:
        "applies to the incremental and tables modes; in full mode it would copy everything on every up (change triggers to ask for a new full copy)",
    });
  }
  return failures;
}

/** The normalised spec of a property bag that passed check; an error naming every problem otherwise. */
export function specOf(validate: Validate, props: Props): MigrationSpec {
  const result = validate(specDocument(props));
  if (result.ok) return result.spec;
  const lines = result.problems.map(toFailure).map(({ property, reason }) => `${property}: ${reason}`);
  throw new Error(`invalid MigratedSchema inputs:\n${lines.join("\n")}`);
}

/** What a change of inputs asks of the resource, from the strongest to the weakest. */
export interface Changes {
  /** Inputs whose change replaces the resource: another destination database or target schema. */
  replaces: string[];
  /** Inputs whose change needs the mode to run again. */
  sync: string[];
  /** Inputs that only change how later runs connect or behave (credentials, jobs, switches): stored, no copy. */
  settings: string[];
}

const IDENTITY = ["host", "port", "database"] as const;
const SYNC_KEYS = ["sourceSchema", "mode", "tables", "exclude", "excludeAutoGenerated"] as const;
const SETTING_KEYS = ["jobs", "onLocked", "waitTimeoutSeconds"] as const;

/**
 * Compares the inputs a resource was last run with (echoed in its state) to the new ones, on normalised specs:
 * a URL and the equivalent connection object, or a default written out, are no change. A value not known yet
 * (preview) counts as changed, and as a replacement when it could be another destination or target schema.
 */
export function changesBetween(validate: Validate, olds: Props, news: Props): Changes {
  const oldDocument = specDocument(olds);
  const newDocument = specDocument(news);
  const unknown = unknownPaths(newDocument);
  const isUnknown = (key: string, fields: readonly string[] = []) =>
    unknown.some((path) => path === key || fields.some((field) => path === `${key}.${field}`));
  const hasUnknown = (key: string) => unknown.some((path) => related(path, key));
  // Values not known yet take their old value, so that the known ones can still be compared normalised.
  const probe = { ...newDocument };
  for (const key of Object.keys(newDocument)) {
    if (hasUnknown(key)) {
      if (key in oldDocument) probe[key] = oldDocument[key];
      else delete probe[key];
    }
  }
  const before = validate(oldDocument);
  const after = validate(probe);
  const changes: Changes = { replaces: [], sync: [], settings: [] };
  const keys = [...new Set([...Object.keys(oldDocument), ...Object.keys(newDocument)])];
  if (!before.ok || !after.ok) {
    // A state this version cannot read: compare as written, and copy again on any difference.
    for (const key of keys) {
      if (!sameValue(oldDocument[key], newDocument[key])) {
        (key === "destination" || key === "targetSchema" ? changes.replaces : changes.sync).push(key);
      }
    }
  } else {
    const [a, b] = [before.spec, after.spec];
    const differs = (key: keyof MigrationSpec) => hasUnknown(key) || !sameValue(a[key], b[key]);
    const connection = (key: "source" | "destination", list: string[]) => {
      if (isUnknown(key, IDENTITY) || !sameEndpoint(a[key], b[key])) list.push(key);
      else if (differs(key)) changes.settings.push(key);
    };
    connection("destination", changes.replaces);
    if (differs("targetSchema")) changes.replaces.push("targetSchema");
    connection("source", changes.sync);
    for (const key of SYNC_KEYS) if (differs(key)) changes.sync.push(key);
    if ((a.mode === "tables" || b.mode === "tables") && differs("strategy")) changes.sync.push("strategy");
    for (const key of SETTING_KEYS) if (differs(key)) changes.settings.push(key);
  }
  if (!sameValue(olds.triggers, news.triggers)) changes.sync.push("triggers");
  for (const key of ["syncOnEveryUpdate", "retainOnDelete"]) {
    if (!sameValue(olds[key], news[key])) changes.settings.push(key);
  }
  return changes;
}

/** Incremental and tables modes with `syncOnEveryUpdate`: every update is a sync. */
export function syncsOnEveryUpdate(props: Props): boolean {
  return props.syncOnEveryUpdate === true && (props.mode === "incremental" || props.mode === "tables");
}

function sameEndpoint(a: ConnectionConfig, b: ConnectionConfig): boolean {
  return IDENTITY.every((field) => a[field] === b[field]);
}

/** Deep equality of JSON values, object keys in any order; an unknown value equals nothing. */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === UNKNOWN || b === UNKNOWN) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    return (
      Array.isArray(a) &&
      Array.isArray(b) &&
      a.length === b.length &&
      a.every((item, index) => sameValue(item, b[index]))
    );
  }
  if (typeof a === "object" && a !== null && typeof b === "object" && b !== null) {
    const keysA = Object.keys(a).filter((key) => (a as Props)[key] !== undefined);
    const keysB = Object.keys(b).filter((key) => (b as Props)[key] !== undefined);
    return (
      keysA.length === keysB.length && keysA.every((key) => sameValue((a as Props)[key], (b as Props)[key]))
    );
  }
  return a === b;
}
