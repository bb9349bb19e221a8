import { afterEach, describe, expect, it } from "vitest";
import type { ArmResource } from "../src/arm/resource.js";
import { GraphClient } from "../src/azure/graph-client.js";
import { approveExemption } from "../src/exemptions/approve.js";
import { silentLogger } from "../src/log.js";
import { depsFor } from "../src/runtime.js";
import { graphSource } from "../src/scan.js";
import { sweep } from "../src/sweep.js";
import { armExample, variant } from "./helpers/fixtures.js";
import { BOT, azuriteForFile, startHarness, type Harness } from "./helpers/pipeline.js";
import { rehome, SUB, WS_ID } from "./helpers/sandbox.js";

// The traffic-log check is an ordinary rule (endpoint-no-traffic-logs) with a related input (the endpoint's diagnostic
// settings) and an ordinary action (add amlguard's setting): it goes through the same decide/commit path as every rule.
const RULE = "endpoint-no-traffic-logs";
const LAW = "/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/rg-monitor/providers/Microsoft.OperationalInsights/workspaces/law-security";
const ENDPOINT = `${WS_ID}/onlineEndpoints/ep1`;
const ENDPOINT2 = `${WS_ID}/onlineEndpoints/ep2`;
const DIAG_API = "2021-05-01-preview";

function endpoint(id: string, tags?: Record<string, string>): ArmResource {
  // Private endpoints: only the traffic-log rule can fire on them.
  const base = rehome(variant(armExample("online-endpoint-get"), (e) => (e.properties.publicNetworkAccess = "Disabled")), id);
  return tags ? { ...base, tags } : base;
}

const estate = (...extra: ArmResource[]): ArmResource[] => [rehome(armExample("workspace-get"), WS_ID), endpoint(ENDPOINT), ...extra];

const azurite = azuriteForFile();
let h: Harness;
afterEach(async () => {
  await h?.close();
});

function graph(): GraphClient {
  return new GraphClient({ endpoint: h.sandbox.endpoint, credential: h.sandbox.credential(BOT), ca: h.sandbox.ca });
}
const run = (options = {}) => sweep(graphSource(graph(), { subscriptions: [SUB] }), depsFor(h.runtime, silentLogger), options);
const rows = async () => (await h.audit()).filter((r) => r.ruleId === RULE);
const diagnosticWrites = () => h.sandbox.requests.filter((r) => r.method === "PUT" && r.principalId === BOT.objectId && /diagnosticSettings/i.test(r.path)).length;

