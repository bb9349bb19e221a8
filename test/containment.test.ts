import { afterEach, describe, expect, it } from "vitest";
import { armExample } from "./helpers/fixtures.js";
import { azuriteForFile, startHarness, waitForEvents, type Harness } from "./helpers/pipeline.js";
import { rehome, WS_ID } from "./helpers/sandbox.js";

// Issue 18, finding 7: a cluster "drained" to minNodeCount 0 kept its nodes, and the next job submission (a data-plane
// call that fires no ARM event) scaled it straight back up on public-IP nodes. The sandbox now models node counts and
// the cap (src/sandbox/arm/nodes.ts), so this shows containment holding end to end through the real pipeline.
const CLUSTER_ID = `${WS_ID}/computes/cluster1`;
const azurite = azuriteForFile();
let h: Harness;
afterEach(async () => {
  await h?.close();
});

describe("cluster containment holds against data-plane job submissions", () => {
  it("after amlguard caps a public-IP cluster, its nodes are released and no job can start one", async () => {
    // Azure's AmlCompute example has enableNodePublicIp true.
    h = await startHarness(azurite.connectionString, [rehome(armExample("workspace-get"), WS_ID), rehome(armExample("compute-get-amlcompute"), CLUSTER_ID)]);
    await h.userArm.patch(CLUSTER_ID, { properties: { properties: { scaleSettings: { maxNodeCount: 4, minNodeCount: 1 } } } });
    expect(h.sandbox.submitJob(CLUSTER_ID, 3)).toMatchObject({ granted: 3, currentNodeCount: 3 });
    await h.deliver((await waitForEvents(h, 1))[0]);
    const cluster = h.sandbox.resource(CLUSTER_ID) as any;
    expect(cluster.properties.properties.scaleSettings).toMatchObject({ maxNodeCount: 0, minNodeCount: 0 });
    expect(cluster.properties.properties).toMatchObject({ currentNodeCount: 0, nodeStateCounts: { runningNodeCount: 0, idleNodeCount: 0 } });
    h.takeEvents(); // amlguard's own write
    expect(h.sandbox.submitJob(CLUSTER_ID, 2)).toMatchObject({ started: 0, granted: 0, queued: 2, currentNodeCount: 0 });
    expect(h.takeEvents()).toEqual([]); // nothing for amlguard to react to: the cap itself holds
  });
});
