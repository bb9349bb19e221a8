import type { HttpRequest, HttpResponseInit } from "@azure/functions";
import { z } from "zod";
import { approvalPageResponse, type ApprovalPageInput } from "../approval-page/page.js";
import { describeError } from "../errors.js";
import { DEFAULT_EXEMPTION_MAX_DAYS } from "../exemptions/approve.js";
import type { Logger } from "../log.js";
import type { ManualDeps } from "../manual/remediate.js";
import { approveProposal, exemptInstead, rejectProposal, type Decider, type ProposalDeps } from "../proposals/approve.js";
import { PROPOSAL_ID, PROPOSAL_STATUSES, type Proposal } from "../proposals/store.js";
import { exemptOfferFor, statusAt, viewOf } from "../proposals/view.js";
import { NO_COUNTS } from "../telemetry.js";
import { describeIssues } from "../validation.js";
import { actorOf, type ReadJson, type Refuse, type Reply } from "./exemptions.js";
import type { Handled } from "./invocation.js";

/** The caller as the HTTP layer knows it (src/handlers/http.ts Principal). */
interface Caller {
  objectId: string;
  name: string;
  appId?: string;
}

export type ApprovalPageConfig = ApprovalPageInput["config"];

const exemptSchema = z.strictObject({
  reason: z.string().trim().min(3, "must say why (3 characters or more)").max(500),
  expires: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "must be a date, YYYY-MM-DD"),
});
const rejectSchema = z.strictObject({ reason: z.string().trim().min(3, "must say why (3 characters or more)").max(500).optional() });

/**
 * A browser opening a proposal's link from an alert: no Authorization header (a link carries no token) and HTML
 * accepted. It gets the approval page, which signs the person in and calls this same API with their token.
 */
export function wantsApprovalPage(request: HttpRequest): boolean {
  return !request.headers.get("authorization") && /\btext\/html\b/i.test(request.headers.get("accept") ?? "");
}

/**
 * The approval page for a proposal id, or a plain answer when the id is malformed or the page cannot sign anyone in.
 * The settings are read here, inside the invocation: invalid ones are a 503 and one log line naming the setting.
 */
export function approvalPage(request: HttpRequest, config: () => ApprovalPageConfig | undefined, log: Logger): HttpResponseInit {
  const id = request.params.id ?? "";
  const plain = (status: number, text: string): HttpResponseInit => ({ status, body: `${text}\n`, headers: { "Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff" } });
  if (!PROPOSAL_ID.test(id)) return plain(400, "This is not a proposal link: the proposal id must be a GUID, as the alert gives it.");
  let settings: ApprovalPageConfig | undefined;
  try {
    settings = config();
  } catch (error) {
    log.error(`amlguard approval page: ${describeError(error)}`);
    return plain(503, `The approval page cannot start: the Function App's settings are invalid (see its log). Decide from a terminal: amlguard proposals approve ${id}`);
  }
  if (!settings) return plain(503, `The approval page is not configured (AMLGUARD_AUTH_TENANT_ID, AMLGUARD_AUTH_AUDIENCE). Decide from a terminal: amlguard proposals approve ${id}`);
  return approvalPageResponse({ proposalId: id.toLowerCase(), config: settings });
}

/**
 * GET /api/proposals[?status=], GET /api/proposals/{id}, POST /api/proposals/{id}/approve|reject, after the caller was
 * authenticated and authorised (src/handlers/http.ts). Approving or rejecting needs the role of the proposal's kind
 * (`mayDecide`): AmlGuard.Remediate for a remediation, AmlGuard.Exempt for an exemption. ManualErrors from the core
 * are answered by the caller.
 */
