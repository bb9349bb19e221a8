import { isJsonObject } from "../../arm/resource.js";
import { randomBytes, randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AccessToken, TokenCredential } from "@azure/core-auth";
import { parseMlResourceId, type MlResourceId } from "../../arm/ids.js";
import type { ArmResource, JsonObject, JsonValue } from "../../arm/resource.js";
import { armErrors, ArmSandboxError } from "../arm-errors.js";
import { DiagnosticSettingsEmulator } from "../diagnostic-settings.js";
import { resourceEvent, type SandboxPrincipal } from "../events.js";
import { FaultInjector } from "../faults.js";
import { listenHttps, type HttpsListener } from "../https.js";
import { SandboxAuthority } from "../openid.js";
import { ResourceGraphEmulator } from "../resource-graph.js";
import { COMPUTE_ACTION, computeAction, type ComputeAction } from "./actions.js";
import { requireApiVersion } from "./api-versions.js";
import { deleteResource, getResource, materialize, patchResource, putResource, type ArmContext, type CompletedWrite, type Conditions, type WriteRequest } from "./crud.js";
import { Estate, newEtag, parseIdOrRoute } from "./estate.js";
import { readJsonBody, sendJson, setPath, type Reply } from "./json.js";
import { LroEngine, OPERATION_PATH, type CompletedOperation } from "./lro.js";
import { submitJob, type JobSubmission } from "./nodes.js";
import { listPage, matchCollection } from "./paging.js";
import { ARM_WRITE_BUCKET, SubscriptionThrottle, type BucketLimits } from "./quota.js";
import { TAGS_PATH, tagsRequest } from "./tags.js";

/** The principal the sandbox attributes seeded resources and anonymous credentials to. */
export const SANDBOX_OPERATOR: SandboxPrincipal = {
  objectId: "00000000-0000-0000-0000-00000000a11e",
  name: "sandbox-operator@contoso.example",
  type: "User",
};

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
   * ARM's write (and delete) token bucket per subscription and principal; default ARM's own, 200 refilled 10 a
   * second (quota.ts). Remaining tokens go out in x-ms-ratelimit-remaining-subscription-writes; empty is 429.
   */
  writeBucket?: Partial<BucketLimits>;
  /** The throttling clock in milliseconds (default Date.now); tests inject one so nothing depends on wall-clock time. */
  clock?: () => number;
  /** Whether the Resource Graph emulator indexes workspaces' computes (default true; see resource-graph.ts). */
  graphIndexesComputes?: boolean;
  /**
   * Whether an operation keeps the caller's `x-ms-correlation-request-id` (default "honoured", what ARM does for
   * clients that send one) or gets a fresh one ("replaced"), so callers can prove they cope with either.
   */
  clientCorrelationIds?: "honoured" | "replaced";
}

export interface RequestRecord {
  method: string;
  path: string;
  status: number;
  principalId?: string;
  /** Time the sandbox spent on the request, injected latency included (benchmarks report it apart). */
  durationMs?: number;
}

interface RouteInput {
  method: string;
  url: URL;
  apiVersion: string;
  body: JsonValue | undefined;
  conditions: Conditions;
  request: WriteRequest;
}

const RESOURCE_GRAPH_PATH = /^\/providers\/Microsoft\.ResourceGraph\/resources$/i;
/** What a client may send as a correlation id (ARM's are GUIDs; anything else gets a fresh one). */
const CORRELATION_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/**
 * The embedded ARM emulator for Microsoft.MachineLearningServices: HTTPS transport, bearer tokens, faults and
 * throttling, then routing to the handlers (crud.ts, actions.ts, paging.ts, lro.ts). Behaviour sources: docs/sandbox.md.
 */
export class ArmSandbox {
  readonly faults = new FaultInjector();
  readonly requests: RequestRecord[] = [];
  private readonly estate = new Estate();
  private readonly lro: LroEngine;
  /** Diagnostic settings, the extension resource on the stored resources. */
  private readonly diagnosticSettings = new DiagnosticSettingsEmulator();
  /** Azure Resource Graph over the same store, at the same endpoint (management.azure.com). */
  private readonly resourceGraph: ResourceGraphEmulator;
  private readonly throttle: SubscriptionThrottle;
  private readonly tokens = new Map<string, SandboxPrincipal>();
  private readonly eventListeners: Array<(event: JsonObject) => void> = [];
  private readonly context: ArmContext;
  private readonly pageSize: number;
  private readonly honourClientCorrelationIds: boolean;
  private listener?: HttpsListener;
  endpoint = "";
  ca = "";

