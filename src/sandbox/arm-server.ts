import { randomBytes, randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AccessToken, TokenCredential } from "@azure/core-auth";
import { ResourceIdError, parseMlResourceId, type MlResourceId } from "../arm/ids.js";
import {
  ML_PROVIDER,
  ML_RESOURCE_TYPES,
  isJsonObject,
  readPath,
  type ArmResource,
  type JsonObject,
  type JsonValue,
  type MlResourceKind,
} from "../arm/resource.js";
import { armErrors, ArmSandboxError } from "./arm-errors.js";
import { TYPE_BEHAVIOUR } from "./arm-types.js";
import { listenHttps, type HttpsListener } from "./https.js";
import { resourceEvent, type ResourceEventType, type SandboxPrincipal } from "./events.js";
import { FaultInjector } from "./faults.js";
import { ResourceStore, type StoredResource } from "./store.js";
import { DiagnosticSettingsEmulator } from "./diagnostic-settings.js";
import { ResourceGraphEmulator } from "./resource-graph.js";

/** api-versions the sandbox answers; 2022-10-01 is what @azure/arm-machinelearning 2.1.1 sends. */
export const SANDBOX_API_VERSIONS = ["2022-10-01", "2023-04-01", "2024-04-01", "2024-10-01", "2025-06-01", "2025-09-01"] as const;
/** The principal the sandbox attributes seeded resources and anonymous credentials to. */
export const SANDBOX_OPERATOR: SandboxPrincipal = {
  objectId: "00000000-0000-0000-0000-00000000a11e",
  name: "sandbox-operator@contoso.example",
  type: "User",
};
const MAX_BODY_BYTES = 4 * 1024 * 1024; // ARM rejects request bodies over 4 MB.

export interface ArmSandboxOptions {
  /** Items per list page before a nextLink (ARM pages are service-defined; small values exercise paging). */
  pageSize?: number;
  /** Status polls a long-running operation needs before it completes. */
  pollsToComplete?: number;
  /**
   * Retry-After the sandbox sends on LRO responses. Azure sends 10 or more; 0 (the default) keeps tests and the
   * demo fast, and clients must cope with either.
   */
  lroRetryAfterSeconds?: number;
  /** Operations complete on their own after this long if nobody polls them (default 1000 ms). */
  operationDurationMs?: number;
  /**
   * ARM's per-subscription write budget (token bucket: this many, refilled over an hour), reported in
   * x-ms-ratelimit-remaining-subscription-writes; an empty bucket answers 429 with Retry-After.
   */
  writesPerHour?: number;
}

export interface RequestRecord {
  method: string;
  path: string;
  status: number;
  principalId?: string;
  /** Time the sandbox spent on the request, injected latency included (benchmarks report it apart). */
  durationMs?: number;
}

interface Operation {
  id: string;
  location: string;
  subscriptionId: string;
  method: "PUT" | "PATCH" | "DELETE" | "POST";
  resourceKey: string;
  status: "InProgress" | "Succeeded" | "Failed";
  polls: number;
  startTime: string;
  endTime?: string;
  willFail: boolean;
  principalId: string;
  complete: () => void;
  fail: () => void;
}

/** The embedded ARM emulator for Microsoft.MachineLearningServices. Behaviour sources: docs/sandbox.md. */
export class ArmSandbox {
  readonly faults = new FaultInjector();
  readonly requests: RequestRecord[] = [];
  /** Every long-running operation that finished: what was written, by whom, and whether it took effect. */
  readonly completedOperations: Array<{ resourceId: string; method: string; status: "Succeeded" | "Failed"; principalId: string }> = [];
  private readonly store = new ResourceStore();
  /** Diagnostic settings, the extension resource on the stored resources. */
  private readonly diagnosticSettings = new DiagnosticSettingsEmulator();
  /** Azure Resource Graph over the same store, at the same endpoint (management.azure.com). */
  private readonly resourceGraph = new ResourceGraphEmulator(this.store, () => this.subscriptions);
  private readonly resourceGroups = new Set<string>();
  private readonly subscriptions = new Set<string>();
  private readonly operations = new Map<string, Operation>();
  private readonly tokens = new Map<string, SandboxPrincipal>();
  private readonly eventListeners: Array<(event: JsonObject) => void> = [];
  private readonly pageSize: number;
  private readonly pollsToComplete: number;
  private readonly lroRetryAfterSeconds: number;
  private readonly operationDurationMs: number;
  private readonly writesPerHour: number;
  private readonly writeBuckets = new Map<string, { tokens: number; at: number }>();
  private listener?: HttpsListener;
  endpoint = "";
  ca = "";

