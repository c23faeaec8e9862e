/**
 * The real dynamic-provider host of `@pulumi/pulumi` (`cmd/dynamic-provider`), started and spoken to over gRPC
 * the way the Pulumi engine does: one process per command, run from the program's folder, whose first stdout line
 * is its port. Everything else it prints is what Pulumi would show as the provider's diagnostics.
 */
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { createInterface } from "node:readline";
import * as grpc from "@grpc/grpc-js";
import provrpc from "@pulumi/pulumi/proto/provider_grpc_pb.js";
import provproto from "@pulumi/pulumi/proto/provider_pb.js";
import statusproto from "@pulumi/pulumi/proto/status_pb.js";
import structproto from "google-protobuf/google/protobuf/struct_pb.js";

export type Props = Record<string, unknown>;

export interface HostCheckFailure {
  property: string;
  reason: string;
}

export type DiffKind = "none" | "some" | "unknown";

export interface HostDiff {
  changes: DiffKind;
  replaces: string[];
  deleteBeforeReplace: boolean;
}

/** A create or update that failed after the resource came to exist (`ErrorResourceInitFailed`). */
export class ResourceInitError extends Error {
  constructor(
    message: string,
    readonly id: string,
    readonly properties: Props,
    readonly reasons: string[],
  ) {
    super(message);
  }
}

/** Where the resource is, for every call: the engine sends its URN, name and type. */
export interface Target {
  urn: string;
  name: string;
  type: string;
}

type Callback<T> = (error: grpc.ServiceError | null, response: T) => void;

export class ProviderHost {
  private constructor(
    private readonly child: ChildProcess,
    private readonly client: provrpc.ResourceProviderClient,
    /** Lines the host printed besides its port: the provider's logs, as Pulumi would show them. */
    readonly log: string[],
  ) {}

