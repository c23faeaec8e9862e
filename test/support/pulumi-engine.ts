/**
 * A stand-in for the Pulumi engine, enough to take dynamic resources through their whole lifecycle without the
 * Pulumi CLI (which no npm package carries). The program runs under `pulumi.runtime.setMocks`; each dynamic
 * resource it registers goes to the real dynamic-provider host (Check, Diff, then Create, Update or a
 * replacement, delete-before-replace honoured); `refresh` reads, `destroy` deletes; state persists in a file
 * between commands. As the engine does for a provider that refuses secrets, secret inputs reach the provider
 * unwrapped, and outputs named like a secret input stay secret (in the state file only as "ciphertext").
 */
import { readFile, writeFile } from "node:fs/promises";
import { pathToFileURL } from "node:url";
import pulumi from "@pulumi/pulumi";
import rpc from "@pulumi/pulumi/runtime/rpc.js";
import settings from "@pulumi/pulumi/runtime/settings.js";
import {
  ProviderHost,
  ResourceInitError,
  type HostCheckFailure,
  type Props,
  type Target,
} from "./pulumi-host.js";

export type Command = "up" | "preview" | "refresh" | "destroy";

export interface CommandRequest {
  command: Command;
  /** The program's folder: the host runs there, and the program's own node_modules are there. */
  workDir: string;
  /** The compiled program (`.js`, `.cjs` or `.mjs`); not needed by refresh and destroy. */
  program?: string;
  stateFile: string;
  project: string;
  stack: string;
}

export type StepOp = "create" | "same" | "update" | "replace" | "delete" | "refresh" | "gone";

export interface Step {
  name: string;
  type: string;
  op: StepOp;
  /** Inputs whose change replaces the resource (replace steps). */
  replaces?: string[];
}

export interface CommandResult {
  ok: boolean;
  steps: Step[];
  errors: string[];
  /** Check failures, per resource name. */
  failures: Record<string, HostCheckFailure[]>;
  /** The program's exports; secrets as "[secret]" and unknowns as "[unknown]", as `pulumi stack output` shows them. */
  exports: Record<string, unknown>;
  /** What the provider host printed: Pulumi's diagnostics of the run. */
  hostLog: string[];
}

/** One resource of the state. */
export interface StoredResource extends Target {
  id: string;
  inputs: Props;
  outputs: Props;
  /** Input keys that held a secret: these inputs, and the outputs of the same name, are secret. */
  secretKeys: string[];
}

const DYNAMIC = "pulumi-nodejs:dynamic";
/** A test-only resource whose `output` echoes its `value`, and is unknown during a preview when asked. */
export const VALUE_TYPE = "test:index:Value";

export async function runCommand(request: CommandRequest): Promise<CommandResult> {
  const state = await loadState(request.stateFile);
  const host = await ProviderHost.start(request.workDir, {
    ...process.env,
    PULUMI_NODEJS_PROJECT: request.project,
    PULUMI_PROJECT: request.project,
    PULUMI_NODEJS_STACK: request.stack,
  });
  const engine = new Engine(host, state, request);
  try {
    if (request.command === "up" || request.command === "preview") await engine.runProgram();
    else if (request.command === "refresh") await engine.refresh();
    else await engine.destroy();
  } catch (error) {
    engine.result.errors.push(error instanceof Error ? error.message : String(error));
  } finally {
    await host.stop();
    if (request.command !== "preview") await saveState(request.stateFile, state);
  }
  engine.result.hostLog = host.log;
  engine.result.ok = engine.result.errors.length === 0;
  return engine.result;
}

class Engine {
  readonly result: CommandResult = {
    ok: false,
    steps: [],
    errors: [],
    failures: {},
    exports: {},
    hostLog: [],
  };
  private readonly registered = new Set<string>();
  private readonly preview: boolean;

  constructor(
    private readonly host: ProviderHost,
    private readonly state: StoredResource[],
    private readonly request: CommandRequest,
  ) {
    this.preview = request.command === "preview";
  }

  async runProgram(): Promise<void> {
    const { project, stack, program } = this.request;
    if (program === undefined) throw new Error("up and preview need a program");
    await pulumi.runtime.setMocks(
      {
        newResource: (args) => this.register(args),
        call: (args) => {
          throw new Error(`no invoke in these tests (${args.token})`);
        },
      },
      project,
      stack,
      this.preview,
    );
    // What the language host does with a failed registration: report it and let the program finish. The
    // handlers stay for the life of this one-command process: a failed resource's other outputs reject later.
    const recordFailure = (error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      if (!this.result.errors.some((known) => message.includes(known))) this.result.errors.push(message);
    };
    process.on("unhandledRejection", recordFailure);
    process.on("uncaughtException", recordFailure);
    const namespace = (await import(pathToFileURL(program).href)) as Props;
    // A CommonJS program's exports are its module.exports; an ES module's, its named exports.
    const exported = program.endsWith(".mjs") ? namespace : ((namespace.default ?? {}) as Props);
    for (const [key, value] of Object.entries(exported)) {
      if (key === "default") continue;
      this.result.exports[key] = await shown(value).catch((error: unknown) => (recordFailure(error), null));
    }
    await settings.disconnect();
    if (this.preview || this.result.errors.length > 0) return;
    // Resources the program no longer declares are deleted, the last created first.
    for (const stale of [...this.state].reverse().filter((resource) => !this.registered.has(resource.urn))) {
      await this.delete(stale);
    }
  }

