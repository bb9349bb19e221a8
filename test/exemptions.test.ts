import { afterEach, describe, expect, it } from "vitest";
import type { ArmResource } from "../src/arm/resource.js";
import { parseEvent } from "../src/events/parse.js";
import { triage } from "../src/events/triage.js";
import { alertExpiredExemptions, approveExemption, revokeExemption, type ExemptionDeps } from "../src/exemptions/approve.js";
import { randomBytes } from "node:crypto";
import { silentLogger } from "../src/log.js";
import { manualRemediate, ManualError } from "../src/manual/remediate.js";
import { depsFor, openManual } from "../src/runtime.js";
import type { Actor } from "../src/state/audit.js";
import { armExample, variant } from "./helpers/fixtures.js";
import { GraphClient } from "../src/azure/graph-client.js";
import { graphSource } from "../src/scan.js";
import { sweep } from "../src/sweep.js";
import { azuriteForFile, BOT, startHarness, USER, waitForEvents, type Harness } from "./helpers/pipeline.js";
import { rehome, SUB, WS_ID } from "./helpers/sandbox.js";

// The amlguard-exempt tag is a request: anyone who can write a resource's tags can write it, so by itself it exempts
// nothing. An exemption takes effect when a second person, holding AmlGuard.Exempt, approves it.
const ENDPOINT_ID = `${WS_ID}/onlineEndpoints/ep1`;
const SECURITY: Actor = { objectId: "5ec5ec00-2222-4000-8000-00000000005e", name: "bob@contoso.example", principalType: "User" };
const REQUESTER: Actor = { objectId: USER.objectId, name: USER.name, principalType: "User" };

const azurite = azuriteForFile();
let h: Harness;
afterEach(async () => {
  await h?.close();
});

const estate = (): ArmResource[] => [rehome(armExample("workspace-get"), WS_ID), rehome(variant(armExample("online-endpoint-get"), (e) => (e.properties.publicNetworkAccess = "Disabled")), ENDPOINT_ID)];
const inDays = (days: number, from = new Date()) => new Date(from.getTime() + days * 86_400_000).toISOString().slice(0, 10);

async function userWrite(change: (resource: any) => void): Promise<void> {
  const current = await h.userArm.get(ENDPOINT_ID);
  const body = structuredClone(current.resource) as any;
  change(body);
  await h.userArm.put(ENDPOINT_ID, body, { ifMatch: current.etag! });
  await h.deliver((await waitForEvents(h, 1))[0]);
}

function exemptionDeps(now: () => Date = () => new Date()): ExemptionDeps {
  return { store: h.runtime.exemptions, arm: h.arm, audit: h.runtime.audit, alerts: { send: async (alert) => void h.alerts.push(alert) }, now, allowedSubscriptions: [SUB], maxDays: 90 };
}

const decisionsFor = async (ruleId: string) => (await h.audit()).filter((r) => r.ruleId === ruleId).map((r) => r.decision);
const publicAgain = (e: any) => (e.properties.publicNetworkAccess = "Enabled");