  constructor(options: ArmSandboxOptions = {}) {
    this.pageSize = options.pageSize ?? 100;
    this.pollsToComplete = options.pollsToComplete ?? 1;
    this.lroRetryAfterSeconds = options.lroRetryAfterSeconds ?? 0;
    this.operationDurationMs = options.operationDurationMs ?? 1000;
    this.writesPerHour = options.writesPerHour ?? 1200;
  }

  async start(port = 0): Promise<this> {
    this.listener = await listenHttps((req, res) => this.handle(req, res), port);
    this.ca = this.listener.ca;
    this.endpoint = `https://localhost:${this.listener.port}`;
    return this;
  }

  async close(): Promise<void> {
    await this.listener?.close();
  }


  /** A credential whose tokens the sandbox accepts, attributed to the given principal. */
  credential(principal: SandboxPrincipal = SANDBOX_OPERATOR): TokenCredential {
    const token = `sandbox.${randomBytes(16).toString("hex")}`;
    this.tokens.set(token, principal);
    return {
      getToken: async (): Promise<AccessToken> => ({ token, expiresOnTimestamp: Date.now() + 3600_000 }),
    };
  }

  /** Seeds resources directly (scenario files, tests); ids must be supported ML types. */
  seed(resources: ArmResource[], options: { resourceGroups?: Array<{ subscriptionId: string; name: string }> } = {}): void {
    for (const group of options.resourceGroups ?? []) this.addResourceGroup(group.subscriptionId, group.name);
    for (const input of resources) {
      const id = parseMlResourceId(input.id);
      this.addResourceGroup(id.subscriptionId, id.resourceGroup);
      // Seeds are the service's own state: read-only properties (private endpoint connections...) are kept.
      const resource = this.materialize(id, structuredClone(input), undefined, SANDBOX_OPERATOR.objectId, { keepReadOnly: true });
      setPath(resource, "properties.provisioningState", "Succeeded");
      this.store.set(id.id.toLowerCase(), { resource, etag: newEtag() });
    }
  }

  /** The stored resource, as GET would return it (a copy). */
  resource(id: string): ArmResource | undefined {
    const stored = this.store.get(id.toLowerCase());
    return stored ? structuredClone(stored.resource) : undefined;
  }

  /** Subscribes to the subscription system-topic events ARM would publish for completed writes and actions. */
  onEvent(listener: (event: JsonObject) => void): void {
    this.eventListeners.push(listener);
  }


