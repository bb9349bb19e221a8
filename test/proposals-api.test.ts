import { randomBytes } from "node:crypto";
import azureFunctions, { type HttpResponseInit } from "@azure/functions";
import { afterEach, describe, expect, it } from "vitest";
import { readPath, type JsonObject } from "../src/arm/resource.js";
import { EntraTokenValidator } from "../src/auth/entra-token.js";
import { ConfigError, type HttpAccessConfig } from "../src/config.js";
import { createHttpHandlers, type HttpHandlers } from "../src/handlers/http.js";
import { newInvocationContext } from "../src/handlers/local-context.js";
import { expireProposals } from "../src/proposals/expire.js";
import { ProposalStore } from "../src/proposals/store.js";
import { openTable, tableNames } from "../src/state/tables.js";
import { cli } from "./helpers/cli.js";
import type { SandboxPrincipal } from "../src/sandbox/events.js";
import { openManual } from "../src/runtime.js";
import { armExample, variant } from "./helpers/fixtures.js";
import { azuriteForFile, startHarness, USER, waitForEvents, type Harness } from "./helpers/pipeline.js";
import { rehome, SUB, WS_ID } from "./helpers/sandbox.js";

// GET/POST /api/proposals through the real handlers (@azure/functions HttpRequest and InvocationContext), with Entra
// access tokens minted by the sandbox's authority and validated in-process, on a workspace in mode approve.
const { HttpRequest } = azureFunctions;
const API_CLIENT_ID = "6f1c3e55-0d57-4c55-9a5e-6b7a1c0d0a11";
const BASE_URL = "https://amlguard-func.azurewebsites.net";
const ACCESS: HttpAccessConfig = { remediateRole: "AmlGuard.Remediate", readRole: "AmlGuard.Read", remediateGroups: [], readGroups: [], exemptRole: "AmlGuard.Exempt", exemptGroups: [], exemptionMaxDays: 30, rateLimitPerMinute: 1000 };
const APPROVER: SandboxPrincipal = { objectId: "5ec5ec00-2222-4000-8000-00000000005e", name: "bob@contoso.example", type: "User" };
const READER: SandboxPrincipal = { objectId: "4ead0000-0000-4000-8000-000000000002", name: "reader@contoso.example", type: "User" };
const PAGE = { tenantId: "00000000-0000-4000-8000-0000000000aa", clientId: API_CLIENT_ID, authorityHost: "https://login.microsoftonline.com", apiScope: `api://${API_CLIENT_ID}/user_impersonation`, apiBase: "/api" };

const azurite = azuriteForFile();
let h: Harness;
afterEach(async () => {
  await h?.close();
});

interface Api {
  handlers: HttpHandlers;
  token(principal: SandboxPrincipal, roles: string[]): Promise<string>;
}

async function setup(): Promise<Api> {
  const private_ = variant(armExample("workspace-get"), (w) => (w.properties.publicNetworkAccess = "Disabled"));
  h = await startHarness(azurite.connectionString, [rehome(private_, WS_ID)], { defaultMode: "alert", ruleModes: { "workspace-public-network-access": "approve" }, proposalTtlMs: 3_600_000, publicBaseUrl: BASE_URL });
  h.runtime.manual = await openManual({ connectionString: azurite.connectionString }, [SUB], ACCESS.rateLimitPerMinute, `x${randomBytes(5).toString("hex")}`);
  const validator = new EntraTokenValidator({ tenantId: h.sandbox.authority.tenantId, audiences: [API_CLIENT_ID], authorityHost: h.sandbox.endpoint }, { ca: h.sandbox.ca });
  return {
    handlers: createHttpHandlers(async () => h.runtime, () => ACCESS, () => validator, () => PAGE),
    token: (principal, roles) => h.sandbox.authority.mintAccessToken(principal, { audience: API_CLIENT_ID, roles }),
  };
}

/** The user (alice) writes; the event is delivered (twice when asked: Event Grid delivers at least once). */
async function userPatch(body: JsonObject, deliveries = 1): Promise<void> {
  await h.userArm.patch(WS_ID, body);
  const [event] = await waitForEvents(h, 1);
  for (let i = 0; i < deliveries; i += 1) await h.deliver(event);
}