  constructor(options: ArmSandboxOptions = {}) {
    this.pageSize = options.pageSize ?? 100;
    this.honourClientCorrelationIds = (options.clientCorrelationIds ?? "honoured") === "honoured";
    this.lro = new LroEngine(this.estate.store, () => this.endpoint, {
      pollsToComplete: options.pollsToComplete ?? 1,
      retryAfterSeconds: options.lroRetryAfterSeconds ?? 0,
      durationMs: options.operationDurationMs ?? 1000,
    });
    this.throttle = new SubscriptionThrottle({ ...ARM_WRITE_BUCKET, ...options.writeBucket }, options.clock ?? Date.now);
    this.resourceGraph = new ResourceGraphEmulator(this.estate.store, () => this.estate.subscriptions, { indexComputes: options.graphIndexesComputes ?? true });
    this.context = { estate: this.estate, lro: this.lro, emit: (operation) => this.emit(operation) };
  }

  /** Every long-running operation that finished: what was written, by whom, and whether it took effect. */
  get completedOperations(): readonly CompletedOperation[] {
    return this.lro.completed;
  }

  /**
   * The sandbox's Microsoft Entra authority (openid.ts), on this listener: its OpenID configuration is at
   * `{endpoint}/{tenant}/v2.0/.well-known/openid-configuration`; it mints access tokens for sandbox principals.
   */
  readonly authority = new SandboxAuthority();

  /**
   * App settings that make amlguard trust this sandbox's authority for callers of its HTTP API (config.ts
   * AMLGUARD_AUTH_*), for tests, `amlguard simulate` and the CLI's sandbox mode; the validator also needs `ca`.
   */
  authSettings(audience: string): Record<string, string> {
    return { AMLGUARD_AUTH_TENANT_ID: this.authority.tenantId, AMLGUARD_AUTH_AUDIENCE: audience, AMLGUARD_AUTH_AUTHORITY_HOST: this.endpoint };
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
    for (const group of options.resourceGroups ?? []) this.estate.addResourceGroup(group.subscriptionId, group.name);
    for (const input of resources) {
      const id = parseMlResourceId(input.id);
      this.estate.addResourceGroup(id.subscriptionId, id.resourceGroup);
      // Seeds are the service's own state: read-only properties (private endpoint connections...) are kept.
      const resource = materialize(id, structuredClone(input), undefined, SANDBOX_OPERATOR.objectId, { keepReadOnly: true });
      setPath(resource, "properties.provisioningState", "Succeeded");
      this.estate.store.set(id.id.toLowerCase(), { resource, etag: newEtag() });
    }
  }

  /** The stored resource, as GET would return it (a copy). */
  resource(id: string): ArmResource | undefined {
    const stored = this.estate.store.get(id.toLowerCase());
    return stored ? structuredClone(stored.resource) : undefined;
  }

  /**
   * A data-plane job submission on an AmlCompute cluster (no ARM request, no ARM event): the cluster scales up to at
   * most its `scaleSettings.maxNodeCount` (nodes.ts); with 0 no node starts and the job waits.
   */
  submitJob(computeId: string, nodes: number): JobSubmission {
    const id = parseIdOrRoute(computeId);
    if (id.kind !== "compute") throw armErrors.noRoute(computeId);
    return submitJob(this.estate, id, nodes);
  }