  private addResourceGroup(subscriptionId: string, name: string): void {
    this.subscriptions.add(subscriptionId.toLowerCase());
    this.resourceGroups.add(`${subscriptionId}/${name}`.toLowerCase());
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "https://localhost");
    const method = (req.method ?? "GET").toUpperCase();
    const started = performance.now();
    const record: RequestRecord = { method, path: url.pathname, status: 0 };
    this.requests.push(record);
    const { latencyMs, fault } = this.faults.take(method, url.pathname);
    if (latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, latencyMs));
    try {
      if (fault?.kind === "drop") {
        record.status = -1;
        req.socket.destroy();
        return;
      }
      if (fault?.kind === "throttle") throw armErrors.throttled(fault.retryAfterSeconds ?? 1);
      if (fault?.kind === "server-error") throw armErrors.serverError(fault.statusCode ?? 500);
      const caller = this.authenticate(req);
      record.principalId = caller.objectId;
      const apiVersion = url.searchParams.get("api-version");
      if (!apiVersion) throw armErrors.missingApiVersion();
      const body = await readJsonBody(req);
      const ifMatch = typeof req.headers["if-match"] === "string" ? req.headers["if-match"] : undefined;
      const quota = this.writeQuota(method, url.pathname);
      const reply = RESOURCE_GRAPH_PATH.test(url.pathname)
        ? this.resourceGraph.query(method, apiVersion, body)
        : this.route({ method, url, apiVersion, body, caller, ifMatch, lroFailure: fault?.kind === "lro-failure" });
      if (quota !== undefined) reply.headers["x-ms-ratelimit-remaining-subscription-writes"] = String(quota);
      record.status = reply.status;
      record.durationMs = performance.now() - started;
      send(res, reply.status, reply.body, { "x-ms-request-id": randomUUID(), ...reply.headers });
    } catch (error) {
      const armError = error instanceof ArmSandboxError ? error : armErrors.serverError(500);
      record.status = armError.statusCode;
      record.durationMs = performance.now() - started;
      send(res, armError.statusCode, armError.body(), { "x-ms-request-id": randomUUID(), ...armError.headers });
    }
  }

  /** Takes one write token for the request's subscription; undefined for reads. Empty bucket: 429. */
  private writeQuota(method: string, path: string): number | undefined {
    if (method === "GET" || RESOURCE_GRAPH_PATH.test(path)) return undefined;
    const subscription = /^\/subscriptions\/([^/]+)/i.exec(path)?.[1]?.toLowerCase();
    if (!subscription) return undefined;
    const now = Date.now();
    const bucket = this.writeBuckets.get(subscription) ?? { tokens: this.writesPerHour, at: now };
    bucket.tokens = Math.min(this.writesPerHour, bucket.tokens + ((now - bucket.at) / 3_600_000) * this.writesPerHour);
    bucket.at = now;
    this.writeBuckets.set(subscription, bucket);
    if (bucket.tokens < 1) throw armErrors.throttled(Math.ceil(3600 / this.writesPerHour));
    bucket.tokens -= 1;
    return Math.floor(bucket.tokens);
  }

  private authenticate(req: IncomingMessage): SandboxPrincipal {
    const header = req.headers.authorization;
    if (!header) throw armErrors.missingAuthorization();
    const match = /^Bearer (\S+)$/.exec(header);
    const principal = match ? this.tokens.get(match[1]!) : undefined;
    if (!principal) throw armErrors.invalidToken();
    return principal;
  }

  private route({ method, url, apiVersion, body, caller, ifMatch, lroFailure }: RouteInput): Reply {
    const path = url.pathname.replace(/\/+$/, "");
    const operation = OPERATION_PATH.exec(path);
    if (operation) return this.pollOperation(method, operation[2]!.toLowerCase(), operation[3]!);
    if (this.diagnosticSettings.matches(path)) return this.diagnosticSettings.handle(method, path, apiVersion, body, (id) => this.store.has(id.toLowerCase()));
    const collection = this.matchCollection(path);
    if (collection) {
      requireApiVersion(apiVersion, collection.type);
      if (method !== "GET") throw armErrors.methodNotAllowed(method);
      return this.list(collection, url);
    }
    const action = COMPUTE_ACTION.exec(path);
    const id = parseIdOrRoute(action ? action[1]! : path);
    requireApiVersion(apiVersion, ML_RESOURCE_TYPES[id.kind]);
    this.requireScope(id);
    if (action) {
      if (method !== "POST") throw armErrors.methodNotAllowed(method);
      return this.computeAction(id, action[2]!.toLowerCase() as ComputeAction, caller, lroFailure);
    }
    switch (method) {
      case "GET":
        return this.get(id);
      case "PUT":
        return this.put(id, body, caller, lroFailure, ifMatch);
      case "PATCH":
        return this.patch(id, body, caller, lroFailure);
      case "DELETE":
        return this.delete(id, caller, lroFailure);
      default:
        throw armErrors.methodNotAllowed(method);
    }
  }

  private requireScope(id: MlResourceId): void {
    if (!this.subscriptions.has(id.subscriptionId)) throw armErrors.subscriptionNotFound(id.subscriptionId);
    if (!this.resourceGroups.has(`${id.subscriptionId}/${id.resourceGroup}`.toLowerCase())) {
      throw armErrors.resourceGroupNotFound(id.resourceGroup);
    }
    const parent = parentIdOf(id.id);
    if (parent && !this.store.has(parent.toLowerCase())) {
      throw armErrors.parentNotFound("read", ML_RESOURCE_TYPES[id.kind].split("/").slice(1).join("/"), parent);
    }
  }

  private get(id: MlResourceId): Reply {
    const stored = this.requireResource(id);
    return { status: 200, body: stored.resource, headers: { ETag: stored.etag } };
  }

  private requireResource(id: MlResourceId): StoredResource {
    const stored = this.store.get(id.id.toLowerCase());
    if (!stored) {
      const type = ML_RESOURCE_TYPES[id.kind];
      throw armErrors.resourceNotFound(type, [id.parentName, ...id.childNames].join("/"), id.resourceGroup);
    }
    return stored;
  }

  private put(id: MlResourceId, body: JsonValue | undefined, caller: SandboxPrincipal, lroFailure: boolean, ifMatch: string | undefined): Reply {
    if (!isJsonObject(body)) throw armErrors.invalidJson();
    const key = id.id.toLowerCase();
    const existing = this.store.get(key);
    if (ifMatch && ifMatch !== "*" && ifMatch !== existing?.etag) throw armErrors.preconditionFailed();
    if (ifMatch === "*" && !existing) throw armErrors.preconditionFailed();
    if (typeof body.location !== "string" && id.kind !== "compute") {
      throw new ArmSandboxError(400, "LocationRequired", "The location property is required for this definition.");
    }
    if (existing) {
      const existingLocation = existing.resource.location;
      if (typeof body.location === "string" && typeof existingLocation === "string" && normalizeLocation(body.location) !== normalizeLocation(existingLocation)) {
        throw armErrors.invalidLocation(id.id.split("/").pop()!, existingLocation, id.resourceGroup, body.location);
      }
      for (const path of TYPE_BEHAVIOUR[id.kind].createOnly) {
        const before = readPath(existing.resource, path);
        const after = readPath(body, path);
        if (after !== undefined && JSON.stringify(after) !== JSON.stringify(before)) {
          throw armErrors.userError(`The property '${path}' cannot be changed after the resource is created.`, "PropertyCannotBeUpdated");
        }
      }
    }
    const next = this.materialize(id, structuredClone(body), existing?.resource, caller.objectId);
    const shape = LRO_SHAPES[id.kind][existing ? "update" : "create"];
    return this.write(id, "PUT", caller, lroFailure, next, shape, existing ? "Updating" : "Creating");
  }

  private patch(id: MlResourceId, body: JsonValue | undefined, caller: SandboxPrincipal, lroFailure: boolean): Reply {
    if (!isJsonObject(body)) throw armErrors.invalidJson();
    const stored = this.requireResource(id);
    const refusal = TYPE_BEHAVIOUR[id.kind].checkPatch(body, stored.resource);
    if (refusal) throw armErrors.userError(refusal, "BadArgument");
    const merged = mergePatch(structuredClone(stored.resource), body) as JsonObject;
    const next = this.materialize(id, merged, stored.resource, caller.objectId);
    return this.write(id, "PATCH", caller, lroFailure, next, LRO_SHAPES[id.kind].patch, "Updating");
  }

  /**
   * Stores the desired state at once with a transitional provisioningState (what GET shows while ARM works), then
   * completes the operation: Succeeded and a ResourceWriteSuccess event, or, on an injected failure, the previous
   * state with provisioningState Failed.
   */
  private write(id: MlResourceId, method: "PUT" | "PATCH", caller: SandboxPrincipal, lroFailure: boolean, next: ArmResource, shape: LroShape, during: string): Reply {
    const key = id.id.toLowerCase();
    const previous = this.store.get(key);
    const pending = structuredClone(next);
    setPath(pending, "properties.provisioningState", shape.sync ? "Succeeded" : during);
    this.store.set(key, { resource: pending, etag: newEtag() });
    const succeed = (): void => {
      const current = this.store.get(key);
      if (!current) return;
      setPath(current.resource, "properties.provisioningState", "Succeeded");
      current.etag = newEtag();
      this.emit("Microsoft.Resources.ResourceWriteSuccess", id, `${ML_RESOURCE_TYPES[id.kind]}/write`, caller, method);
    };
    if (shape.sync) {
      succeed();
      const stored = this.store.get(key)!;
      return { status: 200, body: stored.resource, headers: { ETag: stored.etag } };
    }
    const operation = this.startOperation(id, method, key, lroFailure, succeed, () => {
      const restored = previous ? structuredClone(previous.resource) : pending;
      setPath(restored, "properties.provisioningState", "Failed");
      this.store.set(key, { resource: restored, etag: newEtag() });
    }, caller.objectId);
    return this.accepted(operation, shape);
  }

  private delete(id: MlResourceId, caller: SandboxPrincipal, lroFailure: boolean): Reply {
    const key = id.id.toLowerCase();
    const stored = this.store.get(key);
    if (!stored) return { status: 204, body: undefined, headers: {} };
    setPath(stored.resource, "properties.provisioningState", "Deleting");
    const operation = this.startOperation(id, "DELETE", key, lroFailure, () => {
      this.store.deleteTree(key);
      this.emit("Microsoft.Resources.ResourceDeleteSuccess", id, `${ML_RESOURCE_TYPES[id.kind]}/delete`, caller, "DELETE");
    }, () => setPath(stored.resource, "properties.provisioningState", "Failed"), caller.objectId);
    return this.accepted(operation, LRO_SHAPES[id.kind].delete);
  }

  private computeAction(id: MlResourceId, action: ComputeAction, caller: SandboxPrincipal, lroFailure: boolean): Reply {
    if (id.kind !== "compute") throw armErrors.noRoute(id.id);
    const stored = this.requireResource(id);
    const type = readPath(stored.resource, "properties.computeType");
    if (typeof type !== "string" || type.toLowerCase() !== "computeinstance") {
      throw armErrors.userError(`Operation '${action}' is supported for ComputeInstance only; this compute is ${String(type)}.`, "NotSupported");
    }
    const transitions: Record<ComputeAction, [string, string]> = {
      start: ["Starting", "Running"],
      stop: ["Stopping", "Stopped"],
      restart: ["Restarting", "Running"],
    };
    const [during, after] = transitions[action];
    const key = id.id.toLowerCase();
    const before = readPath(stored.resource, "properties.properties.state");
    setPath(stored.resource, "properties.properties.state", during);
    const operation = this.startOperation(id, "POST", key, lroFailure, () => {
      const current = this.store.get(key);
      if (!current) return;
      setPath(current.resource, "properties.properties.state", after);
      setPath(current.resource, "properties.properties.lastOperation", {
        operationName: action.charAt(0).toUpperCase() + action.slice(1),
        operationTime: new Date().toISOString(),
        operationStatus: "Succeeded",
        operationTrigger: "User",
      });
      stampModified(current.resource, caller.objectId);
      current.etag = newEtag();
      this.emit("Microsoft.Resources.ResourceActionSuccess", id, `${ML_RESOURCE_TYPES[id.kind]}/${action}/action`, caller, "POST");
    }, () => {
      const current = this.store.get(key);
      if (current) setPath(current.resource, "properties.properties.state", before ?? "Unknown");
    }, caller.objectId);
    return this.accepted(operation, ACTION_SHAPE);
  }

  private emit(eventType: ResourceEventType, id: MlResourceId, operationName: string, caller: SandboxPrincipal, method: string): void {
    if (this.eventListeners.length === 0) return;
    const event = resourceEvent({ eventType, resourceUri: id.id, operationName, principal: caller, method, url: `https://management.azure.com${id.id}` });
    for (const listener of this.eventListeners) listener(event);
  }

  private startOperation(id: MlResourceId, method: Operation["method"], resourceKey: string, willFail: boolean, complete: () => void, fail: () => void, principalId = ""): Operation {
    const stored = this.store.get(resourceKey);
    const storedLocation = stored?.resource.location;
    const operation: Operation = {
      id: randomUUID(),
      location: normalizeLocation(typeof storedLocation === "string" ? storedLocation : "eastus"),
      subscriptionId: id.subscriptionId,
      method,
      resourceKey,
      status: "InProgress",
      polls: 0,
      startTime: new Date().toISOString(),
      willFail,
      principalId,
      complete,
      fail,
    };
    this.operations.set(operation.id, operation);
    // Operations also finish on their own, as in Azure, whether or not anyone polls.
    setTimeout(() => this.finish(operation), this.operationDurationMs).unref();
    return operation;
  }

  private finish(operation: Operation): void {
    if (operation.status !== "InProgress") return;
    operation.endTime = new Date().toISOString();
    this.completedOperations.push({ resourceId: operation.resourceKey, method: operation.method, status: operation.willFail ? "Failed" : "Succeeded", principalId: operation.principalId });
    if (operation.willFail) {
      operation.status = "Failed";
      operation.fail();
    } else {
      operation.status = "Succeeded";
      operation.complete();
    }
  }

  /** The initial response of a long-running operation, with the status code and headers the spec declares for it. */
  private accepted(operation: Operation, shape: LroShape): Reply {
    const base = `${this.endpoint}/subscriptions/${operation.subscriptionId}/providers/${ML_PROVIDER}/locations/${operation.location}`;
    const query = `?api-version=2025-09-01`;
    const headers: Record<string, string> = { "Retry-After": String(this.lroRetryAfterSeconds) };
    if (shape.asyncOperation) headers["Azure-AsyncOperation"] = `${base}/mfeOperationsStatus/${operation.id}${query}`;
    if (shape.location) headers.Location = `${base}/mfeOperationResults/${operation.id}${query}`;
    if (shape.timeout) headers["x-ms-async-operation-timeout"] = "PT1H";
    const stored = this.store.get(operation.resourceKey);
    if (shape.status === 202 || !stored) return { status: shape.status, body: undefined, headers };
    return { status: shape.status, body: stored.resource, headers: { ...headers, ETag: stored.etag } };
  }

  private pollOperation(method: string, kind: string, operationId: string): Reply {
    if (method !== "GET") throw armErrors.methodNotAllowed(method);
    const operation = this.operations.get(operationId);
    if (!operation) throw new ArmSandboxError(404, "NotFound", `Operation '${operationId.slice(0, 64)}' was not found.`);
    operation.polls += 1;
    if (operation.polls >= this.pollsToComplete) this.finish(operation);
    const retry = { "Retry-After": String(this.lroRetryAfterSeconds) };
    if (kind === "mfeoperationsstatus") {
      const body: JsonObject = {
        id: operation.id,
        name: operation.id,
        status: operation.status,
        startTime: operation.startTime,
        ...(operation.endTime ? { endTime: operation.endTime } : {}),
        ...(operation.status === "Failed"
          ? { error: { code: "OperationFailed", message: "The operation failed in the sandbox (injected lro-failure fault)." } }
          : {}),
      };
      return { status: 200, body, headers: operation.status === "InProgress" ? retry : {} };
    }
    // mfeOperationResults (the Location URL): 202 while running, then the final result.
    if (operation.status === "InProgress") return { status: 202, body: undefined, headers: retry };
    if (operation.status === "Failed") {
      throw new ArmSandboxError(409, "OperationFailed", "The operation failed in the sandbox (injected lro-failure fault).");
    }
    const stored = this.store.get(operation.resourceKey);
    if ((operation.method === "PATCH" || operation.method === "PUT") && stored) return { status: 200, body: stored.resource, headers: { ETag: stored.etag } };
    return { status: 204, body: undefined, headers: {} };
  }

  private matchCollection(path: string): Collection | undefined {
    const top = TOP_COLLECTION.exec(path);
    if (top) {
      const [, subscriptionId, resourceGroup, typeName] = top;
      const kind: MlResourceKind = typeName!.toLowerCase() === "workspaces" ? "workspace" : "registry";
      const subscription = subscriptionId!.toLowerCase();
      if (!this.subscriptions.has(subscription)) throw armErrors.subscriptionNotFound(subscriptionId!);
      if (resourceGroup && !this.resourceGroups.has(`${subscription}/${resourceGroup}`.toLowerCase())) {
        throw armErrors.resourceGroupNotFound(resourceGroup);
      }
      const prefix = resourceGroup
        ? `/subscriptions/${subscription}/resourcegroups/${resourceGroup.toLowerCase()}/`
        : `/subscriptions/${subscription}/`;
      const suffix = `/providers/${ML_PROVIDER.toLowerCase()}/${typeName!.toLowerCase()}`;
      return { type: ML_RESOURCE_TYPES[kind], items: () => this.store.inCollections((c) => c.startsWith(prefix) && c.endsWith(suffix) && c.split("/").length === 8) };
    }
    const child = CHILD_COLLECTION.exec(path);
    if (!child) return undefined;
    const parent = parseIdOrRoute(child[1]!);
    const childType = child[2]!.toLowerCase();
    const expected: Record<string, [MlResourceKind, MlResourceKind]> = {
      computes: ["workspace", "compute"],
      onlineendpoints: ["workspace", "onlineEndpoint"],
      deployments: ["onlineEndpoint", "onlineDeployment"],
    };
    const shape = expected[childType];
    if (!shape || parent.kind !== shape[0]) return undefined;
    this.requireScope(parent);
    this.requireResource(parent);
    const collection = `${parent.id.toLowerCase()}/${childType}`;
    return { type: ML_RESOURCE_TYPES[shape[1]], items: () => this.store.inCollections((c) => c === collection) };
  }

  private list(collection: Collection, url: URL): Reply {
    const all = collection.items().map((stored) => stored.resource);
    const skip = Number(url.searchParams.get("$skipToken") ?? "0");
    const start = Number.isInteger(skip) && skip >= 0 ? skip : 0;
    const value = all.slice(start, start + this.pageSize);
    const body: JsonObject = { value };
    if (start + this.pageSize < all.length) {
      const apiVersion = encodeURIComponent(url.searchParams.get("api-version")!);
      body.nextLink = `${this.endpoint}${url.pathname}?api-version=${apiVersion}&$skipToken=${start + this.pageSize}`;
    }
    return { status: 200, body, headers: {} };
  }

  /** Fills what the service owns: id, name, type, systemData, read-only properties kept from before. */
  private materialize(id: MlResourceId, body: JsonObject, existing: ArmResource | undefined, principalId: string, options: { keepReadOnly?: boolean } = {}): ArmResource {
    const behaviour = TYPE_BEHAVIOUR[id.kind];
    for (const path of options.keepReadOnly ? [] : behaviour.readOnly) {
      const kept = existing ? readPath(existing, path) : undefined;
      if (kept === undefined) deletePath(body, path);
      else setPath(body, path, structuredClone(kept));
    }
    const names = [id.parentName, ...id.childNames];
    const resource: ArmResource = {
      ...body,
      id: existing?.id ?? id.id,
      name: names[names.length - 1]!,
      type: ML_RESOURCE_TYPES[id.kind],
    };
    if (!isJsonObject(resource.properties)) resource.properties = {};
    resource.systemData = isJsonObject(existing?.systemData) ? structuredClone(existing.systemData) : {
      createdAt: new Date().toISOString(),
      createdBy: principalId,
      createdByType: "Application",
    };
    stampModified(resource, principalId);
    return resource;
  }
}