const openToInternet = (deliveries = 1) => userPatch({ properties: { publicNetworkAccess: "Enabled" } }, deliveries);
const url = (path: string) => `${BASE_URL}/api/${path}`;
const auth = (token: string) => ({ authorization: `Bearer ${token}` });
const get = (path: string, headers: Record<string, string>, query: Record<string, string> = {}, params: Record<string, string> = {}) => new HttpRequest({ method: "GET", url: url(path), query, params, headers });
const decide = (id: string, verb: "approve" | "reject", token: string, body?: unknown) =>
  new HttpRequest({
    method: "POST",
    url: url(`proposals/${id}/${verb}`),
    params: { id },
    headers: { ...auth(token), ...(body === undefined ? {} : { "content-type": "application/json" }) },
    ...(body === undefined ? {} : { body: { string: JSON.stringify(body) } }),
  });
const ctx = () => newInvocationContext("proposals");
const body = (response: HttpResponseInit) => response.jsonBody as any;
const pna = async () => readPath((await h.arm.get(WS_ID)).resource, "properties.publicNetworkAccess");
const onlyProposal = async () => {
  const all = await h.runtime.proposals!.list();
  expect(all).toHaveLength(1);
  return all[0]!;
};

describe("mode approve: proposals", () => {
  it("a finding is proposed, not written: one proposal per state (a redelivery makes none), audited with before/after/undo, one alert with the link", async () => {
    await setup();
    await openToInternet(2);
    const proposal = await onlyProposal();
    expect(proposal).toMatchObject({
      kind: "remediation",
      status: "pending",
      resourceId: WS_ID,
      ruleIds: ["workspace-public-network-access"],
      action: { id: "workspace-disable-public-network-access", before: { "properties.publicNetworkAccess": "Enabled" }, after: { "properties.publicNetworkAccess": "Disabled" }, undo: expect.stringMatching(/^az ml workspace update .* --public-network-access Enabled$/) },
      observed: { etag: expect.any(String), values: { "properties.publicNetworkAccess": "Enabled" } },
      requestedBy: { objectId: USER.objectId, name: USER.name },
    });
    expect(Date.parse(proposal.expiresAt) - Date.parse(proposal.createdAt)).toBe(3_600_000);
    expect(h.botWrites()).toBe(0);
    expect(await pna()).toBe("Enabled");
    const proposed = (await h.audit()).filter((r) => r.decision === "proposed");
    expect(proposed).toHaveLength(1);
    expect(proposed[0]).toMatchObject({ ruleId: "workspace-public-network-access", before: { "properties.publicNetworkAccess": "Enabled" }, after: { "properties.publicNetworkAccess": "Disabled" }, undo: proposal.action!.undo, actor: { objectId: USER.objectId } });
    const alerts = h.alerts.filter((a) => a.title.startsWith("Approval needed"));
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ outcome: "needs-action", severity: "high", links: [{ title: "Review and approve", url: `${BASE_URL}/api/proposals/${proposal.id}` }, { title: "Exempt…", url: `${BASE_URL}/api/proposals/${proposal.id}?intent=exempt` }] });
    expect(alerts[0]!.nextStep).toContain(`amlguard proposals approve ${proposal.id}`);
  });

  it("GET lists and reads proposals for readers and approvers; a browser opening the link without a token gets the approval page", async () => {
    const api = await setup();
    await openToInternet();
    const { id } = await onlyProposal();
    const reader = await api.token(READER, ["AmlGuard.Read"]);
    const listed = await api.handlers.listProposals(get("proposals", auth(reader), { status: "pending" }), ctx());
    expect([listed.status, body(listed).proposals.map((p: any) => p.id)]).toEqual([200, [id]]);
    expect(body(await api.handlers.listProposals(get("proposals", auth(reader), { status: "approved" }), ctx())).proposals).toEqual([]);
    const bad = await api.handlers.listProposals(get("proposals", auth(reader), { status: "done" }), ctx());
    expect([bad.status, body(bad).error.message]).toEqual([400, "status must be one of pending, approved, rejected, expired, superseded, exempted"]);
    const one = await api.handlers.getProposal(get(`proposals/${id}`, auth(reader), {}, { id }), ctx());
    expect([one.status, body(one)]).toEqual([200, expect.objectContaining({ id, status: "pending", decidable: true, proposedBy: "amlguard", links: { self: `/api/proposals/${id}`, approve: `/api/proposals/${id}/approve`, reject: `/api/proposals/${id}/reject` }, cli: expect.objectContaining({ approve: `amlguard proposals approve ${id}` }) })]);
    const unknown = await api.handlers.getProposal(get("proposals/x", auth(reader), {}, { id: "00000000-0000-4000-8000-000000000000" }), ctx());
    expect([unknown.status, body(unknown).error.code]).toEqual([404, "ProposalNotFound"]);
    expect((await api.handlers.getProposal(get("proposals/x", auth(reader), {}, { id: "request" }), ctx())).status).toBe(400);
    expect((await api.handlers.listProposals(get("proposals", auth(await api.token(READER, []))), ctx())).status).toBe(403);
    // The alert's link in a browser: no token, HTML accepted. The page holds no proposal data; without HTML, 401.
    const page = await api.handlers.getProposal(get(`proposals/${id}`, { accept: "text/html,application/xhtml+xml" }, {}, { id }), ctx());
    expect([page.status, (page.headers as Record<string, string>)["Content-Type"]]).toEqual([200, "text/html; charset=utf-8"]);
    expect(String(page.body)).not.toContain(WS_ID);
    const noToken = await api.handlers.getProposal(get(`proposals/${id}`, { accept: "application/json" }, {}, { id }), ctx());
    expect([noToken.status, body(noToken).error.code]).toEqual([401, "Unauthenticated"]);
  });

  it("the writer may not approve, a reader may not; an approver does: remediated through the pipeline, audited, reported back; a second approval writes nothing", async () => {
    const api = await setup();
    await openToInternet();
    const { id } = await onlyProposal();
    const self = await api.handlers.approveProposal(decide(id, "approve", await api.token(USER, ["AmlGuard.Remediate"])), ctx());
    expect([self.status, body(self).error]).toEqual([403, { code: "SelfApprovalRefused", message: "you made the change this proposal answers; another person must approve it" }]);
    const reader = await api.handlers.approveProposal(decide(id, "approve", await api.token(READER, ["AmlGuard.Read"])), ctx());
    expect([reader.status, body(reader).error.message]).toEqual([403, "the caller lacks the AmlGuard.Remediate or AmlGuard.Exempt role"]);
    const exemptOnly = await api.handlers.approveProposal(decide(id, "approve", await api.token(APPROVER, ["AmlGuard.Exempt"])), ctx());
    expect([exemptOnly.status, body(exemptOnly).error.message]).toEqual([403, "the caller lacks the AmlGuard.Remediate role needed to approve a remediation proposal"]);
    expect(h.botWrites()).toBe(0);

    const approver = await api.token(APPROVER, ["AmlGuard.Remediate"]);
    const approved = await api.handlers.approveProposal(decide(id, "approve", approver), ctx());
    expect(approved.status).toBe(200);
    expect(body(approved)).toMatchObject({ proposal: { id, status: "approved", decidable: false, decidedBy: { objectId: APPROVER.objectId } }, result: { decision: "remediated", undo: expect.stringContaining("--public-network-access Enabled") } });
    expect(await pna()).toBe("Disabled");
    expect(h.botWrites()).toBe(1);
    // The write's own event comes back and is recognised by its recorded correlation id.
    await h.deliver((await waitForEvents(h, 1))[0]);
    const audit = await h.audit();
    expect(audit.find((r) => r.decision === "proposal-approved")).toMatchObject({ actor: { objectId: APPROVER.objectId }, message: expect.stringContaining(`proposed by amlguard for the write by ${USER.name}`) });
    expect(audit.find((r) => r.decision === "remediated")).toMatchObject({ reason: `proposal ${id} approved by ${APPROVER.name}`, writeCorrelationId: expect.any(String) });
    expect(audit.some((r) => r.decision === "own-write")).toBe(true);
    expect(h.alerts.find((a) => a.outcome === "remediated")).toMatchObject({ actionTaken: expect.stringMatching(/^Approved by bob@contoso\.example: PATCH the workspace/), undo: expect.stringContaining("--public-network-access Enabled") });

    const again = await api.handlers.approveProposal(decide(id, "approve", approver), ctx());
    expect([again.status, body(again).error.code]).toEqual([409, "AlreadyDecided"]);
    expect(h.botWrites()).toBe(1);
  });

  it("an expired proposal is refused (410), marked expired and alerted once; nothing is written", async () => {
    const api = await setup();
    await openToInternet();
    const { id, expiresAt } = await onlyProposal();
    h.runtime.now = () => new Date(Date.parse(expiresAt) + 1000);
    const late = await api.handlers.approveProposal(decide(id, "approve", await api.token(APPROVER, ["AmlGuard.Remediate"])), ctx());
    expect([late.status, body(late).error.code]).toEqual([410, "ProposalExpired"]);
    expect((await onlyProposal()).status).toBe("expired");
    expect(await expireProposals({ proposals: h.runtime.proposals!, audit: h.runtime.audit, alerts: h.runtime.alerts!, now: h.runtime.now })).toBe(0);
    expect(h.alerts.filter((a) => a.title === "Proposal expired: nothing was written")).toHaveLength(1);
    expect((await h.audit()).filter((r) => r.decision === "proposal-expired")).toHaveLength(1);
    expect(h.botWrites()).toBe(0);
  });

  it("the sweep expires pending proposals past their expiry, once", async () => {
    await setup();
    await openToInternet();
    const { expiresAt } = await onlyProposal();
    const deps = { proposals: h.runtime.proposals!, audit: h.runtime.audit, alerts: h.runtime.alerts!, now: () => new Date(Date.parse(expiresAt) - 1000) };
    expect(await expireProposals(deps)).toBe(0);
    const later = { ...deps, now: () => new Date(Date.parse(expiresAt) + 1000) };
    expect([await expireProposals(later), await expireProposals(later)]).toEqual([1, 0]);
    expect((await onlyProposal()).status).toBe("expired");
  });

  it("a resource changed since the proposal is not written: superseded at approval (409), the current state judged afresh", async () => {
    const api = await setup();
    await openToInternet();
    const { id } = await onlyProposal();
    // alice closes it again herself: its event finds it compliant, so no newer proposal supersedes the first.
    await userPatch({ properties: { publicNetworkAccess: "Disabled" } });
    const response = await api.handlers.approveProposal(decide(id, "approve", await api.token(APPROVER, ["AmlGuard.Remediate"])), ctx());
    expect(response.status).toBe(409);
    expect(body(response)).toMatchObject({ error: { code: "ProposalSuperseded", message: expect.stringMatching(/ETag differs\): nothing was written; no finding of this proposal stands now$/) }, proposal: { id, status: "superseded" } });
    expect(body(response).next).toBeUndefined();
    expect(h.botWrites()).toBe(0);
    expect((await h.audit()).some((r) => r.decision === "proposal-superseded" && r.actor?.objectId === APPROVER.objectId)).toBe(true);
  });

  it("rejecting records the reason, audits and alerts; the writer may not reject; a bad body is 400", async () => {
    const api = await setup();
    await openToInternet();
    const { id } = await onlyProposal();
    const own = await api.handlers.rejectProposal(decide(id, "reject", await api.token(USER, ["AmlGuard.Remediate"]), { reason: "it is fine" }), ctx());
    expect([own.status, body(own).error.code]).toEqual([403, "SelfApprovalRefused"]);
    const approver = await api.token(APPROVER, ["AmlGuard.Remediate"]);
    const bad = await api.handlers.rejectProposal(decide(id, "reject", approver, { reason: "ok", extra: 1 }), ctx());
    expect(bad.status).toBe(400);
    const rejected = await api.handlers.rejectProposal(decide(id, "reject", approver, { reason: "partner demo until Friday, CHG-88" }), ctx());
    expect([rejected.status, body(rejected).proposal]).toEqual([200, expect.objectContaining({ status: "rejected", decisionReason: "partner demo until Friday, CHG-88", decidedBy: expect.objectContaining({ objectId: APPROVER.objectId }) })]);
    expect((await h.audit()).find((r) => r.decision === "proposal-rejected")).toMatchObject({ reason: "partner demo until Friday, CHG-88", actor: { objectId: APPROVER.objectId } });
    expect(h.alerts.some((a) => a.title === "Proposal rejected by bob@contoso.example: nothing was written")).toBe(true);
    expect((await api.handlers.approveProposal(decide(id, "approve", approver), ctx())).status).toBe(409);
    expect(h.botWrites()).toBe(0);
  });

  it("an exemption request is a proposal of kind exemption: AmlGuard.Exempt approves, never the requester, through approveExemption", async () => {
    const api = await setup();
    const until = new Date(Date.now() + 10 * 86_400_000).toISOString().slice(0, 10);
    await userPatch({ tags: { "amlguard-exempt": `rules=workspace-public-network-access; reason=partner demo CHG-77; expires=${until}` } });
    const proposal = await onlyProposal();
    expect(proposal).toMatchObject({ kind: "exemption", exemption: { rules: ["workspace-public-network-access"], reason: "partner demo CHG-77", expires: until }, requestedBy: { objectId: USER.objectId } });
    expect(h.alerts.find((a) => a.title.startsWith("Exemption requested"))?.links).toEqual([{ title: `Approve exemption until ${until}`, url: `${BASE_URL}/api/proposals/${proposal.id}` }]);
    const remediator = await api.handlers.approveProposal(decide(proposal.id, "approve", await api.token(APPROVER, ["AmlGuard.Remediate"])), ctx());
    expect([remediator.status, body(remediator).error.message]).toEqual([403, "the caller lacks the AmlGuard.Exempt role needed to approve an exemption proposal"]);
    const requester = await api.handlers.approveProposal(decide(proposal.id, "approve", await api.token(USER, ["AmlGuard.Exempt"])), ctx());
    expect([requester.status, body(requester).error.code]).toEqual([403, "SelfApprovalRefused"]);
    const approved = await api.handlers.approveProposal(decide(proposal.id, "approve", await api.token(APPROVER, ["AmlGuard.Exempt"])), ctx());
    expect([approved.status, body(approved).result.decision]).toEqual([200, "exemption-approved"]);
    const [exemption] = await h.runtime.exemptions.forResource(WS_ID);
    expect(exemption).toMatchObject({ id: body(approved).result.exemptionId, rules: ["workspace-public-network-access"], approvedBy: { objectId: APPROVER.objectId }, requestedBy: { objectId: USER.objectId } });
  });
});

