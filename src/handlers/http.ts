import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import { AuthorityUnavailableError, CallerAuthenticationError, type AuthenticatedCaller } from "../auth/entra-token.js";
import type { HttpAccessConfig } from "../config.js";
import { ManualError, manualFindings, manualRemediate, remediateRequestSchema, type ManualDeps } from "../manual/remediate.js";
import { newCorrelationId } from "../pipeline/assess.js";
import type { Runtime } from "../runtime.js";
import { countersOf } from "../telemetry.js";
import { describeIssues } from "../validation.js";
import { actorOf, exemptionActs } from "./exemptions.js";
import { approvalPage, proposalActs, wantsApprovalPage, type ApprovalPageConfig } from "./proposals.js";
import { withInvocation, type Handled } from "./invocation.js";

const MAX_BODY_BYTES = 16 * 1024;
const DEFAULT_EXEMPT_ROLE = "AmlGuard.Exempt";

/** The caller, from a validated Entra access token (src/auth/entra-token.ts). */
export interface Principal {
  objectId: string;
  name: string;
  appId?: string;
  roles: string[];
  groups: string[];
  /** The token had too many groups to list them: only roles can grant access. */
  groupsOverage?: boolean;
}

/** What authenticates a request: in Azure an EntraTokenValidator (validatorFor(config.auth)). */
export interface CallerAuthenticator {
  authenticateHeaders(headers: { get(name: string): string | null }): Promise<AuthenticatedCaller>;
}

/**
 * What an operation needs: read, remediate, approve/revoke exemptions, list exemptions (readers and approvers), read
 * proposals (readers and either approver), or decide one (either approver; the proposal's kind then needs its own role).
 */
export type Need = "read" | "remediate" | "exempt" | "read-exemptions" | "read-proposals" | "decide-proposal";

function grants(need: Need, access: HttpAccessConfig): { roles: string[]; groups: string[]; named: string } {
  const exempt = { roles: [access.exemptRole ?? DEFAULT_EXEMPT_ROLE], groups: access.exemptGroups ?? [] };
  const read = { roles: [access.readRole, access.remediateRole], groups: [...access.readGroups, ...access.remediateGroups] };
  switch (need) {
    case "remediate":
      return { roles: [access.remediateRole], groups: access.remediateGroups, named: access.remediateRole };
    case "read":
      return { ...read, named: access.readRole };
    case "exempt":
      return { ...exempt, named: exempt.roles[0]! };
    case "read-exemptions":
    case "read-proposals":
      return { roles: [...read.roles, ...exempt.roles], groups: [...read.groups, ...exempt.groups], named: `${access.readRole} or ${exempt.roles[0]!}` };
    case "decide-proposal":
      return { roles: [access.remediateRole, ...exempt.roles], groups: [...access.remediateGroups, ...exempt.groups], named: `${access.remediateRole} or ${exempt.roles[0]!}` };
  }
}

/** The role an operation needs, as a refusal names it. */
export function roleNamed(need: Need, access: HttpAccessConfig): string {
  return grants(need, access).named;
}