  /** Subscribes to the subscription system-topic events ARM would publish for completed writes and actions. */
  onEvent(listener: (event: JsonObject) => void): void {
    this.eventListeners.push(listener);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "https://localhost");
    const method = (req.method ?? "GET").toUpperCase();
    const started = performance.now();
    // login.microsoftonline.com in Azure: no ARM token, throttling or ARM faults.
    if (this.authority.matches(url.pathname)) return this.authority.serve(req, res, this.endpoint);
    const record: RequestRecord = { method, path: url.pathname, status: 0 };
    this.requests.push(record);
    // ARM RPC common-api-details.md, proxy request headers: x-ms-correlation-request-id is the operation's tracing
    // id; ARM keeps the one a client sends (how `az`, Terraform and the SDKs correlate their calls) and echoes it.
    const sent = req.headers["x-ms-correlation-request-id"];
    const correlationId = this.honourClientCorrelationIds && typeof sent === "string" && CORRELATION_ID.test(sent) ? sent : randomUUID();
    const common = { "x-ms-request-id": randomUUID(), "x-ms-correlation-request-id": correlationId };
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
      if (fault?.kind === "forbidden") throw armErrors.authorizationFailed(caller, method, url.pathname);
      const apiVersion = url.searchParams.get("api-version");
      if (!apiVersion) throw armErrors.missingApiVersion();
      const body = await readJsonBody(req);
      const header = (name: string): string | undefined => (typeof req.headers[name] === "string" ? (req.headers[name] as string) : undefined);
      const conditions: Conditions = { ...(header("if-match") ? { ifMatch: header("if-match")! } : {}), ...(header("if-none-match") ? { ifNoneMatch: header("if-none-match")! } : {}) };
      const isGraph = RESOURCE_GRAPH_PATH.test(url.pathname);
      // Resource Graph queries are POSTs but not ARM writes; ARM counts writes before it routes them.
      const quotaHeaders = isGraph ? undefined : this.throttle.take(method, url.pathname, caller.objectId);
      const reply = isGraph
        ? this.resourceGraph.query(method, apiVersion, body)
        : this.route({ method, url, apiVersion, body, conditions, request: { caller, lroFailure: fault?.kind === "lro-failure", correlationId } });
      Object.assign(reply.headers, quotaHeaders);
      if (fault?.kind === "foreign-id" && method === "GET" && reply.status === 200 && isJsonObject(reply.body)) {
        reply.body = { ...reply.body, id: fault.answeredId ?? `${String(reply.body.id)}-other` };
      }
      record.status = reply.status;
      record.durationMs = performance.now() - started;
      sendJson(res, reply.status, reply.body, { ...common, ...reply.headers });
    } catch (error) {
      const armError = error instanceof ArmSandboxError ? error : armErrors.serverError(500);
      record.status = armError.statusCode;
      record.durationMs = performance.now() - started;
      sendJson(res, armError.statusCode, armError.body(), { ...common, ...armError.headers });
    }
  }

  private authenticate(req: IncomingMessage): SandboxPrincipal {
    const header = req.headers.authorization;
    if (!header) throw armErrors.missingAuthorization();
    const match = /^Bearer (\S+)$/.exec(header);
    const principal = match ? this.tokens.get(match[1]!) : undefined;
    if (!principal) throw armErrors.invalidToken();
    return principal;
  }

  private route({ method, url, apiVersion, body, conditions, request }: RouteInput): Reply {
    const path = url.pathname.replace(/\/+$/, "");
    const operation = OPERATION_PATH.exec(path);
    if (operation) return this.lro.poll(method, operation[2]!.toLowerCase(), operation[3]!);
    const tags = TAGS_PATH.exec(path);
    if (tags) return tagsRequest(this.context, method, tags[1]!, apiVersion, body, request);
    if (this.diagnosticSettings.matches(path)) return this.diagnosticSettings.handle(method, path, apiVersion, body, (id) => this.estate.store.has(id.toLowerCase()));
    const collection = matchCollection(this.estate, path);
    if (collection) {
      requireApiVersion(apiVersion, collection.kind);
      if (method !== "GET") throw armErrors.methodNotAllowed(method);
      return listPage(collection, url, this.endpoint, this.pageSize);
    }
    const action = COMPUTE_ACTION.exec(path);
    const id: MlResourceId = parseIdOrRoute(action ? action[1]! : path);
    requireApiVersion(apiVersion, id.kind);
    this.estate.requireScope(id);
    if (action) {
      if (method !== "POST") throw armErrors.methodNotAllowed(method);
      return computeAction(this.context, id, action[2]!.toLowerCase() as ComputeAction, request);
    }
    switch (method) {
      case "GET":
        return getResource(this.context, id);
      case "PUT":
        return putResource(this.context, id, body, request, conditions);
      case "PATCH":
        return patchResource(this.context, id, body, request, conditions);
      case "DELETE":
        return deleteResource(this.context, id, request);
      default:
        throw armErrors.methodNotAllowed(method);
    }
  }

  private emit({ eventType, resourceUri, operationName, request, method, resourceProvider }: CompletedWrite): void {
    if (this.eventListeners.length === 0) return;
    const event = resourceEvent({
      eventType,
      resourceUri,
      operationName,
      principal: request.caller,
      method,
      url: `https://management.azure.com${resourceUri}`,
      correlationId: request.correlationId,
      ...(resourceProvider ? { resourceProvider } : {}),
    });
    for (const listener of this.eventListeners) listener(event);
  }
}
