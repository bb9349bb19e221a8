import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import { z } from "zod";
import type { HttpAccessConfig } from "../config.js";
import { ManualError, manualFindings, manualRemediate, remediateRequestSchema, type ManualDeps } from "../manual/remediate.js";
import { newCorrelationId } from "../pipeline/assess.js";
import type { Runtime } from "../runtime.js";
import type { Actor } from "../state/audit.js";
import { countersOf } from "../telemetry.js";
import { describeIssues } from "../validation.js";
import { withInvocation, type Handled } from "./invocation.js";

const MAX_BODY_BYTES = 16 * 1024;

/** The caller, as App Service authentication (Easy Auth) passes it in x-ms-client-principal. */
export interface Principal {
  objectId: string;
  name: string;
  appId?: string;
  roles: string[];
  groups: string[];
}

const principalSchema = z.object({
  auth_typ: z.string().optional(),
  name_typ: z.string().optional(),
  role_typ: z.string().optional(),
  claims: z.array(z.object({ typ: z.string(), val: z.string() })).max(500),
});

const OID = ["http://schemas.microsoft.com/identity/claims/objectidentifier", "oid"];

/**
 * Reads the principal Easy Auth injects (base64 JSON). Easy Auth strips this header from client requests, so it can
 * be trusted only with App Service authentication on (infra/ turns it on and requires it).
 */
export function principalOf(request: HttpRequest): Principal | undefined {
  const header = request.headers.get("x-ms-client-principal");
  if (!header || header.length > 32_768) return undefined;
  let parsed;
  try {
    parsed = principalSchema.safeParse(JSON.parse(Buffer.from(header, "base64").toString("utf8")));
  } catch {
    return undefined;
  }
  if (!parsed.success) return undefined;
  const { claims, role_typ: roleType = "roles", name_typ: nameType } = parsed.data;
  const values = (...types: string[]): string[] => claims.filter((c) => types.includes(c.typ)).map((c) => c.val);
  const objectId = values(...OID)[0];
  if (!objectId) return undefined;
  const appId = values("appid", "azp")[0];
  return {
    objectId,
    name: values(...(nameType ? [nameType] : []), "name", "preferred_username", "upn")[0] ?? objectId,
    ...(appId ? { appId } : {}),
    roles: values(roleType, "roles", "http://schemas.microsoft.com/ws/2008/06/identity/claims/role"),
    groups: values("groups"),
  };
}

export function authorized(principal: Principal, need: "read" | "remediate", access: HttpAccessConfig): boolean {
  const roles = need === "remediate" ? [access.remediateRole] : [access.readRole, access.remediateRole];
  const groups = need === "remediate" ? access.remediateGroups : [...access.readGroups, ...access.remediateGroups];
  return principal.roles.some((r) => roles.includes(r)) || principal.groups.some((g) => groups.map((x) => x.toLowerCase()).includes(g.toLowerCase()));
}

function respond(status: number, body: Record<string, unknown>, correlationId: string, headers: Record<string, string> = {}): HttpResponseInit {
  return {
    status,
    jsonBody: { ...body, correlationId },
    headers: { "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", "x-correlation-id": correlationId, ...headers },
  };
}

const refuse = (status: number, code: string, message: string, correlationId: string, headers?: Record<string, string>): HttpResponseInit =>
  respond(status, { error: { code, message } }, correlationId, headers);

