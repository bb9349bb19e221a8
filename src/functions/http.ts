import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import { z } from "zod";
import type { HttpAccessConfig } from "../config.js";
import { describeError } from "../errors.js";
import { ManualError, manualFindings, manualRemediate, remediateRequestSchema, type ManualDeps } from "../manual/remediate.js";
import { newCorrelationId } from "../pipeline/assess.js";
import { depsFor, type Runtime } from "../runtime.js";
import type { Actor } from "../state/audit.js";
import { countersOf, emitCounters } from "../telemetry.js";
import { contextLogger } from "./event-grid.js";

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

/** POST /api/remediate and GET /api/findings over a runtime; the registrations in functions/ bind them. */
export function createHttpHandlers(getRuntime: () => Promise<Runtime>, access: () => HttpAccessConfig): HttpHandlers {
  const guarded = async (
    request: HttpRequest,
    context: InvocationContext,
    need: "read" | "remediate",
    act: (principal: Principal, deps: ManualDeps, correlationId: string) => Promise<HttpResponseInit>,
  ): Promise<HttpResponseInit> => {
    const correlationId = newCorrelationId();
    const log = contextLogger(context);
    try {
      const principal = principalOf(request);
      if (!principal) return refuse(401, "Unauthenticated", "sign in: this API needs a Microsoft Entra identity", correlationId);
      if (!authorized(principal, need, access())) {
        log.warn("amlguard http: forbidden", { principal: principal.objectId, need });
        return refuse(403, "Forbidden", `the caller lacks the ${need === "remediate" ? access().remediateRole : access().readRole} role`, correlationId);
      }
      const runtime = await getRuntime();
      if (!runtime.manual) return refuse(503, "NotConfigured", "manual remediation is not configured", correlationId);
      const quota = await runtime.manual.rateLimiter.take(principal.objectId);
      if (!quota.allowed) {
        return refuse(429, "TooManyRequests", "request budget for this minute is spent", correlationId, { "Retry-After": String(quota.retryAfterSeconds) });
      }
      const deps: ManualDeps = { ...depsFor(runtime, log), allowedSubscriptions: runtime.manual.allowedSubscriptions, inflight: runtime.manual.inflight };
      return await act(principal, deps, correlationId);
    } catch (error) {
      if (error instanceof ManualError) return refuse(error.status, error.code, error.message, correlationId);
      log.error("amlguard http: internal error", { correlationId, error: describeError(error) });
      return refuse(500, "InternalError", "amlguard could not process the request; quote the correlation id", correlationId);
    }
  };

  return {
    remediate: (request, context) =>
      guarded(request, context, "remediate", async (principal, deps, correlationId) => {
        const contentType = request.headers.get("content-type") ?? "";
        if (!/^application\/json(\s*;|$)/i.test(contentType)) return refuse(415, "UnsupportedMediaType", "send application/json", correlationId);
        if (Number(request.headers.get("content-length") ?? "0") > MAX_BODY_BYTES) return refuse(413, "PayloadTooLarge", `the body is over ${MAX_BODY_BYTES} bytes`, correlationId);
        const text = await request.text();
        if (Buffer.byteLength(text) > MAX_BODY_BYTES) return refuse(413, "PayloadTooLarge", `the body is over ${MAX_BODY_BYTES} bytes`, correlationId);
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          return refuse(400, "InvalidJson", "the body is not valid JSON", correlationId);
        }
        const parsed = remediateRequestSchema.safeParse(json);
        if (!parsed.success) {
          const problems = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join(".") || "body"}: ${i.message}`);
          return refuse(400, "InvalidRequest", problems.join("; "), correlationId);
        }
        const caller: Actor = { objectId: principal.objectId, name: principal.name, principalType: principal.appId ? "ServicePrincipal" : "User", ...(principal.appId ? { appId: principal.appId } : {}) };
        const result = await manualRemediate(parsed.data, caller, `http:${principal.name}`, deps);
        emitCounters(deps.log, "http", countersOf(result.findings));
        return respond(200, { ...result }, result.correlationId);
      }),
    findings: (request, context) =>
      guarded(request, context, "read", async (_principal, deps, correlationId) => {
        const resourceId = request.query.get("resourceId");
        if (!resourceId) return refuse(400, "InvalidRequest", "resourceId query parameter is required", correlationId);
        const result = await manualFindings(resourceId, deps);
        return respond(200, { resourceId: result.resourceId, findings: result.findings }, correlationId);
      }),
  };
}
