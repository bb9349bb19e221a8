import type { TokenCredential } from "@azure/core-auth";
import { ServiceClient } from "@azure/core-client";
import { createHttpPoller, type LroResourceLocationConfig, type LroResponse, type OperationState } from "@azure/core-lro";
import { createPipelineRequest, type HttpClient, type HttpMethods } from "@azure/core-rest-pipeline";
import { isArmResource, isJsonObject, type ArmResource, type JsonObject } from "../arm/resource.js";

/**
 * The stable api-version of Microsoft.MachineLearningServices amlguard reads and writes at (not the newest:
 * docs/api-version.md says why). Raw reads use it so that no property the service returns is lost (the SDK's
 * 2022-10-01 models drop what they do not know).
 */
export const ML_API_VERSION = "2025-09-01";
const REQUEST_TIMEOUT_MS = 60_000;

export interface ArmClientOptions {
  endpoint: string;
  credential: TokenCredential;
  /** Extra trusted CA (PEM), for the embedded sandbox's self-signed certificate. */
  ca?: string;
  maxRetries?: number;
  /** Upper bound on the LRO poll interval the server asks for, so a long Retry-After cannot stall a handler. */
  maxPollIntervalMs?: number;
  /** The HTTP client under the SDK pipeline (tests answer with crafted responses). */
  httpClient?: HttpClient;
}

/** An ARM error response, `{error:{code,message}}`, without the request's headers or tokens. */
export class ArmError extends Error {
  override name = "ArmError";
  constructor(
    readonly statusCode: number,
    readonly code: string,
    readonly armMessage: string,
  ) {
    super(`ARM ${statusCode} ${code}: ${armMessage}`);
  }
}

/** ARM answered a read of one id with a body naming another: nothing is written, a person is told. */
export class ResponseIdMismatch extends ArmError {
  override name = "ResponseIdMismatch";
  constructor(
    readonly requested: string,
    readonly answered: string,
  ) {
    super(200, "ResponseIdMismatch", `asked for one resource, the response names another (${answered.slice(0, 300)})`);
  }
}

export interface ArmRead {
  resource: ArmResource;
  etag?: string;
}

interface RawResult {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

/**
 * Raw ARM JSON over the Azure SDK's own HTTP pipeline (bearer token, retries honouring Retry-After, TLS options)
 * and the SDK's LRO engine. Bodies are plain JSON: whatever the service returns is kept.
 */
export class ArmClient {
  private readonly client: ServiceClient;
  private readonly endpoint: string;
  private readonly maxPollIntervalMs: number;
  private readonly remainingWrites = new Map<string, number>();
  private correlationId: string | undefined;

  constructor(options: ArmClientOptions) {
    this.endpoint = options.endpoint.replace(/\/+$/, "");
    this.maxPollIntervalMs = options.maxPollIntervalMs ?? 30_000;
    this.client = new ServiceClient({
      endpoint: this.endpoint,
      credential: options.credential,
      credentialScopes: [`${armAudience(this.endpoint)}/.default`],
      retryOptions: { maxRetries: options.maxRetries ?? 4, retryDelayInMs: 200, maxRetryDelayInMs: 10_000 },
      userAgentOptions: { userAgentPrefix: "amlguard" },
      ...(options.ca ? { tlsOptions: { ca: options.ca } } : {}),
      ...(options.httpClient ? { httpClient: options.httpClient } : {}),
    });
  }

  /**
   * The same client (connections, token cache, write budget) sending `x-ms-correlation-request-id` on every call, so
   * amlguard's calls in the Activity Log join its audit rows (and its own writes are recognised when their events
   * come back).
   */
  withCorrelationId(correlationId: string): ArmClient {
    const scoped = Object.create(this) as ArmClient;
    scoped.correlationId = correlationId;
    return scoped;
  }

  async get(path: string, apiVersion = ML_API_VERSION): Promise<ArmRead> {
    const result = await this.send("GET", this.url(path, apiVersion));
    expectSuccess(result);
    if (!isArmResource(result.body)) throw new ArmError(result.status, "InvalidResponse", "response is not an ARM resource");
    // Writes go to the id that was asked for and checked, so a body naming another resource is refused here.
    if (result.body.id.toLowerCase() !== path.toLowerCase()) throw new ResponseIdMismatch(path, result.body.id);
    const etag = result.headers["etag"] ?? (typeof result.body.etag === "string" ? result.body.etag : undefined);
    return { resource: result.body, ...(etag ? { etag } : {}) };
  }

  /** Every item of a collection, following nextLink pages. */
  async *list(path: string, apiVersion = ML_API_VERSION): AsyncGenerator<ArmResource> {
    let url: string | undefined = this.url(path, apiVersion);
    while (url) {
      const result = await this.send("GET", url);
      expectSuccess(result);
      const page = result.body;
      if (!isJsonObject(page) || !Array.isArray(page.value)) {
        throw new ArmError(result.status, "InvalidResponse", "list response has no value array");
      }
      for (const item of page.value) if (isArmResource(item)) yield item;
      url = typeof page.nextLink === "string" && page.nextLink ? this.sameOrigin(page.nextLink) : undefined;
    }
  }

  /** PATCH through the LRO protocol; resolves with the final resource. */
  async patch(path: string, body: JsonObject, options: { ifMatch?: string } = {}, apiVersion = ML_API_VERSION): Promise<ArmResource> {
    const headers: Record<string, string> = options.ifMatch ? { "If-Match": options.ifMatch } : {};
    const final = await this.longRunning("PATCH", path, apiVersion, body, headers, "location");
    return this.resourceOrReadBack(final, path, apiVersion);
  }

