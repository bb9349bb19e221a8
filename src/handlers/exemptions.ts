import type { HttpRequest, HttpResponseInit } from "@azure/functions";
import { approveExemption, approveExemptionSchema, DEFAULT_EXEMPTION_MAX_DAYS, revokeExemption, type ExemptionDeps } from "../exemptions/approve.js";
import { EXEMPTION_ID, listed, statusOf } from "../exemptions/listing.js";
import { scopedResourceId, type ManualDeps } from "../manual/remediate.js";
import type { Actor } from "../state/audit.js";
import { describeIssues } from "../validation.js";
import type { Handled } from "./invocation.js";

/** The caller as the HTTP layer knows it (src/handlers/http.ts Principal). */
interface Caller {
  objectId: string;
  name: string;
  appId?: string;
}

export type Reply = (status: number, body: Record<string, unknown>, correlationId: string) => HttpResponseInit;
export type Refuse = (status: number, code: string, message: string, correlationId: string) => HttpResponseInit;
export type ReadJson = (request: HttpRequest, correlationId: string) => Promise<{ json: unknown } | { response: HttpResponseInit }>;

/** The approver or revoker: the authenticated caller, from the validated token, never from the body. */
export function actorOf(caller: Caller): Actor {
  return { objectId: caller.objectId, name: caller.name, principalType: caller.appId ? "ServicePrincipal" : "User", ...(caller.appId ? { appId: caller.appId } : {}) };
}

function exemptionDeps(deps: ManualDeps, maxDays: number | undefined): ExemptionDeps {
  return { store: deps.exemptions, arm: deps.arm, audit: deps.audit, alerts: deps.alerts, now: deps.now, allowedSubscriptions: deps.allowedSubscriptions, maxDays: maxDays ?? DEFAULT_EXEMPTION_MAX_DAYS, ...(deps.proposals ? { proposals: deps.proposals } : {}) };
}

/**
 * POST /api/exemptions, GET /api/exemptions[?resourceId=], DELETE /api/exemptions/{id}, after the caller was
 * authenticated and authorised (src/handlers/http.ts). ManualErrors from the core are answered by the caller.
 */
export function exemptionActs(io: { reply: Reply; refuse: Refuse; readJson: ReadJson; maxDays: () => number | undefined }) {
  const { reply, refuse, readJson } = io;
  return {
    approve: (request: HttpRequest) => async (caller: Caller, deps: ManualDeps, correlationId: string): Promise<Handled<HttpResponseInit>> => {
      const body = await readJson(request, correlationId);
      if ("response" in body) return { result: body.response };
      const parsed = approveExemptionSchema.safeParse(body.json, { reportInput: true });
      if (!parsed.success) {
        const problems = describeIssues(parsed.error.issues, (path) => ({ name: path.length ? String(path[0]) : "the body" }));
        return { result: refuse(400, "InvalidRequest", problems, correlationId) };
      }
      const exemption = await approveExemption(parsed.data, actorOf(caller), `http:${caller.name}`, exemptionDeps(deps, io.maxDays()));
      return { result: reply(201, { ...exemption, status: statusOf(exemption, deps.now()) }, correlationId) };
    },
    list: (request: HttpRequest) => async (_caller: Caller, deps: ManualDeps, correlationId: string): Promise<Handled<HttpResponseInit>> => {
      const resourceId = request.query.get("resourceId");
      const exemptions = resourceId ? await deps.exemptions.forResource(scopedResourceId(resourceId, deps.allowedSubscriptions).id) : await deps.exemptions.all();
      return { result: reply(200, { exemptions: listed(exemptions, deps.now()) }, correlationId) };
    },
    revoke: (request: HttpRequest) => async (caller: Caller, deps: ManualDeps, correlationId: string): Promise<Handled<HttpResponseInit>> => {
      const id = request.params.id ?? "";
      if (!EXEMPTION_ID.test(id)) return { result: refuse(400, "InvalidRequest", "the exemption id must be a GUID, as GET /api/exemptions lists it", correlationId) };
      const revoked = await revokeExemption(id, actorOf(caller), `http:${caller.name}`, exemptionDeps(deps, io.maxDays()));
      return { result: reply(200, { ...revoked, status: statusOf(revoked, deps.now()) }, correlationId) };
    },
  };
}