  async refresh(): Promise<void> {
    for (const resource of [...this.state]) {
      if (!resource.type.startsWith(DYNAMIC)) continue;
      const read = await this.host.read(resource, resource.id, resource.outputs, resource.inputs);
      if (read.id === "") {
        this.state.splice(this.state.indexOf(resource), 1);
        this.step(resource, "gone");
      } else {
        resource.outputs = read.properties;
        this.step(resource, "refresh");
      }
    }
  }

  async destroy(): Promise<void> {
    for (const resource of [...this.state].reverse()) await this.delete(resource);
  }

  private step(target: Target, op: StepOp, replaces?: string[]): void {
    this.result.steps.push({ name: target.name, type: target.type, op, ...(replaces ? { replaces } : {}) });
  }

  private async register(args: pulumi.runtime.MockResourceArgs): Promise<pulumi.runtime.MockResourceResult> {
    try {
      return await this.registerStep(args);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (!this.result.errors.includes(message)) this.result.errors.push(message);
      throw error;
    }
  }

  private async registerStep(
    args: pulumi.runtime.MockResourceArgs,
  ): Promise<pulumi.runtime.MockResourceResult> {
    const target = { urn: urnOf(this.request, args.type, args.name), name: args.name, type: args.type };
    this.registered.add(target.urn);
    const { plain, secretKeys } = unwrapInputs(args.inputs as Props);
    if (args.type === VALUE_TYPE) {
      const unknown = this.preview && plain.unknownInPreview === true;
      return { id: args.name, state: { ...plain, output: unknown ? rpc.unknownValue : plain.value } };
    }
    if (!args.type.startsWith(DYNAMIC)) throw new Error(`unexpected resource type ${args.type}`);

    const old = this.state.find((resource) => resource.urn === target.urn);
    const checked = await this.host.check(target, old?.inputs ?? {}, plain);
    if (checked.failures.length > 0) {
      this.result.failures[args.name] = checked.failures;
      const lines = checked.failures.map((failure) => `  ${failure.property}: ${failure.reason}`);
      throw new Error(`${target.urn}: check failed:\n${lines.join("\n")}`);
    }
    const inputs = checked.inputs;
    const fresh = { ...target, id: "", inputs, outputs: {}, secretKeys };

    if (old === undefined) {
      this.step(target, "create");
      if (this.preview) return { id: undefined, state: programView(fresh, inputs) };
      return this.fed(await this.create(fresh));
    }
    const diff = await this.host.diff(target, old.id, old.outputs, inputs, old.inputs);
    const changed = diff.changes === "some" || (diff.changes === "unknown" && !sameJson(old.inputs, inputs));
    if (!changed) {
      this.step(target, "same");
      Object.assign(old, { inputs, secretKeys });
      return this.fed(old);
    }
    if (diff.replaces.length > 0) {
      this.step(target, "replace", diff.replaces);
      if (this.preview) return { id: undefined, state: programView(fresh, inputs) };
      if (diff.deleteBeforeReplace) {
        await this.delete(old, false);
        return this.fed(await this.create(fresh));
      }
      const created = await this.create(fresh, old);
      await this.delete(old, false);
      return this.fed(created);
    }
    this.step(target, "update");
    if (this.preview) return { id: old.id, state: programView(old, inputs) };
    try {
      const outputs = await this.host.update(target, old.id, old.outputs, inputs, old.inputs);
      Object.assign(old, { inputs, outputs, secretKeys });
    } catch (error) {
      // A partial update: the resource keeps the outputs the provider reported.
      if (error instanceof ResourceInitError)
        Object.assign(old, { inputs, outputs: error.properties, secretKeys });
      throw error;
    }
    return this.fed(old);
  }