describe("exemptions are approved, never self-served", () => {
  it("a tag written with the risky change is a request: remediated anyway, approvers alerted with who, what, why and until when", async () => {
    h = await startHarness(azurite.connectionString, estate());
    await userWrite((e) => {
      publicAgain(e);
      e.tags = { "amlguard-exempt": `rules=endpoint-public-network-access; reason=partner pilot; expires=${inDays(30)}` };
    });
    expect(await decisionsFor("endpoint-public-network-access")).toEqual(["remediated"]);
    expect((await h.audit()).find((r) => r.decision === "exemption-requested")?.message).toMatch(/enforced until a person with AmlGuard\.Exempt approves it/);
    const alert = h.alerts.find((a) => a.title.startsWith("Exemption requested"));
    expect(alert?.evidence).toMatch(new RegExp(`${USER.name} asks to exempt endpoint-public-network-access until`));
    expect(alert?.nextStep).toMatch(/not alice@contoso\.example/);
  });

  it("an approved exemption is honoured; the requester may not approve it", async () => {
    h = await startHarness(azurite.connectionString, estate());
    await userWrite((e) => (e.tags = { "amlguard-exempt": `rules=endpoint-public-network-access; reason=partner pilot; expires=${inDays(30)}` }));
    const request = { resourceId: ENDPOINT_ID, rules: ["endpoint-public-network-access"], reason: "partner pilot CHG-1", expires: inDays(30) };
    await expect(approveExemption(request, REQUESTER, "http:alice", exemptionDeps())).rejects.toMatchObject({ status: 403, code: "SelfApprovalRefused" });
    const approved = await approveExemption(request, SECURITY, "http:bob", exemptionDeps());
    expect(approved).toMatchObject({ rules: ["endpoint-public-network-access"], approvedBy: SECURITY, requestedBy: { objectId: USER.objectId } });
    await userWrite(publicAgain);
    expect((await decisionsFor("endpoint-public-network-access")).at(0)).toBe("exempt");
    expect(h.botWrites()).toBe(0);
    expect((await h.audit()).some((r) => r.decision === "exemption-approved" && r.actor?.objectId === SECURITY.objectId)).toBe(true);
  });

  it("a revoked exemption stops exempting at once, and the revocation is alerted", async () => {
    h = await startHarness(azurite.connectionString, estate());
    const approved = await approveExemption({ resourceId: ENDPOINT_ID, rules: ["endpoint-public-network-access"], reason: "pilot", expires: inDays(10) }, SECURITY, "cli", exemptionDeps());
    await revokeExemption(approved.id, SECURITY, "cli", exemptionDeps());
    await userWrite(publicAgain);
    expect(await decisionsFor("endpoint-public-network-access")).toEqual(["remediated"]);
    expect(h.alerts.some((a) => a.title.startsWith("Exemption revoked"))).toBe(true);
    await expect(revokeExemption(approved.id, SECURITY, "cli", exemptionDeps())).rejects.toMatchObject({ code: "AlreadyRevoked" });
  });

  it("an expired exemption stops exempting and its expiry is alerted once", async () => {
    h = await startHarness(azurite.connectionString, estate());
    const past = new Date(Date.now() - 20 * 86_400_000);
    await approveExemption({ resourceId: ENDPOINT_ID, rules: ["endpoint-public-network-access"], reason: "pilot", expires: inDays(5, past) }, SECURITY, "cli", exemptionDeps(() => past));
    await userWrite(publicAgain);
    expect(await decisionsFor("endpoint-public-network-access")).toEqual(["remediated"]);
    expect(await alertExpiredExemptions(exemptionDeps())).toBe(1);
    expect(await alertExpiredExemptions(exemptionDeps())).toBe(0);
    expect(h.alerts.filter((a) => a.title.startsWith("Exemption expired"))).toHaveLength(1);
  });

  it("limits: at most the configured horizon, never in the past, '*' never covers a high-severity rule, rules must apply to the resource", async () => {
    h = await startHarness(azurite.connectionString, estate());
    const base = { resourceId: ENDPOINT_ID, reason: "pilot" };
    await expect(approveExemption({ ...base, rules: ["endpoint-key-auth"], expires: inDays(120) }, SECURITY, "cli", exemptionDeps())).rejects.toThrow(/at most 90 days/);
    await expect(approveExemption({ ...base, rules: ["endpoint-key-auth"], expires: inDays(-2) }, SECURITY, "cli", exemptionDeps())).rejects.toThrow(/in the past/);
    await expect(approveExemption({ ...base, rules: ["compute-local-auth"], expires: inDays(5) }, SECURITY, "cli", exemptionDeps())).rejects.toBeInstanceOf(ManualError);
    const wildcard = await approveExemption({ ...base, rules: "*", expires: inDays(5) }, SECURITY, "cli", exemptionDeps());
    expect(wildcard.rules).not.toContain("endpoint-public-network-access");
    expect(wildcard.rules).toContain("endpoint-key-auth");
  });
});

