import { createDefaultHttpClient, createHttpHeaders, createPipelineRequest, type HttpClient, type HttpMethods } from "@azure/core-rest-pipeline";
import { ML_API_VERSION } from "../azure/arm-client.js";
import type { ArmSandbox } from "../sandbox/index.js";
import type { SandboxPrincipal } from "../sandbox/events.js";
import type { ArmStep } from "./schema.js";

/** What ARM answered a scenario's own request: the status, its error if any, and how its operation ended. */
export interface ArmStepResult {
  status: number;
  error?: { code: string; message: string };
  operation?: "Succeeded" | "Failed" | "InProgress";
}

/** api-versions per path when the step gives none: the ones amlguard itself speaks. */
function defaultApiVersion(path: string): string {
  // Microsoft.Insights diagnostic settings (the sandbox speaks 2021-05-01-preview, as amlguard does).
  if (/\/providers\/Microsoft\.Insights\/diagnosticSettings(\/|$)/i.test(path)) return "2021-05-01-preview";
  // Tags API (Microsoft.Resources/tags, azure-rest-api-specs resources 2021-04-01 Tags_CreateOrUpdateAtScope).
  if (/\/providers\/Microsoft\.Resources\/tags\/default$/i.test(path)) return "2021-04-01";
  return ML_API_VERSION;
}

/** Most status polls a step follows before it reports the operation still running (the sandbox needs one). */
const MAX_POLLS = 20;

/**
 * Sends one scenario request to the sandbox as the given principal, exactly as written (method, path, body,
 * If-Match), and follows the long-running operation to its end through Azure-AsyncOperation or Location, the way a
 * client would; the sandbox's Retry-After is 0, so nothing waits. The events ARM publishes for it go to the
 * sandbox's listeners as the operation completes.
 */
export class ArmStepClient {
  private readonly http: HttpClient = createDefaultHttpClient();

  constructor(private readonly arm: ArmSandbox) {}

  async apply(principal: SandboxPrincipal, step: ArmStep["arm"]): Promise<ArmStepResult> {
    const token = (await this.arm.credential(principal).getToken("https://management.azure.com/.default"))!.token;
    const url = `${this.arm.endpoint}${step.id}?api-version=${encodeURIComponent(step.apiVersion ?? defaultApiVersion(step.id))}`;
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: "application/json" };
    if (step.ifMatch) headers["if-match"] = step.ifMatch;
    const body = step.body !== undefined ? JSON.stringify(step.body) : step.method === "PUT" || step.method === "PATCH" ? "{}" : undefined;
    if (body !== undefined) headers["content-type"] = "application/json";
    const first = await this.send(step.method, url, headers, body);
    if (first.status >= 400) return { status: first.status, error: errorOf(first.body) };
    const poll = first.headers.get("azure-asyncoperation") ?? first.headers.get("location");
    if (!poll || first.status === 204) return { status: first.status };
    return { status: first.status, operation: await this.follow(poll, first.headers.has("azure-asyncoperation"), token) };
  }

  private async follow(pollUrl: string, isStatus: boolean, token: string): Promise<"Succeeded" | "Failed" | "InProgress"> {
    const url = new URL(pollUrl, this.arm.endpoint);
    // Operation URLs come from the sandbox; never send a token anywhere else.
    if (url.origin !== new URL(this.arm.endpoint).origin) return "Failed";
    for (let poll = 0; poll < MAX_POLLS; poll += 1) {
      const reply = await this.send("GET", url.toString(), { authorization: `Bearer ${token}`, accept: "application/json" });
      if (isStatus) {
        const status = typeof reply.body === "object" && reply.body !== null ? (reply.body as { status?: unknown }).status : undefined;
        if (status === "Succeeded" || status === "Failed" || status === "Canceled") return status === "Succeeded" ? "Succeeded" : "Failed";
      } else if (reply.status !== 202) {
        return reply.status < 300 ? "Succeeded" : "Failed";
      }
    }
    return "InProgress";
  }

  private async send(method: HttpMethods, url: string, headers: Record<string, string>, body?: string): Promise<{ status: number; headers: ReturnType<typeof createHttpHeaders>; body: unknown }> {
    const request = createPipelineRequest({ url, method, headers: createHttpHeaders(headers), ...(body !== undefined ? { body } : {}) });
    request.tlsSettings = { ca: this.arm.ca };
    const response = await this.http.sendRequest(request);
    let parsed: unknown = undefined;
    try {
      parsed = response.bodyAsText ? JSON.parse(response.bodyAsText) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: response.status, headers: response.headers, body: parsed };
  }
}

function errorOf(body: unknown): { code: string; message: string } {
  const error = typeof body === "object" && body !== null ? (body as { error?: { code?: unknown; message?: unknown } }).error : undefined;
  return { code: typeof error?.code === "string" ? error.code : "Unknown", message: typeof error?.message === "string" ? error.message : "no error message" };
}