type ComputeAction = "start" | "stop" | "restart";

interface LroShape {
  status: 200 | 201 | 202;
  sync?: boolean;
  asyncOperation?: boolean;
  location?: boolean;
  timeout?: boolean;
}

/** Initial responses per operation, as the 2025-09-01 spec and its examples declare them (docs/arm-spec-notes.md §7). */
const LRO_SHAPES: Record<MlResourceKind, { create: LroShape; update: LroShape; patch: LroShape; delete: LroShape }> = {
  workspace: {
    create: { status: 202, location: true },
    update: { status: 202, location: true },
    patch: { status: 202, location: true },
    delete: { status: 202, location: true },
  },
  compute: {
    create: { status: 201, asyncOperation: true },
    update: { status: 200, asyncOperation: true },
    // Compute_Update declares only 200; its example carries Azure-AsyncOperation.
    patch: { status: 200, asyncOperation: true },
    delete: { status: 202, asyncOperation: true, location: true },
  },
  onlineEndpoint: {
    create: { status: 201, asyncOperation: true, timeout: true },
    update: { status: 200, asyncOperation: true, timeout: true },
    patch: { status: 202, location: true, timeout: true },
    delete: { status: 202, location: true, timeout: true },
  },
  onlineDeployment: {
    create: { status: 201, asyncOperation: true, timeout: true },
    update: { status: 200, asyncOperation: true, timeout: true },
    patch: { status: 202, location: true, timeout: true },
    delete: { status: 202, location: true, timeout: true },
  },
  registry: {
    create: { status: 201, asyncOperation: true },
    update: { status: 200, asyncOperation: true },
    // Registries_Update is not long-running.
    patch: { status: 200, sync: true },
    delete: { status: 202, location: true, timeout: true },
  },
};

