import { afterEach, describe, expect, it } from "vitest";
import type { ArmResource } from "../src/arm/resource.js";
import { GRAPH_QUERY, GraphClient } from "../src/azure/graph-client.js";
import { depsFor } from "../src/runtime.js";
import { armSource, graphSource } from "../src/scan.js";
import { silentLogger } from "../src/log.js";
import { sweep } from "../src/sweep.js";
import { armExample, variant } from "./helpers/fixtures.js";
import { BOT, azuriteForFile, startHarness, type Harness } from "./helpers/pipeline.js";
import { rehome, RG, SUB, WS_ID } from "./helpers/sandbox.js";

const OTHER_SUB = "11111111-2222-3333-4444-555555555555";

function publicWorkspace(n: number, subscription = SUB): ArmResource {
  return rehome(variant(armExample("workspace-get"), (w) => (w.properties.publicNetworkAccess = "Enabled")), WS_ID.replace(SUB, subscription).replace("ws1", `public${n}`));
}

function estate(): ArmResource[] {
  return [
    rehome(armExample("workspace-get"), WS_ID),
    ...[1, 2, 3, 4, 5].map((n) => publicWorkspace(n)),
    publicWorkspace(6, OTHER_SUB),
    rehome(armExample("compute-get-amlcompute"), `${WS_ID}/computes/cluster1`),
    rehome(variant(armExample("online-endpoint-get"), (e) => (e.properties.publicNetworkAccess = "Enabled")), `${WS_ID}/onlineEndpoints/ep1`),
    rehome(variant(armExample("registry-get"), (r) => (r.properties.publicNetworkAccess = "Enabled")), `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.MachineLearningServices/registries/reg1`),
  ];
}

const azurite = azuriteForFile();
let h: Harness;
afterEach(async () => {
  await h?.close();
});

function graph(): GraphClient {
  return new GraphClient({ endpoint: h.sandbox.endpoint, credential: h.sandbox.credential(BOT), ca: h.sandbox.ca });
}

describe("Resource Graph sandbox (through @azure/arm-resourcegraph)", () => {
  it("pages with $skipToken, 1,000 rows at most, lowercased types, scoped to the subscriptions asked", async () => {
    const many = Array.from({ length: 2300 }, (_, i) => publicWorkspace(1000 + i));
    h = await startHarness(azurite.connectionString, [...many, publicWorkspace(1, OTHER_SUB)]);
    const sizes: number[] = [];
    for await (const page of graph().pages({ subscriptions: [SUB] })) sizes.push(page.length);
    expect(sizes).toEqual([1000, 1000, 300]);
    const [first] = await graph().pages({ subscriptions: [OTHER_SUB] }).next().then((r) => r.value as ArmResource[]);
    expect(first!.type).toBe("microsoft.machinelearningservices/workspaces");
    expect(first!.properties).toMatchObject({ publicNetworkAccess: "Enabled" });
  });

  it("refuses a query it does not understand with ARG's BadRequest/InvalidQuery", async () => {
    h = await startHarness(azurite.connectionString, estate());
    const response = await fetchJson(h, { subscriptions: [SUB], query: "resources | take 5" });
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ code: "BadRequest", details: [{ code: "InvalidQuery" }] });
    expect(GRAPH_QUERY).toMatch(/^resources \| where type in~ \(/);
  });
});