describe("exempt instead, and exemptions approved elsewhere", () => {
  const exempt = (token: string, json: unknown) =>
    new HttpRequest({ method: "POST", url: url("exemptions"), headers: { ...auth(token), "content-type": "application/json" }, body: { string: JSON.stringify(json) } });

  it("GET offers Exempt instead with the dates POST /api/exemptions accepts; the writer may not exempt their change (even with AmlGuard.Exempt); another approver's exemption closes the proposal as exempted, audited, nothing written", async () => {
    const api = await setup();
    await openToInternet();
    const proposal = await onlyProposal();
    const at = new Date("2026-11-25T09:30:00Z");
    h.runtime.now = () => at;
    // The proposal's clock moves with the runtime's: made a minute ago, for an hour.
    await h.runtime.proposals!.update((await h.runtime.proposals!.get(proposal.id))!, { createdAt: "2026-11-25T09:29:00.000Z", expiresAt: "2026-11-25T10:29:00.000Z" });
    const reader = await api.token(READER, ["AmlGuard.Read"]);
    const shown = body(await api.handlers.getProposal(get(`proposals/${proposal.id}`, auth(reader), {}, { id: proposal.id }), ctx()));
    // AMLGUARD_EXEMPTION_MAX_DAYS is 30 here: the last day is the one whose end is at most 30 days away.
    expect(shown.exemptInstead).toEqual({ rules: ["workspace-public-network-access"], maxDays: 30, earliest: "2026-11-25", latest: "2026-12-24", suggested: "2026-12-24" });
    const request = { resourceId: WS_ID, rules: shown.exemptInstead.rules, reason: "vendor demo, CHG-501", expires: "2026-12-24" };

    const writer = await api.handlers.approveExemption(exempt(await api.token(USER, ["AmlGuard.Exempt"]), request), ctx());
    expect([writer.status, body(writer).error]).toEqual([403, { code: "SelfApprovalRefused", message: `you made the change proposal ${proposal.id} answers; another person must exempt it (or approve the proposal)` }]);
    const tooLong = await api.handlers.approveExemption(exempt(await api.token(APPROVER, ["AmlGuard.Exempt"]), { ...request, expires: "2026-12-25" }), ctx());
    expect([tooLong.status, body(tooLong).error.code]).toEqual([400, "InvalidExpiry"]);
    expect(await h.runtime.exemptions.forResource(WS_ID)).toEqual([]);
    expect((await h.runtime.proposals!.get(proposal.id))!.proposal.status).toBe("pending");

    const made = await api.handlers.approveExemption(exempt(await api.token(APPROVER, ["AmlGuard.Exempt"]), request), ctx());
    expect(made.status).toBe(201);
    const closed = (await h.runtime.proposals!.get(proposal.id))!.proposal;
    expect(closed).toMatchObject({ status: "exempted", decidedBy: { objectId: APPROVER.objectId }, decisionReason: "vendor demo, CHG-501", result: { decision: "exempted", exemptionId: body(made).id } });
    expect((await h.runtime.proposals!.list("pending"))).toEqual([]);
    expect((await h.audit()).find((r) => r.decision === "proposal-exempted")).toMatchObject({ actor: { objectId: APPROVER.objectId }, message: expect.stringContaining(`proposal ${proposal.id} exempted instead: exemption ${body(made).id}`) });
    const after = body(await api.handlers.getProposal(get(`proposals/${proposal.id}`, auth(reader), {}, { id: proposal.id }), ctx()));
    expect([after.status, after.decidable, after.exemptInstead]).toEqual(["exempted", false, undefined]);
    const late = await api.handlers.approveProposal(decide(proposal.id, "approve", await api.token(APPROVER, ["AmlGuard.Remediate"])), ctx());
    expect([late.status, body(late).error.code]).toEqual([409, "AlreadyDecided"]);
    expect(h.botWrites()).toBe(0);
    expect(await pna()).toBe("Enabled");
  });

  it("POST /api/proposals/{id}/exempt (the page's Exempt instead): AmlGuard.Exempt, never the writer, a strict body; 201 with the exemption and the proposal exempted", async () => {
    const api = await setup();
    await openToInternet();
    const { id } = await onlyProposal();
    const post = (token: string, json: unknown) => new HttpRequest({ method: "POST", url: url(`proposals/${id}/exempt`), params: { id }, headers: { ...auth(token), "content-type": "application/json" }, body: { string: JSON.stringify(json) } });
    const until = new Date(h.runtime.now().getTime() + 5 * 86_400_000).toISOString().slice(0, 10);
    const remediator = await api.handlers.exemptProposal(post(await api.token(APPROVER, ["AmlGuard.Remediate"]), { expires: until, reason: "demo week" }), ctx());
    expect([remediator.status, body(remediator).error.message]).toEqual([403, "the caller lacks the AmlGuard.Exempt role"]);
    const writer = await api.handlers.exemptProposal(post(await api.token(USER, ["AmlGuard.Exempt"]), { expires: until, reason: "demo week" }), ctx());
    expect([writer.status, body(writer).error]).toEqual([403, { code: "SelfApprovalRefused", message: "you made the change this proposal answers; another person must exempt it" }]);
    const approver = await api.token(APPROVER, ["AmlGuard.Exempt"]);
    const bad = await api.handlers.exemptProposal(post(approver, { expires: until, reason: "demo week", rules: "*" }), ctx());
    expect([bad.status, body(bad).error.code]).toEqual([400, "InvalidRequest"]);
    expect(await h.runtime.exemptions.forResource(WS_ID)).toEqual([]);
    const made = await api.handlers.exemptProposal(post(approver, { expires: until, reason: "demo week" }), ctx());
    expect(made.status).toBe(201);
    expect(body(made)).toMatchObject({ exemption: { rules: ["workspace-public-network-access"], approvedBy: { objectId: APPROVER.objectId } }, proposal: { id, status: "exempted", decidable: false, result: { exemptionId: body(made).exemption.id } } });
    const again = await api.handlers.exemptProposal(post(approver, { expires: until, reason: "demo week" }), ctx());
    expect([again.status, body(again).error.code]).toEqual([409, "AlreadyDecided"]);
    expect(await h.runtime.exemptions.forResource(WS_ID)).toHaveLength(1);
    expect(h.botWrites()).toBe(0);
  });

  it("approving an exemption through POST /api/exemptions closes its pending request proposal: approved by the approver, with the exemption's id, audited", async () => {
    const api = await setup();
    const until = new Date(Date.now() + 10 * 86_400_000).toISOString().slice(0, 10);
    await userPatch({ tags: { "amlguard-exempt": `rules=workspace-public-network-access; reason=partner demo CHG-78; expires=${until}` } });
    const proposal = await onlyProposal();
    const made = await api.handlers.approveExemption(exempt(await api.token(APPROVER, ["AmlGuard.Exempt"]), { resourceId: WS_ID, rules: ["workspace-public-network-access"], reason: "partner demo CHG-78", expires: until }), ctx());
    expect(made.status).toBe(201);
    expect((await onlyProposal())).toMatchObject({ id: proposal.id, status: "approved", decidedBy: { objectId: APPROVER.objectId }, result: { decision: "exemption-approved", exemptionId: body(made).id } });
    expect((await h.audit()).find((r) => r.decision === "proposal-approved")).toMatchObject({ actor: { objectId: APPROVER.objectId }, message: expect.stringContaining(`proposal ${proposal.id} approved as exemption ${body(made).id}`) });
    const reader = await api.token(READER, ["AmlGuard.Read"]);
    expect(body(await api.handlers.listProposals(get("proposals", auth(reader), { status: "pending" }), ctx())).proposals).toEqual([]);
    const again = await api.handlers.approveProposal(decide(proposal.id, "approve", await api.token(APPROVER, ["AmlGuard.Exempt"])), ctx());
    expect([again.status, body(again).error.code]).toEqual([409, "AlreadyDecided"]);
    expect(await h.runtime.exemptions.forResource(WS_ID)).toHaveLength(1);
  });

  it("the page's settings are read inside the invocation: invalid ones are a plain 503 and one log line, and the page is counted like every answer", async () => {
    await setup();
    const handlers = createHttpHandlers(async () => h.runtime, () => ACCESS, () => undefined, () => {
      throw new ConfigError('AMLGUARD_APPROVAL_CLIENT_ID: "x" must be a GUID');
    });
    const context = ctx();
    const lines: string[] = [];
    context.error = (...args: unknown[]) => void lines.push(`error ${args.join(" ")}`);
    context.log = (...args: unknown[]) => void lines.push(`log ${args.join(" ")}`);
    const id = "0d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6";
    const page = await handlers.getProposal(get(`proposals/${id}`, { accept: "text/html" }, {}, { id }), context);
    expect([page.status, (page.headers as Record<string, string>)["Content-Type"], String(page.body)]).toEqual([503, "text/plain; charset=utf-8", `The approval page cannot start: the Function App's settings are invalid (see its log). Decide from a terminal: amlguard proposals approve ${id}\n`]);
    expect(lines.filter((l) => l.startsWith("error"))).toEqual([expect.stringContaining('amlguard approval page: ConfigError: AMLGUARD_APPROVAL_CLIENT_ID: "x" must be a GUID')]);
    expect(lines.some((l) => l.includes("amlguard.metrics"))).toBe(true);
  });
});