describe("traffic-log coverage through the one pipeline", () => {
  it("adds amlguard's diagnostic setting once, audited with its undo, and is compliant on the next sweep", async () => {
    h = await startHarness(azurite.connectionString, estate(), { defaultMode: "alert", ruleModes: { [RULE]: "remediate" }, spikeWorkspaceResourceId: LAW });
    const report = await run();
    expect(await rows()).toMatchObject([{ decision: "remediated", resourceId: ENDPOINT, actionId: "add-traffic-log-diagnostic-setting", undo: expect.stringMatching(/az monitor diagnostic-settings delete/) }]);
    expect(report.decisions.remediated).toBeGreaterThanOrEqual(1);
    expect(h.alerts.find((a) => a.ruleId === RULE)?.undo).toMatch(/az monitor diagnostic-settings delete/);
    const again = await run();
    expect(await rows()).toHaveLength(1);
    expect(again.errors).toEqual([]);
  });

  it("in alert mode it reports and writes nothing; a setting sending allLogs to the workspace counts", async () => {
    h = await startHarness(azurite.connectionString, estate(), { defaultMode: "alert", spikeWorkspaceResourceId: LAW });
    await h.userArm.put(`${ENDPOINT}/providers/Microsoft.Insights/diagnosticSettings/other`, { properties: { workspaceId: LAW.replace("law-security", "law-other"), logs: [{ category: "AmlOnlineEndpointTrafficLog", enabled: true }] } }, {}, DIAG_API);
    await run();
    expect((await rows()).map((r) => r.decision)).toEqual(["alerted"]);
    expect(h.botWrites()).toBe(0);
    await h.userArm.put(`${ENDPOINT}/providers/Microsoft.Insights/diagnosticSettings/security`, { properties: { workspaceId: LAW, logs: [{ categoryGroup: "allLogs", enabled: true }] } }, {}, DIAG_API);
    await run();
    expect((await rows()).map((r) => r.decision)).toEqual(["alerted"]);
  });

  it("an approved exemption can name the rule (the tag alone is only a request)", async () => {
    h = await startHarness(azurite.connectionString, estate(), { defaultMode: "alert", ruleModes: { [RULE]: "remediate" }, spikeWorkspaceResourceId: LAW });
    const nextMonth = new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10);
    const bob = { objectId: "5ec5ec00-2222-4000-8000-00000000005e", name: "bob@contoso.example" };
    await approveExemption({ resourceId: ENDPOINT, rules: [RULE], reason: "logs go to the partner SIEM", expires: nextMonth }, bob, "cli", {
      store: h.runtime.exemptions, arm: h.arm, audit: h.runtime.audit, alerts: { send: async () => undefined }, now: () => new Date(), allowedSubscriptions: [SUB], maxDays: 90,
    });
    await run();
    expect((await rows()).map((r) => r.decision)).toEqual(["exempt"]);
    expect(h.botWrites()).toBe(0);
  });

  // Defects of the former separate copy of the pipeline (src/coverage/traffic-logs.ts), each failing there.
  it("a deferred write is audited (the former copy skipped the audit row)", async () => {
    h = await startHarness(azurite.connectionString, estate(), { defaultMode: "alert", ruleModes: { [RULE]: "remediate" }, spikeWorkspaceResourceId: LAW });
    const report = await run({ maxWritesPerSubscription: 0 });
    expect((await rows()).map((r) => r.decision)).toEqual(["deferred"]);
    expect(report.decisions.deferred).toBe(1);
    expect(diagnosticWrites()).toBe(0);
  });

  it("an invalid amlguard-exempt tag on an endpoint is reported, not silently ignored", async () => {
    h = await startHarness(azurite.connectionString, [rehome(armExample("workspace-get"), WS_ID), endpoint(ENDPOINT, { "amlguard-exempt": "rules=everything; reason=x" })], { defaultMode: "alert", spikeWorkspaceResourceId: LAW });
    await run();
    const invalid = (await h.audit()).filter((r) => r.resourceId === ENDPOINT && r.decision === "exemption-invalid");
    expect(invalid).toHaveLength(1);
    expect((await rows()).map((r) => r.decision)).toEqual(["alerted"]);
  });

  it("takes the action lock: two sweeps at once write the setting once", async () => {
    h = await startHarness(azurite.connectionString, estate(), { defaultMode: "alert", ruleModes: { [RULE]: "remediate" }, spikeWorkspaceResourceId: LAW });
    const [a, b] = await Promise.all([run(), run()]);
    expect(diagnosticWrites()).toBe(1);
    expect((a.decisions.remediated ?? 0) + (b.decisions.remediated ?? 0)).toBe(1);
    expect([...a.errors, ...b.errors]).toEqual([]);
  });

  it("one failing write does not stop the sweep: the other endpoint is still fixed and the failure is reported", async () => {
    h = await startHarness(azurite.connectionString, estate(endpoint(ENDPOINT2)), { defaultMode: "alert", ruleModes: { [RULE]: "remediate" }, spikeWorkspaceResourceId: LAW });
    h.sandbox.faults.add({ kind: "server-error", method: "PUT", path: /onlineEndpoints\/ep1\/providers\/Microsoft\.Insights\/diagnosticSettings/i, statusCode: 500 });
    const report = await run();
    expect(report.errors.map((e) => e.resourceId)).toEqual([ENDPOINT]);
    expect((await rows()).filter((r) => r.resourceId === ENDPOINT2).map((r) => r.decision)).toEqual(["remediated"]);
  });

  it("never overwrites a setting that already carries amlguard's name: alerts instead", async () => {
    h = await startHarness(azurite.connectionString, estate(), { defaultMode: "alert", ruleModes: { [RULE]: "remediate" }, spikeWorkspaceResourceId: LAW });
    await h.userArm.put(`${ENDPOINT}/providers/Microsoft.Insights/diagnosticSettings/amlguard-traffic-logs`, { properties: { workspaceId: LAW.replace("law-security", "law-siem"), logs: [{ category: "AmlOnlineEndpointTrafficLog", enabled: true }] } }, {}, DIAG_API);
    await run();
    expect(diagnosticWrites()).toBe(0);
    const [row] = await rows();
    expect(row).toMatchObject({ decision: "alerted", message: expect.stringMatching(/does not overwrite/) });
  });

  it("a 403 on the setting's write (no Log Analytics role) is an alert naming the permission, never a crash or a retry", async () => {
    h = await startHarness(azurite.connectionString, estate(endpoint(ENDPOINT2)), { defaultMode: "alert", ruleModes: { [RULE]: "remediate" }, spikeWorkspaceResourceId: LAW });
    h.sandbox.faults.add({ kind: "forbidden", method: "PUT", path: /onlineEndpoints\/ep1\/providers\/Microsoft\.Insights\/diagnosticSettings/i });
    const report = await run();
    expect(report.errors).toEqual([]);
    const [row] = (await rows()).filter((r) => r.resourceId === ENDPOINT);
    expect(row).toMatchObject({ decision: "failed", message: expect.stringMatching(/403 AuthorizationFailed.*Microsoft\.Insights\/diagnosticSettings\/write/) });
    expect(h.alerts.find((a) => a.resourceId === ENDPOINT && a.ruleId === RULE)).toMatchObject({ outcome: "failed", nextStep: expect.stringMatching(/^Grant amlguard's identity Microsoft\.Insights\/diagnosticSettings\/write/) });
    // The other endpoint is still fixed.
    expect((await rows()).filter((r) => r.resourceId === ENDPOINT2).map((r) => r.decision)).toEqual(["remediated"]);
  });

  it("without a spike detector workspace configured, the rule does not apply", async () => {
    h = await startHarness(azurite.connectionString, estate(), { defaultMode: "remediate" });
    await run();
    expect(await rows()).toEqual([]);
  });

  it("the sandbox refuses a diagnostic setting without a destination or data, as Azure Monitor does", async () => {
    h = await startHarness(azurite.connectionString, estate());
    await expect(h.userArm.put(`${ENDPOINT}/providers/Microsoft.Insights/diagnosticSettings/bad`, { properties: { logs: [] } }, {}, DIAG_API)).rejects.toMatchObject({ statusCode: 400 });
  });
});