describe("reconciliation sweep", () => {
  it("remediates what events missed, reading through ARM only what it writes, with one summary audit row", async () => {
    h = await startHarness(azurite.connectionString, estate(), { defaultMode: "alert", ruleModes: { "workspace-public-network-access": "remediate", "endpoint-public-network-access": "remediate" } });
    const report = await sweep(graphSource(graph(), { subscriptions: [SUB, OTHER_SUB] }), depsFor(h.runtime, silentLogger));
    expect(report.scan.errors).toEqual([]);
    expect(report.decisions.remediated).toBe(7); // six workspaces and one endpoint
    expect(report.armReads).toBe(7);
    expect(report.decisions.alerted).toBeGreaterThan(0); // cluster, registry: alert mode, judged on the Resource Graph row
    for (const n of [1, 6]) expect((h.sandbox.resource(publicWorkspace(n, n === 6 ? OTHER_SUB : SUB).id) as any).properties.publicNetworkAccess).toBe("Disabled");
    const audit = await h.audit();
    expect(audit.filter((r) => r.decision === "swept")).toHaveLength(1);
    expect(audit.filter((r) => r.decision === "remediated").every((r) => r.trigger === "sweep" && r.correlationId === report.correlationId)).toBe(true);
    // Idempotent: a second sweep finds nothing left to write.
    const writes = h.botWrites();
    const again = await sweep(graphSource(graph(), { subscriptions: [SUB, OTHER_SUB] }), depsFor(h.runtime, silentLogger));
    expect(again.decisions.remediated ?? 0).toBe(0);
    expect(h.botWrites()).toBe(writes);
  });

  it("alert-only: no resource is read through ARM (only the related diagnostic settings logging rules need), nothing written", async () => {
    h = await startHarness(azurite.connectionString, estate(), { defaultMode: "alert" });
    const before = h.sandbox.requests.length;
    const report = await sweep(graphSource(graph(), { subscriptions: [SUB, OTHER_SUB] }), depsFor(h.runtime, silentLogger));
    expect(report.armReads).toBe(0);
    const paths = h.sandbox.requests.slice(before).map((r) => r.path);
    expect(paths[0]).toBe("/providers/Microsoft.ResourceGraph/resources");
    expect(paths.slice(1).every((path) => path.endsWith("/providers/Microsoft.Insights/diagnosticSettings") || path.endsWith("/computes"))).toBe(true); // + the scan's compute check
    expect(h.sandbox.requests.slice(before).every((r) => r.method === "GET" || r.path.includes("Microsoft.ResourceGraph"))).toBe(true);
    expect(h.alerts.length).toBe(report.decisions.alerted);
  });

  it("stops writing in a subscription at its write budget; the rest is deferred to the next sweep", async () => {
    h = await startHarness(azurite.connectionString, estate(), { defaultMode: "alert", ruleModes: { "workspace-public-network-access": "remediate" } });
    const report = await sweep(graphSource(graph(), { subscriptions: [SUB] }), depsFor(h.runtime, silentLogger), { maxWritesPerSubscription: 2, concurrency: 1 });
    expect(report.decisions).toMatchObject({ remediated: 2, deferred: 3 });
    expect((await h.audit()).filter((r) => r.decision === "deferred")).toHaveLength(3);
  });

  it("honours ARM's x-ms-ratelimit-remaining-subscription-writes", async () => {
    h = await startHarness(azurite.connectionString, estate(), { defaultMode: "alert", ruleModes: { "workspace-public-network-access": "remediate" } }, { writeBucket: { capacity: 3, refillPerSecond: 0 } });
    const report = await sweep(graphSource(graph(), { subscriptions: [SUB] }), depsFor(h.runtime, silentLogger), { writeReserve: 2, concurrency: 1 });
    // Writes leave 2, then 1 in the bucket; at 1 (below the reserve of 2) the sweep stops writing there.
    expect(report.decisions).toMatchObject({ remediated: 2, deferred: 3 });
  });

  it("finds the same through ARM enumeration (--via arm), with many more requests", async () => {
    h = await startHarness(azurite.connectionString, estate(), { defaultMode: "alert" });
    const before = h.sandbox.requests.length;
    const viaGraph = await sweep(graphSource(graph(), { subscriptions: [SUB] }), depsFor(h.runtime, silentLogger));
    const graphRequests = h.sandbox.requests.length - before;
    const middle = h.sandbox.requests.length;
    const viaArm = await sweep(armSource(h.arm, [{ subscriptionId: SUB }]), depsFor(h.runtime, silentLogger));
    const armRequests = h.sandbox.requests.length - middle;
    const key = (f: { ruleId: string; resourceId: string }): string => `${f.ruleId}@${f.resourceId.toLowerCase()}`;
    expect(viaArm.scan.findings.map(key).sort()).toEqual(viaGraph.scan.findings.map(key).sort());
    expect(armRequests).toBeGreaterThan(graphRequests);
  });
});

async function fetchJson(harness: Harness, body: unknown): Promise<{ status: number; body: any }> {
  const { request } = await import("node:https");
  const token = (await harness.sandbox.credential(BOT).getToken("x"))!.token;
  return new Promise((resolve, reject) => {
    const req = request(`${harness.sandbox.endpoint}/providers/Microsoft.ResourceGraph/resources?api-version=2024-04-01`, { method: "POST", ca: harness.sandbox.ca, headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString("utf8")) }));
    });
    req.on("error", reject);
    req.end(JSON.stringify(body));
  });
}