  /** PUT with optimistic concurrency: If-Match makes a concurrent writer's change fail with 412 instead of being lost. */
  async put(path: string, body: JsonObject, options: { ifMatch?: string; ifNoneMatch?: "*" } = {}, apiVersion = ML_API_VERSION): Promise<ArmResource> {
    const headers: Record<string, string> = {
      ...(options.ifMatch ? { "If-Match": options.ifMatch } : {}),
      ...(options.ifNoneMatch ? { "If-None-Match": options.ifNoneMatch } : {}),
    };
    const final = await this.longRunning("PUT", path, apiVersion, body, headers, "original-uri");
    return this.resourceOrReadBack(final, path, apiVersion);
  }

  /** POST action (compute start/stop/restart) through the LRO protocol. */
  async action(path: string, apiVersion = ML_API_VERSION): Promise<void> {
    await this.longRunning("POST", path, apiVersion, undefined, {}, "location");
  }

  private async longRunning(
    method: HttpMethods,
    path: string,
    apiVersion: string,
    body: JsonObject | undefined,
    headers: Record<string, string>,
    finalStateVia: LroResourceLocationConfig,
  ): Promise<unknown> {
    const url = this.url(path, apiVersion);
    const toLro = (result: RawResult): LroResponse => {
      expectSuccess(result);
      return { flatResponse: result.body, rawResponse: { statusCode: result.status, headers: this.cappedRetryAfter(result.headers), body: result.body } };
    };
    const poller = await createHttpPoller<unknown, OperationState<unknown>>(
      {
        requestMethod: method,
        requestPath: url,
        sendInitialRequest: async () => toLro(await this.send(method, url, body, headers)),
        sendPollRequest: async (pollPath) => toLro(await this.send("GET", this.sameOrigin(pollPath))),
      },
      { resourceLocationConfig: finalStateVia, intervalInMs: 1_000 },
    );
    return poller.pollUntilDone();
  }

  /** Some operations end without a resource body: read the resource back. */
  /** The subscription's remaining ARM write budget, as ARM last reported it (undefined before any write). */
  remainingWritesFor(subscriptionId: string): number | undefined {
    return this.remainingWrites.get(subscriptionId.toLowerCase());
  }

  private async resourceOrReadBack(final: unknown, path: string, apiVersion: string): Promise<ArmResource> {
    return isArmResource(final) ? final : (await this.get(path, apiVersion)).resource;
  }

  private cappedRetryAfter(headers: Record<string, string>): Record<string, string> {
    const retryAfter = Number(headers["retry-after"]);
    if (Number.isFinite(retryAfter) && retryAfter * 1000 > this.maxPollIntervalMs) {
      return { ...headers, "retry-after": String(Math.floor(this.maxPollIntervalMs / 1000)) };
    }
    return headers;
  }

  private url(path: string, apiVersion: string): string {
    if (!path.startsWith("/")) throw new Error("ARM path must start with '/'");
    return `${this.endpoint}${path}?api-version=${encodeURIComponent(apiVersion)}`;
  }

  /** nextLink and operation URLs come from the server; never follow them to another host with our token. */
  private sameOrigin(url: string): string {
    const target = new URL(url, this.endpoint);
    if (target.origin !== new URL(this.endpoint).origin) {
      throw new ArmError(0, "UntrustedLink", `refusing to follow a link to another host (${target.host})`);
    }
    return target.toString();
  }

  private async send(method: HttpMethods, url: string, body?: JsonObject, headers: Record<string, string> = {}): Promise<RawResult> {
    // A hung connection must not hold an invocation until the host's timeout: fail, and let the retry policy or
    // Event Grid's redelivery try again.
    const request = createPipelineRequest({ url, method, timeout: REQUEST_TIMEOUT_MS });
    request.headers.set("Accept", "application/json");
    if (this.correlationId) request.headers.set("x-ms-correlation-request-id", this.correlationId);
    for (const [name, value] of Object.entries(headers)) request.headers.set(name, value);
    if (body !== undefined) {
      request.headers.set("Content-Type", "application/json");
      request.body = JSON.stringify(body);
    }
    const response = await this.client.sendRequest(request);
    const remaining = Number(response.headers.get("x-ms-ratelimit-remaining-subscription-writes"));
    const subscription = /\/subscriptions\/([^/?]+)/i.exec(url)?.[1]?.toLowerCase();
    if (subscription && Number.isFinite(remaining) && response.headers.has("x-ms-ratelimit-remaining-subscription-writes")) {
      this.remainingWrites.set(subscription, remaining);
    }
    const text = response.bodyAsText ?? "";
    let parsed: unknown = undefined;
    if (text) {
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new ArmError(response.status, "InvalidResponse", "response body is not JSON");
      }
    }
    return { status: response.status, headers: response.headers.toJSON(), body: parsed };
  }
}

function expectSuccess(result: RawResult): void {
  if (result.status >= 200 && result.status < 300) return;
  const error = isJsonObject(result.body) && isJsonObject(result.body.error) ? result.body.error : {};
  const code = typeof error.code === "string" ? error.code : `Http${result.status}`;
  const message = typeof error.message === "string" ? error.message : "no error message";
  throw new ArmError(result.status, code, message);
}

/** Token audience: ARM's own for public Azure and the sandbox; the endpoint itself for sovereign clouds. */
function armAudience(endpoint: string): string {
  const host = new URL(endpoint).hostname;
  if (host === "management.azure.com" || host === "localhost" || host === "127.0.0.1") return "https://management.azure.com";
  return endpoint;
}