export interface HttpHandlers {
  remediate(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit>;
  findings(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit>;
}

type Act = (principal: Principal, deps: ManualDeps, correlationId: string) => Promise<Handled<HttpResponseInit>>;

/** POST /api/remediate and GET /api/findings over a runtime; the registrations in functions/ bind them. */
export function createHttpHandlers(getRuntime: () => Promise<Runtime>, access: () => HttpAccessConfig): HttpHandlers {
  const guarded = (need: "read" | "remediate", act: (request: HttpRequest) => Act) =>
    withInvocation<HttpRequest, HttpResponseInit>(
      {
        source: "http",
        getRuntime,
        fields: () => ({ correlationId: newCorrelationId() }),
        // The caller gets the correlation id, never the reason; the reason is in the log line the wrapper wrote.
        onError: (_failure, { correlationId = newCorrelationId() }) => refuse(500, "InternalError", "amlguard could not process the request; quote the correlation id", correlationId),
      },
      async (request, { log, runtime, deps: pipelineDeps, correlationId = newCorrelationId() }) => {
        const answer = (response: HttpResponseInit): Handled<HttpResponseInit> => ({ result: response });
        try {
          const principal = principalOf(request);
          if (!principal) return answer(refuse(401, "Unauthenticated", "sign in: this API needs a Microsoft Entra identity", correlationId));
          if (!authorized(principal, need, access())) {
            log.warn("amlguard http: forbidden", { principal: principal.objectId, need });
            return answer(refuse(403, "Forbidden", `the caller lacks the ${need === "remediate" ? access().remediateRole : access().readRole} role`, correlationId));
          }
          const { manual } = await runtime();
          if (!manual) return answer(refuse(503, "NotConfigured", "manual remediation is not configured", correlationId));
          const quota = await manual.rateLimiter.take(principal.objectId);
          if (!quota.allowed) {
            return answer(refuse(429, "TooManyRequests", "request budget for this minute is spent", correlationId, { "Retry-After": String(quota.retryAfterSeconds) }));
          }
          const deps: ManualDeps = { ...(await pipelineDeps()), allowedSubscriptions: manual.allowedSubscriptions, inflight: manual.inflight };
          return await act(request)(principal, deps, correlationId);
        } catch (error) {
          if (error instanceof ManualError) return answer(refuse(error.status, error.code, error.message, correlationId));
          throw error;
        }
      },
    );

  return {
    remediate: guarded("remediate", (request) => async (principal, deps, correlationId) => {
      const answer = (response: HttpResponseInit): Handled<HttpResponseInit> => ({ result: response });
      const contentType = request.headers.get("content-type") ?? "";
      if (!/^application\/json(\s*;|$)/i.test(contentType)) return answer(refuse(415, "UnsupportedMediaType", "send application/json", correlationId));
      if (Number(request.headers.get("content-length") ?? "0") > MAX_BODY_BYTES) return answer(refuse(413, "PayloadTooLarge", `the body is over ${MAX_BODY_BYTES} bytes`, correlationId));
      const text = await request.text();
      if (Buffer.byteLength(text) > MAX_BODY_BYTES) return answer(refuse(413, "PayloadTooLarge", `the body is over ${MAX_BODY_BYTES} bytes`, correlationId));
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        return answer(refuse(400, "InvalidJson", "the body is not valid JSON", correlationId));
      }
      const parsed = remediateRequestSchema.safeParse(json, { reportInput: true });
      if (!parsed.success) {
        const problems = describeIssues(parsed.error.issues, (path) => ({ name: path.length ? String(path[0]) : "the body" }));
        return answer(refuse(400, "InvalidRequest", problems, correlationId));
      }
      const caller: Actor = { objectId: principal.objectId, name: principal.name, principalType: principal.appId ? "ServicePrincipal" : "User", ...(principal.appId ? { appId: principal.appId } : {}) };
      const result = await manualRemediate(parsed.data, caller, `http:${principal.name}`, deps);
      return { result: respond(200, { ...result }, result.correlationId), counters: countersOf(result.findings) };
    }),
    findings: guarded("read", (request) => async (_principal, deps, correlationId) => {
      const resourceId = request.query.get("resourceId");
      if (!resourceId) return { result: refuse(400, "InvalidRequest", "resourceId query parameter is required", correlationId) };
      const result = await manualFindings(resourceId, deps);
      return { result: respond(200, { resourceId: result.resourceId, findings: result.findings }, correlationId) };
    }),
  };
}