export function authorized(principal: Pick<Principal, "roles" | "groups">, need: Need, access: HttpAccessConfig): boolean {
  const { roles, groups } = grants(need, access);
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
  approveExemption(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit>;
  listExemptions(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit>;
  revokeExemption(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit>;
  listProposals(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit>;
  /** JSON with a token; the approval page for a browser without one (src/handlers/proposals.ts wantsApprovalPage). */
  getProposal(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit>;
  approveProposal(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit>;
  rejectProposal(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit>;
  /** The approval page's "Exempt instead…": an exemption of a remediation proposal's rules (AmlGuard.Exempt). */
  exemptProposal(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit>;
}

/** A proposal's link opened in a browser gets the approval page; every other request goes to the API. */
function pageOr(api: PlainHandler, page: PlainHandler): PlainHandler {
  return async (request, context) => (wantsApprovalPage(request) ? page(request, context) : api(request, context));
}

/** A JSON body of at most MAX_BODY_BYTES, or the answer refusing it. */
async function readJson(request: HttpRequest, correlationId: string): Promise<{ json: unknown } | { response: HttpResponseInit }> {
  const contentType = request.headers.get("content-type") ?? "";
  if (!/^application\/json(\s*;|$)/i.test(contentType)) return { response: refuse(415, "UnsupportedMediaType", "send application/json", correlationId) };
  if (Number(request.headers.get("content-length") ?? "0") > MAX_BODY_BYTES) return { response: refuse(413, "PayloadTooLarge", `the body is over ${MAX_BODY_BYTES} bytes`, correlationId) };
  const text = await request.text();
  if (Buffer.byteLength(text) > MAX_BODY_BYTES) return { response: refuse(413, "PayloadTooLarge", `the body is over ${MAX_BODY_BYTES} bytes`, correlationId) };
  try {
    return { json: JSON.parse(text) };
  } catch {
    return { response: refuse(400, "InvalidJson", "the body is not valid JSON", correlationId) };
  }
}

type Act = (principal: Principal, deps: ManualDeps, correlationId: string) => Promise<Handled<HttpResponseInit>>;

/** Wraps a handler for requests with no invocation wrapper of their own (the approval page reads nothing). */
type PlainHandler = (request: HttpRequest, context: InvocationContext) => Promise<HttpResponseInit>;

/**
 * POST /api/remediate, GET /api/findings and the exemptions API (src/handlers/exemptions.ts) over a runtime; the registrations in functions/ bind them. Callers are
 * authenticated in-process by their Entra access token (`authenticator`), on any hosting, with or without App
 * Service authentication in front: `x-ms-client-principal` is never read. No authenticator (AMLGUARD_AUTH_* unset)
 * means nobody gets in.
 */
export function createHttpHandlers(
  getRuntime: () => Promise<Runtime>,
  access: () => HttpAccessConfig,
  authenticator: () => CallerAuthenticator | undefined,
  approvalPageConfig: () => ApprovalPageConfig | undefined = () => undefined,
): HttpHandlers {
  const exemptions = exemptionActs({ reply: respond, refuse, readJson, maxDays: () => access().exemptionMaxDays });
  const proposals = proposalActs({
    reply: respond,
    refuse,
    readJson,
    maxDays: () => access().exemptionMaxDays,
    decider: (caller) => ({
      mayDecide: (kind) => authorized({ ...caller }, kind === "exemption" ? "exempt" : "remediate", access()),
      roleFor: (kind) => grants(kind === "exemption" ? "exempt" : "remediate", access()).named,
    }),
  });
  const guarded = (need: Need, act: (request: HttpRequest) => Act) =>
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
          const auth = authenticator();
          if (!auth) return answer(refuse(503, "NotConfigured", "caller authentication is not configured (AMLGUARD_AUTH_TENANT_ID, AMLGUARD_AUTH_AUDIENCE)", correlationId));
          let principal: Principal;
          try {
            const caller = await auth.authenticateHeaders(request.headers);
            principal = { ...caller, name: caller.name ?? caller.objectId };
          } catch (error) {
            if (error instanceof CallerAuthenticationError) {
              log.warn("amlguard http: unauthenticated", { reason: error.message });
              return answer(refuse(401, "Unauthenticated", error.message, correlationId, { "WWW-Authenticate": error.wwwAuthenticate }));
            }
            if (error instanceof AuthorityUnavailableError) return answer(refuse(503, "AuthorityUnavailable", error.message, correlationId, { "Retry-After": "30" }));
            throw error;
          }
          if (!authorized(principal, need, access())) {
            log.warn("amlguard http: forbidden", { principal: principal.objectId, need });
            const role = grants(need, access()).named;
            const overage = principal.groupsOverage ? " (the token lists no groups: too many to include; grant the app role instead)" : "";
            // RFC 6750 §3.1: a valid token without the needed permission is 403 insufficient_scope.
            return answer(refuse(403, "Forbidden", `the caller lacks the ${role} role${overage}`, correlationId, { "WWW-Authenticate": `Bearer error="insufficient_scope", error_description="the ${role} app role is needed"` }));
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

  // The page reads no runtime; it goes through the wrapper for its log line and metrics like every other answer.
  const page = withInvocation<HttpRequest, HttpResponseInit>(
    { source: "http", getRuntime, onError: () => ({ status: 500, body: "The approval page could not be served (see the Function App's log).\n", headers: { "Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff" } }) },
    async (request, { log }) => ({ result: approvalPage(request, approvalPageConfig, log) }),
  );

  return {
    remediate: guarded("remediate", (request) => async (principal, deps, correlationId) => {
      const answer = (response: HttpResponseInit): Handled<HttpResponseInit> => ({ result: response });
      const body = await readJson(request, correlationId);
      if ("response" in body) return answer(body.response);
      const json = body.json;
      const parsed = remediateRequestSchema.safeParse(json, { reportInput: true });
      if (!parsed.success) {
        const problems = describeIssues(parsed.error.issues, (path) => ({ name: path.length ? String(path[0]) : "the body" }));
        return answer(refuse(400, "InvalidRequest", problems, correlationId));
      }
      const result = await manualRemediate(parsed.data, actorOf(principal), `http:${principal.name}`, deps);
      return { result: respond(200, { ...result }, result.correlationId), counters: countersOf(result.findings) };
    }),
    findings: guarded("read", (request) => async (_principal, deps, correlationId) => {
      const resourceId = request.query.get("resourceId");
      if (!resourceId) return { result: refuse(400, "InvalidRequest", "resourceId query parameter is required", correlationId) };
      const result = await manualFindings(resourceId, deps);
      return { result: respond(200, { resourceId: result.resourceId, findings: result.findings }, correlationId) };
    }),
    approveExemption: guarded("exempt", exemptions.approve),
    listExemptions: guarded("read-exemptions", exemptions.list),
    revokeExemption: guarded("exempt", exemptions.revoke),
    listProposals: guarded("read-proposals", proposals.list),
    getProposal: pageOr(guarded("read-proposals", proposals.get), page),
    approveProposal: guarded("decide-proposal", proposals.approve),
    rejectProposal: guarded("decide-proposal", proposals.reject),
    exemptProposal: guarded("exempt", proposals.exempt),
  };
}