  /** Creates and records the resource (also when it was only partially created); `before` keeps its place. */
  private async create(resource: StoredResource, before?: StoredResource): Promise<StoredResource> {
    const record = () => {
      const at = before ? this.state.indexOf(before) : -1;
      if (at >= 0) this.state.splice(at, 0, resource);
      else this.state.push(resource);
    };
    try {
      const created = await this.host.create(resource, resource.inputs);
      Object.assign(resource, { id: created.id, outputs: created.properties });
    } catch (error) {
      if (error instanceof ResourceInitError) {
        Object.assign(resource, { id: error.id, outputs: error.properties });
        record();
      }
      throw error;
    }
    record();
    return resource;
  }

  private async delete(resource: StoredResource, recordStep = true): Promise<void> {
    if (resource.type.startsWith(DYNAMIC)) {
      await this.host.delete(resource, resource.id, resource.outputs, resource.inputs);
    }
    this.state.splice(this.state.indexOf(resource), 1);
    if (recordStep) this.step(resource, "delete");
  }

  private fed(resource: StoredResource): pulumi.runtime.MockResourceResult {
    return { id: resource.id, state: programView(resource, resource.outputs) };
  }
}

function urnOf(request: CommandRequest, type: string, name: string): string {
  return `urn:pulumi:${request.stack}::${request.project}::${type}::${name}`;
}

/** Inputs as the provider gets them: secrets unwrapped (remembering which inputs held one), unknowns as the sentinel. */
function unwrapInputs(inputs: Props): { plain: Props; secretKeys: string[] } {
  const secretKeys: string[] = [];
  const plain: Props = {};
  for (const [key, value] of Object.entries(inputs)) {
    const found = { secret: false };
    plain[key] = toWire(value, found);
    if (found.secret) secretKeys.push(key);
  }
  return { plain, secretKeys };
}

function toWire(value: unknown, found: { secret: boolean }): unknown {
  if (pulumi.isUnknown(value)) return rpc.unknownValue;
  if (rpc.isRpcSecret(value)) {
    found.secret = true;
    return toWire((value as { value: unknown }).value, found);
  }
  if (Array.isArray(value)) return value.map((item) => toWire(item, found));
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, toWire(item, found)]));
  }
  return value;
}

/** Properties as the program sees them: secret keys wrapped as secrets (unknown sentinels become unknowns). */
function programView(resource: StoredResource, properties: Props): Props {
  return Object.fromEntries(
    Object.entries(properties).map(([key, value]) => [
      key,
      resource.secretKeys.includes(key) ? { [rpc.specialSigKey]: rpc.specialSecretSig, value } : value,
    ]),
  );
}

/** An exported value as the CLI shows it. */
async function shown(value: unknown): Promise<unknown> {
  if (!pulumi.Output.isInstance(value)) return value;
  // `isKnown` and `promise` are the SDK's internal view of an output, as its own stack export code reads it.
  const output = value as pulumi.Output<unknown> & {
    isKnown: Promise<boolean>;
    promise(withUnknowns?: boolean): Promise<unknown>;
  };
  if (await pulumi.isSecret(output)) return "[secret]";
  const resolved = await output.promise(true);
  const known = (await output.isKnown) && !pulumi.containsUnknowns(resolved);
  return known ? resolved : "[unknown]";
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * The state file: secret values as `{ "ciphertext": … }` (base64 here; a real backend encrypts), so that a
 * password in clear anywhere in the file is a leak the tests can see.
 */
interface StateFile {
  resources: StoredResource[];
}

async function loadState(file: string): Promise<StoredResource[]> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch {
    return [];
  }
  const parsed = JSON.parse(text) as StateFile;
  return parsed.resources.map((resource) => ({
    ...resource,
    inputs: revealSecrets(resource.inputs, resource.secretKeys),
    outputs: revealSecrets(resource.outputs, resource.secretKeys),
  }));
}

async function saveState(file: string, resources: StoredResource[]): Promise<void> {
  const stored: StateFile = {
    resources: resources.map((resource) => ({
      ...resource,
      inputs: hideSecrets(resource.inputs, resource.secretKeys),
      outputs: hideSecrets(resource.outputs, resource.secretKeys),
    })),
  };
  await writeFile(file, `${JSON.stringify(stored, null, 2)}\n`);
}

function hideSecrets(properties: Props, secretKeys: string[]): Props {
  const hidden = { ...properties };
  for (const key of secretKeys) {
    if (key in hidden) {
      hidden[key] = { ciphertext: Buffer.from(JSON.stringify(hidden[key])).toString("base64") };
    }
  }
  return hidden;
}

function revealSecrets(properties: Props, secretKeys: string[]): Props {
  const revealed = { ...properties };
  for (const key of secretKeys) {
    const value = revealed[key] as { ciphertext?: string } | undefined;
    if (value?.ciphertext !== undefined) {
      revealed[key] = JSON.parse(Buffer.from(value.ciphertext, "base64").toString("utf8")) as unknown;
    }
  }
  return revealed;
}