  /** Starts the host in `cwd` (the program folder, whose node_modules has the provider's package). */
  static async start(cwd: string, env: NodeJS.ProcessEnv): Promise<ProviderHost> {
    const script = path.join(cwd, "node_modules", "@pulumi", "pulumi", "cmd", "dynamic-provider", "index.js");
    // The engine address is a placeholder: the dynamic-provider host never calls back.
    const child = spawn(process.execPath, [script, "127.0.0.1:1"], {
      cwd,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const log: string[] = [];
    createInterface({ input: child.stderr! }).on("line", (line) => log.push(line));
    const lines = createInterface({ input: child.stdout! });
    const port = await new Promise<number>((resolve, reject) => {
      const fail = (why: string) => reject(new Error(`the dynamic-provider host ${why}:\n${log.join("\n")}`));
      child.once("exit", (code) => fail(`exited with ${code} before printing its port`));
      lines.once("line", (line) => resolve(Number(line.trim())));
      setTimeout(() => fail("printed no port within 30 s"), 30_000).unref();
    });
    lines.on("line", (line) => log.push(line));
    const client = new provrpc.ResourceProviderClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    const host = new ProviderHost(child, client, log);
    await host.configure();
    return host;
  }

  async stop(): Promise<void> {
    this.client.close();
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once("exit", resolve));
    this.child.kill("SIGTERM");
    await exited;
  }

  /** One unary call: the generated client's methods are overloaded, so each call site names its own. */
  private call<Response>(send: (callback: Callback<Response>) => unknown): Promise<Response> {
    return new Promise((resolve, reject) => {
      send((error, response) => (error ? reject(error) : resolve(response)));
    });
  }

  private async configure(): Promise<void> {
    const request = new provproto.ConfigureRequest();
    request.setArgs(structproto.Struct.fromJavaScript({}));
    request.setAcceptsecrets(true);
    request.setAcceptresources(true);
    const response = await this.call<provproto.ConfigureResponse>((done) =>
      this.client.configure(request, done),
    );
    // The dynamic provider refuses secrets: the engine must send plain values (and keep secrets on its side).
    if (response.getAcceptsecrets()) throw new Error("expected the dynamic provider to refuse secrets");
  }

  async check(
    target: Target,
    olds: Props,
    news: Props,
  ): Promise<{ inputs: Props; failures: HostCheckFailure[] }> {
    const request = new provproto.CheckRequest();
    setTarget(request, target);
    request.setOlds(struct(olds));
    request.setNews(struct(news));
    const response = await this.call<provproto.CheckResponse>((done) => this.client.check(request, done));
    return {
      inputs: response.getInputs()?.toJavaScript() ?? {},
      failures: response
        .getFailuresList()
        .map((failure) => ({ property: failure.getProperty(), reason: failure.getReason() })),
    };
  }

  async diff(target: Target, id: string, olds: Props, news: Props, oldInputs: Props): Promise<HostDiff> {
    const request = new provproto.DiffRequest();
    setTarget(request, target);
    request.setId(id);
    request.setOlds(struct(olds));
    request.setNews(struct(news));
    request.setOldInputs(struct(oldInputs));
    const response = await this.call<provproto.DiffResponse>((done) => this.client.diff(request, done));
    const kinds = provproto.DiffResponse.DiffChanges;
    const changes = response.getChanges();
    return {
      changes: changes === kinds.DIFF_SOME ? "some" : changes === kinds.DIFF_NONE ? "none" : "unknown",
      replaces: response.getReplacesList(),
      deleteBeforeReplace: response.getDeletebeforereplace(),
    };
  }

  async create(target: Target, properties: Props): Promise<{ id: string; properties: Props }> {
    const request = new provproto.CreateRequest();
    setTarget(request, target);
    request.setProperties(struct(properties));
    const response = await this.call<provproto.CreateResponse>((done) =>
      this.client.create(request, done),
    ).catch(rethrowInitFailure);
    return { id: response.getId(), properties: response.getProperties()?.toJavaScript() ?? {} };
  }

  async update(target: Target, id: string, olds: Props, news: Props, oldInputs: Props): Promise<Props> {
    const request = new provproto.UpdateRequest();
    setTarget(request, target);
    request.setId(id);
    request.setOlds(struct(olds));
    request.setNews(struct(news));
    request.setOldInputs(struct(oldInputs));
    const response = await this.call<provproto.UpdateResponse>((done) =>
      this.client.update(request, done),
    ).catch(rethrowInitFailure);
    return response.getProperties()?.toJavaScript() ?? {};
  }

  async read(
    target: Target,
    id: string,
    properties: Props,
    inputs: Props,
  ): Promise<{ id: string; properties: Props }> {
    const request = new provproto.ReadRequest();
    setTarget(request, target);
    request.setId(id);
    request.setProperties(struct(properties));
    request.setInputs(struct(inputs));
    const response = await this.call<provproto.ReadResponse>((done) => this.client.read(request, done));
    return { id: response.getId(), properties: response.getProperties()?.toJavaScript() ?? {} };
  }

  async delete(target: Target, id: string, properties: Props, oldInputs: Props): Promise<void> {
    const request = new provproto.DeleteRequest();
    setTarget(request, target);
    request.setId(id);
    request.setProperties(struct(properties));
    request.setOldInputs(struct(oldInputs));
    await this.call<unknown>((done) => this.client.delete(request, done));
  }
}

function setTarget(
  request: { setUrn(urn: string): unknown; setName(name: string): unknown; setType(type: string): unknown },
  target: Target,
): void {
  request.setUrn(target.urn);
  request.setName(target.name);
  request.setType(target.type);
}

function struct(value: Props): structproto.Struct {
  return structproto.Struct.fromJavaScript(value as Record<string, structproto.JavaScriptValue>);
}

/** The host packs a partial failure into the status details (`grpc-status-details-bin`), as the Go engine reads it. */
function rethrowInitFailure(error: grpc.ServiceError): never {
  const [details] = error.metadata?.get("grpc-status-details-bin") ?? [];
  if (details instanceof Buffer) {
    const status = statusproto.Status.deserializeBinary(details);
    for (const any of status.getDetailsList()) {
      if (any.getTypeName() !== "pulumirpc.ErrorResourceInitFailed") continue;
      const failure = provproto.ErrorResourceInitFailed.deserializeBinary(any.getValue_asU8());
      throw new ResourceInitError(
        error.details,
        failure.getId(),
        failure.getProperties()?.toJavaScript() ?? {},
        failure.getReasonsList(),
      );
    }
  }
  throw error;
}
