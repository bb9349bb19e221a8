import { createHttpHeaders, type HttpClient, type PipelineRequest } from "@azure/core-rest-pipeline";
import { describe, expect, it } from "vitest";
import type { ArmResource, JsonObject } from "../src/arm/resource.js";
import { ArmClient, ResponseIdMismatch, type ArmRead } from "../src/azure/arm-client.js";
import { capCluster } from "../src/remediation/compute.js";
import { WriteConflict, type ChangePlan } from "../src/remediation/plan.js";
import { registryDisablePublicNetworkAccess } from "../src/remediation/put-if-match.js";
import { workspaceDisablePublicNetworkAccess } from "../src/remediation/workspace-patch.js";
import { armExample, variant } from "./helpers/fixtures.js";
import { rehome, RG, SUB, WS_ID } from "./helpers/sandbox.js";

// Every write is conditional: If-Match with the ETag that was read, or, where ARM gave none, a fresh read just before
// the write that must match what was read. These tests drive the actions against a recording ARM double.
const REGISTRY = `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.MachineLearningServices/registries/reg1`;
const CLUSTER = `${WS_ID}/computes/cluster1`;

interface Call {
  method: string;
  path: string;
  body?: JsonObject;
  ifMatch?: string;
}

/** The ArmClient surface the actions use, recording writes; `reads` are answered in order (the last one repeats). */
function recordingArm(reads: ArmRead[]): { arm: ArmClient; calls: Call[] } {
  const calls: Call[] = [];
  let next = 0;
  const fake = {
    get: async (path: string) => {
      calls.push({ method: "GET", path });
      return structuredClone(reads[Math.min(next++, reads.length - 1)]!);
    },
    patch: async (path: string, body: JsonObject, options: { ifMatch?: string } = {}) => {
      calls.push({ method: "PATCH", path, body, ...(options.ifMatch ? { ifMatch: options.ifMatch } : {}) });
      return reads[0]!.resource;
    },
    put: async (path: string, body: JsonObject, options: { ifMatch?: string } = {}) => {
      calls.push({ method: "PUT", path, body, ...(options.ifMatch ? { ifMatch: options.ifMatch } : {}) });
      return reads[0]!.resource;
    },
  };
  return { arm: fake as unknown as ArmClient, calls };
}

function planOf(result: ReturnType<typeof workspaceDisablePublicNetworkAccess.plan>): ChangePlan {
  if (result.kind !== "plan") throw new Error(`expected a plan, got ${result.kind}`);
  return result.plan;
}

const publicRegistry = (): ArmResource => rehome(variant(armExample("registry-get"), (r) => (r.properties.publicNetworkAccess = "Enabled")), REGISTRY);
const publicWorkspace = (): ArmResource => rehome(variant(armExample("workspace-get"), (w) => (w.properties.publicNetworkAccess = "Enabled")), WS_ID);

describe("conditional writes", () => {
  it("registry without an ETag: re-read just before the PUT; a concurrent change abandons the write (the former PUT overwrote it)", async () => {
    const read: ArmRead = { resource: publicRegistry() };
    const changed: ArmRead = { resource: variant(read.resource, (r) => (r.tags = { owner: "someone-else" })) };
    const { arm, calls } = recordingArm([changed]);
    await expect(planOf(registryDisablePublicNetworkAccess.plan(read, {})).execute(arm)).rejects.toBeInstanceOf(WriteConflict);
    expect(calls.filter((c) => c.method !== "GET")).toEqual([]);
  });

  it("registry without an ETag, unchanged on the re-read: the PUT carries the re-read's ETag when it has one", async () => {
    const read: ArmRead = { resource: publicRegistry() };
    const { arm, calls } = recordingArm([{ resource: read.resource, etag: '"fresh"' }]);
    await planOf(registryDisablePublicNetworkAccess.plan(read, {})).execute(arm);
    expect(calls.map((c) => c.method)).toEqual(["GET", "PUT"]);
    expect(calls[1]).toMatchObject({ path: REGISTRY, ifMatch: '"fresh"', body: { properties: { publicNetworkAccess: "Disabled" } } });
  });

  it("workspace PATCH is sent with If-Match when the read had an ETag, and only to the id that was read", async () => {
    const read: ArmRead = { resource: publicWorkspace(), etag: '"w1"' };
    const { arm, calls } = recordingArm([read]);
    await planOf(workspaceDisablePublicNetworkAccess.plan(read, {})).execute(arm);
    expect(calls).toEqual([{ method: "PATCH", path: WS_ID, body: { properties: { publicNetworkAccess: "Disabled" } }, ifMatch: '"w1"' }]);
  });

  it("cluster cap: scaleSettings as read, counts set to 0, under If-Match; a concurrent maxNodeCount change is never reverted unguarded", async () => {
    const cluster = rehome(variant(armExample("compute-get-amlcompute"), (c) => (c.properties.properties.scaleSettings = { maxNodeCount: 4, minNodeCount: 2, nodeIdleTimeBeforeScaleDown: "PT5M" })), CLUSTER);
    const withEtag = recordingArm([{ resource: cluster, etag: '"c1"' }]);
    await planOf(capCluster.plan({ resource: cluster, etag: '"c1"' }, {})).execute(withEtag.arm);
    expect(withEtag.calls).toEqual([{ method: "PATCH", path: CLUSTER, ifMatch: '"c1"', body: { properties: { properties: { scaleSettings: { maxNodeCount: 0, minNodeCount: 0, nodeIdleTimeBeforeScaleDown: "PT5M" } } } } }]);
    const concurrent = variant(cluster, (c) => (c.properties.properties.scaleSettings.maxNodeCount = 8));
    const noEtag = recordingArm([{ resource: concurrent }]);
    await expect(planOf(capCluster.plan({ resource: cluster }, {})).execute(noEtag.arm)).rejects.toBeInstanceOf(WriteConflict);
    expect(noEtag.calls.filter((c) => c.method !== "GET")).toEqual([]);
  });
});

describe("writes go only to the id that was checked", () => {
  function armAnswering(body: unknown): ArmClient {
    const httpClient: HttpClient = {
      sendRequest: async (request: PipelineRequest) => ({ request, status: 200, headers: createHttpHeaders({ "content-type": "application/json" }), bodyAsText: JSON.stringify(body) }),
    };
    const credential = { getToken: async () => ({ token: "t", expiresOnTimestamp: Date.now() + 3_600_000 }) };
    return new ArmClient({ endpoint: "https://management.azure.com", credential, httpClient, maxRetries: 0 });
  }

  it("a read whose body names another resource is refused before anything can be planned on it", async () => {
    const other = rehome(publicWorkspace(), WS_ID.replace("ws1", "someone-elses"));
    await expect(armAnswering(other).get(WS_ID)).rejects.toBeInstanceOf(ResponseIdMismatch);
  });

  it("the same id in another casing is the same resource (ARM ids are case-insensitive)", async () => {
    const same = rehome(publicWorkspace(), WS_ID.toUpperCase().replace("/SUBSCRIPTIONS/", "/subscriptions/"));
    expect((await armAnswering(same).get(WS_ID)).resource.id.toLowerCase()).toBe(WS_ID.toLowerCase());
  });

  it("an ETag in the body counts when the header has none", async () => {
    const read = await armAnswering({ ...publicWorkspace(), etag: '"body-etag"' }).get(WS_ID);
    expect(read.etag).toBe('"body-etag"');
  });
});