// Compute start/stop/restart: 202; the stop and restart examples carry Azure-AsyncOperation, start's Location.
const ACTION_SHAPE: LroShape = { status: 202, asyncOperation: true, location: true };

interface RouteInput {
  method: string;
  url: URL;
  apiVersion: string;
  body: JsonValue | undefined;
  caller: SandboxPrincipal;
  ifMatch: string | undefined;
  lroFailure: boolean;
}

interface Collection {
  type: string;
  items: () => StoredResource[];
}

interface Reply {
  status: number;
  body: JsonValue | undefined;
  headers: Record<string, string>;
}

const SEGMENT = "[^/]+";
const RESOURCE_GRAPH_PATH = /^\/providers\/Microsoft\.ResourceGraph\/resources$/i;
const TOP_COLLECTION = new RegExp(
  `^/subscriptions/(${SEGMENT})(?:/resourceGroups/(${SEGMENT}))?/providers/${ML_PROVIDER}/(workspaces|registries)$`,
  "i",
);
const CHILD_COLLECTION = new RegExp(`^(/subscriptions/.+)/(computes|onlineEndpoints|deployments)$`, "i");
const COMPUTE_ACTION = new RegExp(`^(/subscriptions/.+/computes/${SEGMENT})/(start|stop|restart)$`, "i");
const OPERATION_PATH = new RegExp(
  `^/subscriptions/(${SEGMENT})/providers/${ML_PROVIDER}/locations/${SEGMENT}/(mfeOperationsStatus|mfeOperationResults)/(${SEGMENT})$`,
  "i",
);

