import { afterEach, describe, expect, it } from "vitest";
import { GraphClient } from "../src/azure/graph-client.js";
import { silentLogger } from "../src/log.js";
import { depsFor } from "../src/runtime.js";
import { graphSource } from "../src/scan.js";
import { sweep } from "../src/sweep.js";
import { armExample } from "./helpers/fixtures.js";
import { BOT, azuriteForFile, startHarness, type Harness } from "./helpers/pipeline.js";
import { rehome, SUB, WS_ID } from "./helpers/sandbox.js";

// workspace-no-resource-logs reads the workspace's diagnostic settings through the related-resource mechanism: the
// sweep reads them and evaluates the rule; an event (which skips related reads) records it as not evaluated.
const RULE = "workspace-no-resource-logs";
const DIAG_API = "2021-05-01-preview";
const LAW = `/subscriptions/${SUB}/resourceGroups/rg-monitor/providers/Microsoft.OperationalInsights/workspaces/law1`;

const azurite = azuriteForFile();
let h: Harness;
afterEach(async () => {
  await h?.close();
});

const run = () => sweep(graphSource(new GraphClient({ endpoint: h.sandbox.endpoint, credential: h.sandbox.credential(BOT), ca: h.sandbox.ca }), { subscriptions: [SUB] }), depsFor(h.runtime, silentLogger));
const rows = async () => (await h.audit()).filter((r) => r.ruleId === RULE);

describe("workspace resource logs through the one pipeline", () => {
  it("the sweep alerts while no diagnostic setting collects logs, and stops once one does", async () => {
    h = await startHarness(azurite.connectionString, [rehome(armExample("workspace-get"), WS_ID)], { defaultMode: "alert" });
    await run();
    expect((await rows()).map((r) => [r.decision, r.resourceId])).toEqual([["alerted", WS_ID]]);
    const alert = h.alerts.find((a) => a.ruleId === RULE)!;
    expect(alert.compliance).toEqual({ azurePolicy: ["afe0c3be-ba3b-4544-ba52-0c99672a8ad6"], mcsb: ["LT-3"], cis: ["6.4"] });
    expect(alert.evidence).toMatch(/0 diagnostic settings/);

    // Metrics only: still no resource logs.
    await h.userArm.put(`${WS_ID}/providers/Microsoft.Insights/diagnosticSettings/metrics`, { properties: { workspaceId: LAW, metrics: [{ category: "AllMetrics", enabled: true }] } }, {}, DIAG_API);
    await run();
    expect((await rows()).map((r) => r.decision)).toEqual(["alerted", "alerted"]);

    await h.userArm.put(`${WS_ID}/providers/Microsoft.Insights/diagnosticSettings/logs`, { properties: { workspaceId: LAW, logs: [{ categoryGroup: "allLogs", enabled: true }] } }, {}, DIAG_API);
    await run();
    expect(await rows()).toHaveLength(2);
    expect(h.botWrites()).toBe(0);
  });

  it("is never reported as passing when the diagnostic settings cannot be read", async () => {
    h = await startHarness(azurite.connectionString, [rehome(armExample("workspace-get"), WS_ID)], { defaultMode: "alert" });
    h.sandbox.faults.add({ kind: "server-error", method: "GET", path: /workspaces\/ws1\/providers\/Microsoft\.Insights\/diagnosticSettings/i, statusCode: 500 });
    await run();
    expect((await rows()).map((r) => r.decision)).toEqual(["not-evaluated"]);
  });
});