export function proposalActs(io: {
  reply: Reply;
  refuse: Refuse;
  readJson: ReadJson;
  maxDays: () => number | undefined;
  decider: (caller: Caller & { roles: string[]; groups: string[] }) => Pick<Decider, "mayDecide" | "roleFor">;
}) {
  const { reply, refuse, readJson } = io;
  const withProposals = (deps: ManualDeps): ProposalDeps | undefined => (deps.proposals ? { ...deps, proposals: deps.proposals, exemptionMaxDays: io.maxDays() ?? DEFAULT_EXEMPTION_MAX_DAYS } : undefined);
  const notConfigured = (correlationId: string): Handled<HttpResponseInit> => ({ result: refuse(503, "NotConfigured", "proposals are not configured (no proposals table)", correlationId) });
  const badId = (correlationId: string): Handled<HttpResponseInit> => ({ result: refuse(400, "InvalidRequest", "the proposal id must be a GUID, as GET /api/proposals lists it", correlationId) });
  const deciderOf = (caller: Caller & { roles: string[]; groups: string[] }): Decider => ({ actor: actorOf(caller), trigger: `http:${caller.name}`, ...io.decider(caller) });
  type Act = (caller: Caller & { roles: string[]; groups: string[] }, deps: ManualDeps, correlationId: string) => Promise<Handled<HttpResponseInit>>;

  return {
    list: (request: HttpRequest): Act => async (_caller, deps, correlationId) => {
      if (!deps.proposals) return notConfigured(correlationId);
      const status = request.query.get("status");
      if (status !== null && !(PROPOSAL_STATUSES as readonly string[]).includes(status)) {
        return { result: refuse(400, "InvalidRequest", `status must be one of ${PROPOSAL_STATUSES.join(", ")}`, correlationId) };
      }
      const now = deps.now();
      const all = await deps.proposals.list();
      const shown = status ? all.filter((p: Proposal) => statusAt(p, now) === status) : all;
      return { result: reply(200, { proposals: shown.map((p) => viewOf(p, now)) }, correlationId) };
    },
    get: (request: HttpRequest): Act => async (_caller, deps, correlationId) => {
      if (!deps.proposals) return notConfigured(correlationId);
      const id = request.params.id ?? "";
      if (!PROPOSAL_ID.test(id)) return badId(correlationId);
      const stored = await deps.proposals.get(id);
      if (!stored) return { result: refuse(404, "ProposalNotFound", "no proposal has that id", correlationId) };
      const now = deps.now();
      const exemptInstead = exemptOfferFor(stored.proposal, now, io.maxDays() ?? DEFAULT_EXEMPTION_MAX_DAYS);
      return { result: reply(200, { ...viewOf(stored.proposal, now), ...(exemptInstead ? { exemptInstead } : {}) }, correlationId) };
    },
    approve: (request: HttpRequest): Act => async (caller, deps, correlationId) => {
      const proposalDeps = withProposals(deps);
      if (!proposalDeps) return notConfigured(correlationId);
      const id = request.params.id ?? "";
      if (!PROPOSAL_ID.test(id)) return badId(correlationId);
      const answer = await approveProposal(id, deciderOf(caller), proposalDeps);
      if (answer.kind === "superseded") {
        return { result: reply(409, { error: { code: "ProposalSuperseded", message: answer.message }, proposal: answer.proposal, ...(answer.next ? { next: answer.next } : {}) }, correlationId) };
      }
      const counters = { ...NO_COUNTS, remediations: answer.result.decision === "remediated" ? 1 : 0, failures: answer.result.decision === "failed" ? 1 : 0 };
      return { result: reply(200, { proposal: answer.proposal, result: answer.result }, correlationId), counters };
    },
    /** POST /api/proposals/{id}/exempt {expires, reason}: the page's "Exempt instead…" (AmlGuard.Exempt, checked by the caller). */
    exempt: (request: HttpRequest): Act => async (caller, deps, correlationId) => {
      const proposalDeps = withProposals(deps);
      if (!proposalDeps) return notConfigured(correlationId);
      const id = request.params.id ?? "";
      if (!PROPOSAL_ID.test(id)) return badId(correlationId);
      const body = await readJson(request, correlationId);
      if ("response" in body) return { result: body.response };
      const parsed = exemptSchema.safeParse(body.json, { reportInput: true });
      if (!parsed.success) return { result: refuse(400, "InvalidRequest", describeIssues(parsed.error.issues, (path) => ({ name: path.length ? String(path[0]) : "the body" })), correlationId) };
      const { exemption, proposal } = await exemptInstead(id, deciderOf(caller), parsed.data, proposalDeps);
      return { result: reply(201, { exemption, proposal }, correlationId) };
    },
    reject: (request: HttpRequest): Act => async (caller, deps, correlationId) => {
      const proposalDeps = withProposals(deps);
      if (!proposalDeps) return notConfigured(correlationId);
      const id = request.params.id ?? "";
      if (!PROPOSAL_ID.test(id)) return badId(correlationId);
      // The body is optional: an empty POST rejects without a reason.
      let reason: string | undefined;
      if ((request.headers.get("content-length") ?? "0") !== "0" || request.headers.get("content-type")) {
        const body = await readJson(request, correlationId);
        if ("response" in body) return { result: body.response };
        const parsed = rejectSchema.safeParse(body.json ?? {}, { reportInput: true });
        if (!parsed.success) return { result: refuse(400, "InvalidRequest", describeIssues(parsed.error.issues, (path) => ({ name: path.length ? String(path[0]) : "the body" })), correlationId) };
        reason = parsed.data.reason;
      }
      const rejected = await rejectProposal(id, deciderOf(caller), reason, proposalDeps);
      return { result: reply(200, { proposal: rejected }, correlationId) };
    },
  };
}