function parseIdOrRoute(path: string): MlResourceId {
  try {
    return parseMlResourceId(path);
  } catch (error) {
    if (error instanceof ResourceIdError) throw armErrors.noRoute(path);
    throw error;
  }
}

function requireApiVersion(version: string, type: string): void {
  if (!(SANDBOX_API_VERSIONS as readonly string[]).includes(version)) {
    throw armErrors.unsupportedApiVersion(version, type.split("/").slice(1).join("/"), SANDBOX_API_VERSIONS);
  }
}

function parentIdOf(id: string): string | undefined {
  const segments = id.split("/");
  // /subscriptions/s/resourceGroups/g/providers/P/type/name = 9 segments; children add pairs.
  return segments.length > 9 ? segments.slice(0, -2).join("/") : undefined;
}

function normalizeLocation(location: string): string {
  return location.replace(/\s+/g, "").toLowerCase();
}

function newEtag(): string {
  return `"${randomBytes(8).toString("hex")}"`;
}

function stampModified(resource: ArmResource, principalId: string): void {
  const systemData = isJsonObject(resource.systemData) ? resource.systemData : {};
  systemData.lastModifiedAt = new Date().toISOString();
  systemData.lastModifiedBy = principalId;
  systemData.lastModifiedByType = "Application";
  resource.systemData = systemData;
}

