import { afterEach, describe, expect, it } from "vitest";
import type { ArmResource } from "../src/arm/resource.js";
import { GraphClient } from "../src/azure/graph-client.js";
import { depsFor } from "../src/runtime.js";
import { silentLogger } from "../src/log.js";
import { graphSource, scanEstate } from "../src/scan.js";
import { sweep } from "../src/sweep.js";
import { armExample } from "./helpers/fixtures.js";
import { BOT, azuriteForFile, startHarness, type Harness } from "./helpers/pipeline.js";
import { rehome, SUB, WS_ID, startTestSandbox, type TestSandbox } from "./helpers/sandbox.js";

// Resource Graph's `resources` table reference lists ML workspaces, registries, online endpoints and deployments, not
// workspaces/computes: whether real Graph returns computes is uncertain, so the scan checks them against ARM
// (src/scan.ts) and the sandbox serves both answers (graphIndexesComputes).
const ws = (n: number): string => WS_ID.replace("ws1", `ws${n}`);

/** Four workspaces; computes in ws1 (a cluster with public node IPs) and ws4 (an instance), none in ws2 and ws3. */
function estate(): ArmResource[] {
  return [
    ...[1, 2, 3, 4].map((n) => rehome(armExample("workspace-get"), ws(n))),
    rehome(armExample("compute-get-amlcompute"), `${ws(1)}/computes/cluster1`),
    rehome(armExample("compute-get-computeinstance"), `${ws(4)}/computes/ci1`),
  ];
}

let t: TestSandbox | undefined;
afterEach(async () => {
  await t?.sandbox.close();
  t = undefined;
});

function graphOf(sandbox: TestSandbox): GraphClient {
  return new GraphClient({ endpoint: sandbox.sandbox.endpoint, credential: sandbox.sandbox.credential(), ca: sandbox.sandbox.ca });
}

function computeLists(sandbox: TestSandbox): number {
  return sandbox.sandbox.requests.filter((r) => r.method === "GET" && /\/computes$/i.test(r.path)).length;
}

describe("scan: Resource Graph's computes checked against ARM", () => {
  it("Graph indexes computes and agrees with ARM on a sample of three workspaces: computes come from Graph", async () => {
    t = await startTestSandbox(estate(), { graphIndexesComputes: true });
    const result = await scanEstate(graphSource(graphOf(t), { subscriptions: [SUB] }));
    expect(result.computeSource).toEqual({ via: "graph", reason: "Resource Graph agrees with ARM on 3 sampled workspaces" });
    expect(result.resourceCounts.compute).toBe(2);
    expect(computeLists(t)).toBe(3);
    expect(result.findings.some((f) => f.ruleId === "compute-node-public-ip" && f.resourceId.endsWith("/cluster1"))).toBe(true);
  });

  it("Graph without computes: every workspace's computes are listed through ARM, and the compute rules still fire", async () => {
    t = await startTestSandbox(estate(), { graphIndexesComputes: false });
    const result = await scanEstate(graphSource(graphOf(t), { subscriptions: [SUB] }));
    expect(result.computeSource).toEqual({ via: "arm-fallback", reason: "Resource Graph returned no computes for 4 workspaces" });
    expect(result.resourceCounts).toMatchObject({ workspace: 4, compute: 2 });
    expect(computeLists(t)).toBe(4);
    expect(result.findings.some((f) => f.ruleId === "compute-node-public-ip" && f.resourceId.endsWith("/cluster1"))).toBe(true);
    expect(result.errors).toEqual([]);
  });

  it("Graph lagging ARM on a sampled workspace: the computes come from ARM, each once", async () => {
    t = await startTestSandbox(estate(), { graphIndexesComputes: true });
    const graph = graphOf(t);
    const pages = graph.pages.bind(graph);
    // Resource Graph's index trails ARM: the instance created a moment ago in ws4 is not in it yet.
    graph.pages = async function* (scope) {
      for await (const page of pages(scope)) yield page.filter((row) => !row.id.endsWith("/ci1"));
    };
    const result = await scanEstate(graphSource(graph, { subscriptions: [SUB] }));
    expect(result.computeSource).toEqual({ via: "arm-fallback", reason: "Resource Graph and ARM disagree on workspace ws4's computes (0 vs 1)" });
    expect(result.resourceCounts.compute).toBe(2);
    const violating = result.violating.map((r) => r.id.toLowerCase());
    expect(new Set(violating).size).toBe(violating.length);
    expect(violating.filter((id) => id.endsWith("/computes/ci1"))).toHaveLength(1);
  });

  it("no computes anywhere beside workspaces is not taken on Graph's word: ARM is asked for every workspace", async () => {
    t = await startTestSandbox(estate().filter((r) => !r.id.includes("/computes/")), { graphIndexesComputes: true });
    const result = await scanEstate(graphSource(graphOf(t), { subscriptions: [SUB] }));
    expect(result.computeSource.via).toBe("arm-fallback");
    expect([result.resourceCounts.compute, computeLists(t)]).toEqual([0, 4]);
  });

  it("an ARM error on the sample is an error of the scan, and the source says it was not verified", async () => {
    t = await startTestSandbox(estate(), { graphIndexesComputes: true });
    t.sandbox.faults.add({ kind: "throttle", method: "GET", path: /\/computes$/, retryAfterSeconds: 0 });
    const result = await scanEstate(graphSource(graphOf(t), { subscriptions: [SUB] }));
    expect(result.computeSource).toEqual({ via: "graph", reason: "not verified: ARM could not list the sampled workspaces' computes" });
    expect(result.errors.length).toBeGreaterThan(0);
    expect(result.errors[0]!.scope).toMatch(/\/computes$/);
  });
});

describe("sweep: the audit row says where the computes came from", () => {
  const azurite = azuriteForFile();
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  for (const indexed of [true, false]) {
    it(`Resource Graph ${indexed ? "with" : "without"} computes`, async () => {
      h = await startHarness(azurite.connectionString, estate(), { defaultMode: "alert" }, { graphIndexesComputes: indexed });
      const graph = new GraphClient({ endpoint: h.sandbox.endpoint, credential: h.sandbox.credential(BOT), ca: h.sandbox.ca });
      const report = await sweep(graphSource(graph, { subscriptions: [SUB] }), depsFor(h.runtime, silentLogger));
      expect(report.scan.resourceCounts.compute).toBe(2);
      const swept = (await h.audit()).find((row) => row.decision === "swept");
      expect(swept?.message).toContain(indexed ? "computes via graph (Resource Graph agrees with ARM" : "computes via arm-fallback (Resource Graph returned no computes");
    });
  }
});
