import { describe, expect, it } from "vitest";
import type { Alert } from "../src/alerts/alert.js";
import { renderEmail } from "../src/alerts/email.js";
import { inertAlert } from "../src/alerts/inert-alert.js";
import { alertCard } from "../src/alerts/teams-card.js";
import type { ArmRead } from "../src/azure/arm-client.js";
import { ConfigError, loadConfig } from "../src/config.js";
import { decide } from "../src/pipeline/decide.js";
import { stillAsObserved } from "../src/proposals/approve.js";
import { decisionLinks } from "../src/proposals/links.js";
import type { Proposal } from "../src/proposals/store.js";
import { statusAt, viewOf } from "../src/proposals/view.js";
import { planFix } from "../src/remediation/index.js";
import { evaluateRules } from "../src/rules/index.js";
import { adaptiveCardProblems } from "../src/sandbox/adaptive-card-check.js";
import { armExample, variant } from "./helpers/fixtures.js";
import { rehome, WS_ID } from "./helpers/sandbox.js";
import { cli } from "./helpers/cli.js";

const PNA = "workspace-public-network-access";
const publicWorkspace = rehome(variant(armExample("workspace-get"), (w) => (w.properties.publicNetworkAccess = "Enabled")), WS_ID);

function stepsFor(modes: Record<string, "remediate" | "approve" | "alert" | "off">) {
  const read: ArmRead = { resource: publicWorkspace, etag: '"0a00"' };
  const evaluation = evaluateRules(publicWorkspace, {})!;
  return decide({
    evaluation,
    request: { kind: "none" },
    approved: [],
    requestIsNew: false,
    modeOf: (rule) => modes[rule.id] ?? "off",
    ownWrite: undefined,
    planFor: (rule) => planFix(rule.fix, "workspace", read, {}),
  });
}

describe("decide: mode approve", () => {
  it("a finding whose rule plans a fix becomes a propose step carrying the same plan a write would", () => {
    const approve = stepsFor({ [PNA]: "approve" }).filter((s) => s.type === "propose" || s.type === "write");
    const remediate = stepsFor({ [PNA]: "remediate" }).filter((s) => s.type === "propose" || s.type === "write");
    expect(approve.map((s) => s.type)).toEqual(["propose"]);
    expect(remediate.map((s) => s.type)).toEqual(["write"]);
    const proposed = approve[0] as Extract<(typeof approve)[number], { type: "propose" }>;
    const written = remediate[0] as Extract<(typeof remediate)[number], { type: "write" }>;
    expect([proposed.plan.action.id, proposed.plan.before, proposed.plan.intended, proposed.plan.undo]).toEqual([written.plan.action.id, written.plan.before, written.plan.intended, written.plan.undo]);
    expect(proposed.violations.map((v) => v.rule.id)).toEqual([PNA]);
  });

  it("a rule with no automatic fix falls back to an alert, and says so", () => {
    const steps = stepsFor({ "workspace-no-user-assigned-identity": "approve" });
    expect(steps.filter((s) => s.type === "propose")).toEqual([]);
    const alerted = steps.find((s) => s.type === "alert");
    expect(alerted).toMatchObject({ outcome: { decision: "alerted", ruleId: "workspace-no-user-assigned-identity", message: "rule mode is approve, but no automatic remediation exists for this rule: alerted instead" } });
  });
});

describe("settings: mode approve", () => {
  it("AMLGUARD_DEFAULT_MODE and AMLGUARD_RULE_MODES accept approve; AMLGUARD_PROPOSAL_TTL is an ISO 8601 duration, default 24 h", () => {
    const config = loadConfig({ AMLGUARD_DEFAULT_MODE: "approve", AMLGUARD_RULE_MODES: `${PNA}=approve,compute-local-auth=alert` });
    expect([config.defaultMode, config.ruleModes, config.proposalTtlMs, config.publicBaseUrl]).toEqual(["approve", { [PNA]: "approve", "compute-local-auth": "alert" }, 86_400_000, undefined]);
    expect(loadConfig({ AMLGUARD_PROPOSAL_TTL: "P2D", AMLGUARD_PUBLIC_BASE_URL: "https://amlguard-func.azurewebsites.net/" })).toMatchObject({ proposalTtlMs: 172_800_000, publicBaseUrl: "https://amlguard-func.azurewebsites.net" });
    expect(loadConfig({ AMLGUARD_PUBLIC_BASE_URL: "http://127.0.0.1:7071" }).publicBaseUrl).toBe("http://127.0.0.1:7071");
  });

  it.each([
    [{ AMLGUARD_PROPOSAL_TTL: "24" }, /AMLGUARD_PROPOSAL_TTL: "24" must be an ISO 8601 duration like PT12H or P2D/],
    [{ AMLGUARD_PROPOSAL_TTL: "P1M" }, /AMLGUARD_PROPOSAL_TTL: "P1M" must be an ISO 8601 duration/],
    [{ AMLGUARD_PROPOSAL_TTL: "PT5M" }, /AMLGUARD_PROPOSAL_TTL: "PT5M" must be between 15 minutes \(PT15M\) and 14 days \(P14D\)/],
    [{ AMLGUARD_PUBLIC_BASE_URL: "http://amlguard.example" }, /AMLGUARD_PUBLIC_BASE_URL: "http:\/\/amlguard.example" must be https \(http only on loopback\)/],
    [{ AMLGUARD_PUBLIC_BASE_URL: "https://amlguard.example/?code=abc" }, /AMLGUARD_PUBLIC_BASE_URL.*without query or fragment/],
    [{ AMLGUARD_RULE_MODES: `${PNA}=propose` }, /mode for workspace-public-network-access must be one of remediate, approve, alert, off/],
  ])("refuses %j naming the setting", (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });
});