export function setPath(target: JsonObject, path: string, value: JsonValue): void {
  const keys = path.split(".");
  let current = target;
  for (const key of keys.slice(0, -1)) {
    const next = current[key];
    if (!isJsonObject(next)) current[key] = {};
    current = current[key] as JsonObject;
  }
  current[keys[keys.length - 1]!] = value;
}

function deletePath(target: JsonObject, path: string): void {
  const keys = path.split(".");
  const parent = readPath(target, keys.slice(0, -1).join("."));
  if (keys.length === 1) delete target[keys[0]!];
  else if (isJsonObject(parent)) delete parent[keys[keys.length - 1]!];
}

/** JSON merge patch (RFC 7396), the semantics of ARM PATCH: objects merge, null deletes, anything else replaces. */
function mergePatch(target: JsonValue, patch: JsonValue): JsonValue {
  if (!isJsonObject(patch)) return patch;
  const result: JsonObject = isJsonObject(target) ? target : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key] ?? null, value);
  }
  return result;
}

async function readJsonBody(req: IncomingMessage): Promise<JsonValue | undefined> {
  const declared = Number(req.headers["content-length"] ?? "0");
  if (declared > MAX_BODY_BYTES) throw armErrors.tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw armErrors.tooLarge();
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return undefined;
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8")) as JsonValue;
  } catch {
    throw armErrors.invalidJson();
  }
}

function send(res: ServerResponse, status: number, body: JsonValue | undefined, headers: Record<string, string>): void {
  const payload = body === undefined ? "" : JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    ...(payload ? { "Content-Type": "application/json; charset=utf-8" } : {}),
    "Content-Length": Buffer.byteLength(payload),
  });
  res.end(payload);
}