describe("amlguard proposals", () => {
  it("list, show and reject through the same core, as the identity its token proves with the kind's role; the writer is refused; an expired one is 410 (exit 2)", async () => {
    const api = await setup();
    // The CLI reads the unprefixed tables: proposals are put there directly, as the pipeline would make them.
    const store = new ProposalStore(await openTable({ connectionString: azurite.connectionString }, tableNames().proposals));
    const now = Date.now();
    const made = (n: number, expiresAt: number) =>
      store.propose(
        {
          kind: "remediation",
          resourceId: WS_ID,
          ruleIds: ["workspace-public-network-access"],
          findings: [{ ruleId: "workspace-public-network-access", title: "Workspace is reachable from the public internet", severity: "high", evidence: "publicNetworkAccess is Enabled" }],
          action: { id: `workspace-disable-public-network-access-${n}`, description: "PATCH the workspace: publicNetworkAccess Disabled", before: { "properties.publicNetworkAccess": "Enabled" }, after: { "properties.publicNetworkAccess": "Disabled" }, undo: "az ml workspace update --public-network-access Enabled" },
          observed: { etag: `"${n}"`, values: { "properties.publicNetworkAccess": "Enabled" } },
          requestedBy: { objectId: USER.objectId, name: USER.name, principalType: "User" },
          correlationId: "c0ffee00-0000-4000-8000-000000000001",
          createdAt: new Date(now).toISOString(),
          expiresAt: new Date(expiresAt).toISOString(),
        },
        `cli-test|${n}`,
      );
    const { proposal: live } = await made(1, now + 3_600_000);
    const { proposal: old } = await made(2, now - 1000);
    const env = {
      AMLGUARD_STORAGE_CONNECTION_STRING: azurite.connectionString,
      AMLGUARD_SUBSCRIPTION_IDS: SUB,
      AMLGUARD_AUTH_TENANT_ID: h.sandbox.authority.tenantId,
      AMLGUARD_AUTH_AUDIENCE: API_CLIENT_ID,
      AMLGUARD_AUTH_AUTHORITY_HOST: h.sandbox.endpoint,
    };
    // What `az login` as that principal would hand the CLI: a token for amlguard's API carrying its app roles.
    const signedIn = (principal: SandboxPrincipal, roles: string[]) => ({ credential: { getToken: async () => ({ token: await api.token(principal, roles), expiresOnTimestamp: Date.now() + 3_600_000 }) }, authorityCa: h.sandbox.ca });

    const table = await cli(["proposals", "list", "--status", "pending"], env);
    expect([table.code, table.stdout]).toEqual([0, expect.stringContaining(live.id)]);
    expect(table.stdout).toContain(WS_ID);
    expect(table.stdout).not.toContain(old.id);
    const shown = await cli(["proposals", "show", live.id], env);
    expect(shown.stdout).toMatch(new RegExp(`^Changed by: ${USER.name} \\(${USER.objectId}\\)$`, "m"));
    expect(shown.stdout).toContain(`Approve: amlguard proposals approve ${live.id}`);

    const reader = await cli(["proposals", "approve", live.id], env, signedIn(READER, ["AmlGuard.Read"]));
    expect([reader.code, reader.stderr]).toEqual([2, "amlguard: proposals approve needs the AmlGuard.Remediate role on amlguard's API; reader@contoso.example does not hold it\n"]);
    const writer = await cli(["proposals", "approve", live.id], env, signedIn(USER, ["AmlGuard.Remediate"]));
    expect([writer.code, writer.stderr]).toEqual([2, "amlguard: you made the change this proposal answers; another person must approve it\n"]);
    const bob = signedIn(APPROVER, ["AmlGuard.Remediate"]);
    const expired = await cli(["proposals", "approve", old.id], env, bob);
    // No channel is configured here: the expiry alert goes to the log (stderr), then the refusal.
    expect([expired.code, expired.stderr]).toEqual([2, expect.stringMatching(/^warning: alert: needs-action: Proposal expired: nothing was written\namlguard: this proposal expired at .*; nothing was written\n$/)]);
    const rejected = await cli(["proposals", "reject", live.id, "--reason", "known demo, CHG-9", "--json"], env, bob);
    expect([rejected.code, JSON.parse(rejected.stdout)]).toEqual([0, expect.objectContaining({ id: live.id, status: "rejected", decidedBy: expect.objectContaining({ objectId: APPROVER.objectId }), decisionReason: "known demo, CHG-9" })]);
    expect(JSON.parse((await cli(["proposals", "list", "--json"], env)).stdout).map((p: any) => [p.id, p.status]).sort()).toEqual([[live.id, "rejected"], [old.id, "expired"]].sort());
  });
});