describe("requests on compliant resources and in the sweep", () => {
  it("a request on a compliant resource is still recorded and alerted (an approver may act before anything fires)", async () => {
    h = await startHarness(azurite.connectionString, estate());
    await userWrite((e) => (e.tags = { "amlguard-exempt": `rules=endpoint-key-auth; reason=legacy client; expires=${inDays(20)}` }));
    expect((await h.audit()).map((r) => r.decision).sort()).toEqual(["compliant", "exemption-requested"]);
    expect(h.alerts.filter((a) => a.title.startsWith("Exemption requested"))).toHaveLength(1);
  });

  it("the sweep remediates a public resource whose tag asks for an exemption nobody approved, and alerts expiries", async () => {
    const tagged = estate().map((r) => (r.id === ENDPOINT_ID ? variant(r, (e) => ((e.properties.publicNetworkAccess = "Enabled"), (e.tags = { "amlguard-exempt": `rules=endpoint-public-network-access; reason=x; expires=${inDays(20)}` }))) : r));
    h = await startHarness(azurite.connectionString, tagged);
    const past = new Date(Date.now() - 20 * 86_400_000);
    await approveExemption({ resourceId: WS_ID, rules: ["workspace-no-customer-managed-key"], reason: "old", expires: inDays(5, past) }, SECURITY, "cli", exemptionDeps(() => past));
    const graph = new GraphClient({ endpoint: h.sandbox.endpoint, credential: h.sandbox.credential(BOT), ca: h.sandbox.ca });
    await sweep(graphSource(graph, { subscriptions: [SUB] }), depsFor(h.runtime, silentLogger));
    expect(await decisionsFor("endpoint-public-network-access")).toEqual(["remediated"]);
    expect(h.alerts.filter((a) => a.title.startsWith("Exemption expired"))).toHaveLength(1);
  });
});

describe("manual remediation and exemptions", () => {
  it("honours an approved exemption unless the request explicitly overrides it, which is audited per rule", async () => {
    h = await startHarness(azurite.connectionString, estate());
    await approveExemption({ resourceId: ENDPOINT_ID, rules: ["endpoint-public-network-access"], reason: "pilot", expires: inDays(10) }, SECURITY, "cli", exemptionDeps());
    await userWrite(publicAgain);
    const manual = await openManual({ connectionString: azurite.connectionString }, [SUB], 100, `t${randomBytes(5).toString("hex")}`);
    const deps = { ...depsFor(h.runtime, silentLogger), allowedSubscriptions: [SUB], inflight: manual.inflight };
    const plain = await manualRemediate({ resourceId: ENDPOINT_ID, reason: "security review" }, SECURITY, "cli:bob", deps);
    expect(plain.findings.find((f) => f.ruleId === "endpoint-public-network-access")?.decision).toBe("exempt");
    const forced = await manualRemediate({ resourceId: ENDPOINT_ID, reason: "incident INC-7", overrideExemptions: true }, SECURITY, "cli:bob", deps);
    expect(forced.findings.filter((f) => f.ruleId === "endpoint-public-network-access").map((f) => f.decision).sort()).toEqual(["exemption-overridden", "remediated"]);
  });
});

describe("tag writes through the Tags API", () => {
  it("are triaged to the resource they tag (Microsoft.Resources/tags/write on {scope}/providers/Microsoft.Resources/tags/default)", async () => {
    const event = await parseEvent({
      id: "tags-1",
      subject: `${ENDPOINT_ID}/providers/Microsoft.Resources/tags/default`,
      eventType: "Microsoft.Resources.ResourceWriteSuccess",
      eventTime: new Date().toISOString(),
      dataVersion: "2",
      metadataVersion: "1",
      topic: `/subscriptions/${SUB}`,
      data: {
        resourceUri: `${ENDPOINT_ID}/providers/Microsoft.Resources/tags/default`,
        operationName: "Microsoft.Resources/tags/write",
        status: "Succeeded",
        subscriptionId: SUB,
        claims: {},
        authorization: { scope: ENDPOINT_ID, action: "Microsoft.Resources/tags/write", evidence: {} },
        correlationId: "c0ffee00-0000-4000-8000-00000000aaaa",
      },
    });
    const verdict = triage(event);
    expect(verdict).toMatchObject({ verdict: "evaluate", target: { kind: "onlineEndpoint" } });
    expect(verdict.verdict === "evaluate" && verdict.target.id.toLowerCase()).toBe(ENDPOINT_ID.toLowerCase());
  });
});