const proposal = (over: Partial<Proposal> = {}): Proposal => ({
  id: "0f0f0f0f-1111-4000-8000-000000000001",
  kind: "remediation",
  resourceId: WS_ID,
  status: "pending",
  ruleIds: [PNA],
  findings: [{ ruleId: PNA, title: "Workspace is reachable from the public internet", severity: "high", evidence: "publicNetworkAccess is Enabled" }],
  action: { id: "workspace-disable-public-network-access", description: "PATCH the workspace: publicNetworkAccess Disabled", before: { "properties.publicNetworkAccess": "Enabled" }, after: { "properties.publicNetworkAccess": "Disabled" }, undo: "az ml workspace update …" },
  observed: { values: { "properties.publicNetworkAccess": "Enabled" } },
  correlationId: "c0ffee00-0000-4000-8000-000000000001",
  createdAt: "2026-03-02T09:00:00.000Z",
  expiresAt: "2026-03-03T09:00:00.000Z",
  ...over,
});

describe("proposals: observed state and status", () => {
  it("without an ETag, the resource is as observed when every planned value still holds; with one, only the same ETag is", () => {
    const fresh = (pna: string, etag?: string): ArmRead => ({ resource: variant(publicWorkspace, (w) => (w.properties.publicNetworkAccess = pna)), ...(etag ? { etag } : {}) });
    expect(stillAsObserved(proposal(), fresh("Enabled"))).toBe(true);
    // Another property changing does not matter without an ETag: the values the plan changes are what it acts on.
    expect(stillAsObserved(proposal(), { resource: variant(publicWorkspace, (w) => (w.tags = { owner: "carol" })) })).toBe(true);
    expect(stillAsObserved(proposal(), fresh("Disabled"))).toBe(false);
    expect(stillAsObserved(proposal({ observed: { etag: '"1"', values: {} } }), fresh("Enabled", '"1"'))).toBe(true);
    expect(stillAsObserved(proposal({ observed: { etag: '"1"', values: {} } }), fresh("Enabled", '"2"'))).toBe(false);
  });

  it("a pending proposal past its expiry reads expired, and cannot be decided", () => {
    expect(statusAt(proposal(), new Date("2026-03-03T08:59:59Z"))).toBe("pending");
    expect(viewOf(proposal(), new Date("2026-03-03T09:00:00Z"))).toMatchObject({ status: "expired", decidable: false });
  });
});

describe("alerts: links to decide", () => {
  const withLinks: Alert = {
    severity: "high",
    outcome: "needs-action",
    resourceId: WS_ID,
    ruleId: PNA,
    title: "Approval needed: Workspace is reachable from the public internet",
    nextStep: "Review and approve …",
    ...decisionLinks("0f0f0f0f-1111-4000-8000-000000000001", "https://amlguard-func.azurewebsites.net", "Review and approve", true),
    at: "2026-03-02T09:00:00.000Z",
  };
  const page = "https://amlguard-func.azurewebsites.net/api/proposals/0f0f0f0f-1111-4000-8000-000000000001";

  it("the Teams card carries Review and approve and Exempt… as actions beside the portal link, and stays a valid card", () => {
    const card = alertCard(inertAlert(withLinks));
    expect((card.actions as Array<{ title: string; url: string }>).map((a) => a.title)).toEqual(["Review and approve", "Exempt…", "Open in Azure portal"]);
    expect((card.actions as Array<{ url: string }>).slice(0, 2).map((a) => a.url)).toEqual([page, `${page}?intent=exempt`]);
    expect(adaptiveCardProblems(card)).toEqual([]);
  });

  it("the email carries both in both bodies", () => {
    const email = renderEmail([inertAlert(withLinks)]);
    expect(email.text).toContain(`Review and approve: ${page}`);
    expect(email.text).toContain(`Exempt…: ${page}?intent=exempt`);
    expect(email.html).toContain(`<a href="${page}">Review and approve</a>`);
    expect(email.html).toContain(`<a href="${page}?intent=exempt">Exempt…</a>`);
  });

  it("an exemption request's alert has one link: it is itself the exemption to approve", () => {
    expect(decisionLinks("0f0f0f0f-1111-4000-8000-000000000001", "https://amlguard-func.azurewebsites.net", "Approve exemption until 2026-04-01").links).toEqual([{ title: "Approve exemption until 2026-04-01", url: page }]);
    expect(decisionLinks("0f0f0f0f-1111-4000-8000-000000000001", undefined, "Review and approve", true)).toEqual({});
  });
});

describe("amlguard proposals", () => {
  it("refuses a malformed id or status before opening anything (exit 2), in the argument's terms", async () => {
    expect(await cli(["proposals", "show", "not-an-id"], {})).toMatchObject({ code: 2, stderr: 'amlguard: ID "not-an-id" is not a proposal id (a GUID, as \'amlguard proposals list\' shows it)\n' });
    expect(await cli(["proposals", "list", "--status", "done"], {})).toMatchObject({ code: 2, stderr: 'amlguard: --status: "done" must be one of pending, approved, rejected, expired, superseded, exempted\n' });
    expect(await cli(["proposals", "approve", "0f0f0f0f"], {})).toMatchObject({ code: 2, stderr: 'amlguard: ID "0f0f0f0f" is not a proposal id (a GUID, as \'amlguard proposals list\' shows it)\n' });
  });
});
