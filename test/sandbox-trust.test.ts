import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { armAction } from "../src/sandbox/arm-errors.js";
import { armExample } from "./helpers/fixtures.js";
import { rehome, RG, startTestSandbox, SUB, WS_ID, type TestSandbox } from "./helpers/sandbox.js";

// What amlguard's trust guarantees need from the sandbox (issue 18): correlation ids, the Tags API, If-Match on PATCH,
// cluster node caps, and RBAC refusals. Sources are in the comments of src/sandbox/arm/{server,tags,nodes}.ts.
const API = "api-version=2025-09-01";
const TAGS_API = "api-version=2021-04-01";
const CLUSTER_ID = `${WS_ID}/computes/cluster1`;
const INSTANCE_ID = `${WS_ID}/computes/ci1`;
const ENDPOINT_ID = `${WS_ID}/onlineEndpoints/ep1`;
const DEPLOYMENT_ID = `${ENDPOINT_ID}/deployments/blue`;
const REGISTRY_ID = `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.MachineLearningServices/registries/reg1`;
const CORRELATION = "7f5a6223-f475-4a9c-b9d5-12575aa6b11b";

let t: TestSandbox;
const events: any[] = [];

function cluster(maxNodeCount: number, current = 0): any {
  const resource: any = rehome(armExample("compute-get-amlcompute"), CLUSTER_ID);
  resource.properties.properties.scaleSettings = { maxNodeCount, minNodeCount: 0, nodeIdleTimeBeforeScaleDown: "PT5M" };
  resource.properties.properties.currentNodeCount = current;
  resource.properties.properties.nodeStateCounts.idleNodeCount = current;
  return resource;
}

beforeAll(async () => {
  t = await startTestSandbox([
    rehome(armExample("workspace-get"), WS_ID),
    cluster(4),
    rehome(armExample("compute-get-computeinstance"), INSTANCE_ID),
    rehome(armExample("online-endpoint-get"), ENDPOINT_ID),
    rehome(armExample("online-deployment-get-managed"), DEPLOYMENT_ID),
    rehome(armExample("registry-get"), REGISTRY_ID),
  ]);
  t.sandbox.onEvent((event) => events.push(event));
});

afterAll(async () => {
  await t.sandbox.close();
});

/** Polls a 202's Location until the operation is done (no timers: each poll is one request). */
async function complete(accepted: { headers: Record<string, unknown> }): Promise<void> {
  const location = new URL(String(accepted.headers.location ?? accepted.headers["azure-asyncoperation"]));
  for (let polls = 0; polls < 10; polls++) {
    const status = await t.raw("GET", location.pathname + location.search);
    if (status.status === 200 && (status.body?.status ?? "Succeeded") !== "InProgress") return;
  }
  throw new Error("the operation did not complete in 10 polls");
}

describe("correlation ids (ARM RPC: x-ms-correlation-request-id)", () => {
  it("an event carries the correlation id the client sent, and the response echoes it", async () => {
    const reply = await t.raw("PATCH", `${REGISTRY_ID}?${API}`, { body: { tags: { owner: "ml" } }, headers: { "x-ms-correlation-request-id": CORRELATION } });
    expect(reply.status).toBe(200);
    expect(reply.headers["x-ms-correlation-request-id"]).toBe(CORRELATION);
    const event = events.filter((e) => e.subject === REGISTRY_ID).at(-1);
    expect(event.data.correlationId).toBe(CORRELATION);
  });

  it("a long-running write's event, published when it completes, still carries the request's id", async () => {
    const accepted = await t.raw("PATCH", `${WS_ID}?${API}`, { body: { tags: { a: "1" } }, headers: { "x-ms-correlation-request-id": CORRELATION } });
    expect(accepted.status).toBe(202);
    await complete(accepted);
    const event = events.filter((e) => e.subject === WS_ID && e.data.operationName.endsWith("workspaces/write")).at(-1);
    expect(event.data.correlationId).toBe(CORRELATION);
  });

  it("without one (or with one that is not an id) the operation gets a fresh id", async () => {
    const plain = await t.raw("PATCH", `${REGISTRY_ID}?${API}`, { body: { tags: { owner: "ml2" } } });
    const junk = await t.raw("PATCH", `${REGISTRY_ID}?${API}`, { body: { tags: { owner: "ml3" } }, headers: { "x-ms-correlation-request-id": "a b\tc" } });
    const [first, second] = events.filter((e) => e.subject === REGISTRY_ID).slice(-2);
    expect(first.data.correlationId).toBe(plain.headers["x-ms-correlation-request-id"]);
    expect(second.data.correlationId).toBe(junk.headers["x-ms-correlation-request-id"]);
    expect(first.data.correlationId).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Set([first.data.correlationId, second.data.correlationId, CORRELATION]).size).toBe(3);
  });

  it("a sandbox told that ARM replaces client ids gives every operation its own", async () => {
    const other = await startTestSandbox([rehome(armExample("registry-get"), REGISTRY_ID)], { clientCorrelationIds: "replaced" });
    const seen: any[] = [];
    other.sandbox.onEvent((event) => seen.push(event));
    await other.raw("PATCH", `${REGISTRY_ID}?${API}`, { body: { tags: { x: "1" } }, headers: { "x-ms-correlation-request-id": CORRELATION } });
    await other.sandbox.close();
    expect(seen).toHaveLength(1);
    expect(seen[0].data.correlationId).not.toBe(CORRELATION);
  });
});

describe("Tags API (Microsoft.Resources/tags/default at a resource's scope)", () => {
  const tagsPath = `${ENDPOINT_ID}/providers/Microsoft.Resources/tags/default`;

  it("PUT replaces the tags, GET reads them, and a tags/write event names the tags resource", async () => {
    const put = await t.raw("PUT", `${tagsPath}?${TAGS_API}`, { body: { properties: { tags: { "amlguard-exempt": "rules=*", team: "ml" } } }, headers: { "x-ms-correlation-request-id": CORRELATION } });
    expect(put.status).toBe(200);
    expect(put.body).toEqual({ id: tagsPath, name: "default", type: "Microsoft.Resources/tags", properties: { tags: { "amlguard-exempt": "rules=*", team: "ml" } } });
    expect((await t.raw("GET", `${tagsPath}?${TAGS_API}`)).body.properties.tags).toEqual({ "amlguard-exempt": "rules=*", team: "ml" });
    expect(t.sandbox.resource(ENDPOINT_ID)!.tags).toEqual({ "amlguard-exempt": "rules=*", team: "ml" });
    const event = events.at(-1);
    expect(event).toMatchObject({
      subject: tagsPath,
      eventType: "Microsoft.Resources.ResourceWriteSuccess",
      data: { operationName: "Microsoft.Resources/tags/write", resourceUri: tagsPath, resourceProvider: "Microsoft.Resources", correlationId: CORRELATION, status: "Succeeded" },
    });
  });

  it("PATCH Merge adds and updates (names case-insensitively), Delete removes by name or name and value, Replace swaps all", async () => {
    const merge = await t.raw("PATCH", `${tagsPath}?${TAGS_API}`, { body: { operation: "Merge", properties: { tags: { TEAM: "platform", cost: "42" } } } });
    expect(merge.body.properties.tags).toEqual({ "amlguard-exempt": "rules=*", team: "platform", cost: "42" });
    const remove = await t.raw("PATCH", `${tagsPath}?${TAGS_API}`, { body: { operation: "Delete", properties: { tags: { cost: "41", team: "" } } } });
    expect(remove.body.properties.tags).toEqual({ "amlguard-exempt": "rules=*", cost: "42" });
    const replace = await t.raw("PATCH", `${tagsPath}?${TAGS_API}`, { body: { operation: "Replace", properties: { tags: { only: "this" } } } });
    expect(replace.body.properties.tags).toEqual({ only: "this" });
    expect(t.sandbox.resource(ENDPOINT_ID)!.tags).toEqual({ only: "this" });
  });

  it("DELETE removes every tag with a tags/delete event", async () => {
    const reply = await t.raw("DELETE", `${DEPLOYMENT_ID}/providers/Microsoft.Resources/tags/default?${TAGS_API}`);
    expect(reply.status).toBe(200);
    expect(t.sandbox.resource(DEPLOYMENT_ID)!.tags).toEqual({});
    expect(events.at(-1)).toMatchObject({ eventType: "Microsoft.Resources.ResourceDeleteSuccess", data: { operationName: "Microsoft.Resources/tags/delete" } });
  });

  it("a tags write changes the resource's ETag, so a stale If-Match on the resource then fails", async () => {
    const before = await t.raw("GET", `${REGISTRY_ID}?${API}`);
    await t.raw("PATCH", `${REGISTRY_ID}/providers/Microsoft.Resources/tags/default?${TAGS_API}`, { body: { operation: "Merge", properties: { tags: { x: "y" } } } });
    const after = await t.raw("GET", `${REGISTRY_ID}?${API}`);
    expect(after.headers.etag).not.toBe(before.headers.etag);
    const stale = await t.raw("PATCH", `${REGISTRY_ID}?${API}`, { body: { tags: {} }, headers: { "If-Match": String(before.headers.etag) } });
    expect(stale.status).toBe(412);
  });

  it("bad input is refused in ARM's terms and changes nothing", async () => {
    const before = t.sandbox.resource(ENDPOINT_ID)!.tags;
    const count = events.length;
    const cases = [
      [`${tagsPath}?${TAGS_API}`, "PATCH", { operation: "Upsert", properties: { tags: {} } }, 400, "InvalidRequestContent"],
      [`${tagsPath}?${TAGS_API}`, "PUT", { properties: { tags: { n: 1 } } }, 400, "InvalidRequestContent"],
      [`${tagsPath}?${TAGS_API}`, "PUT", { properties: { tags: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`t${i}`, "v"])) } }, 400, "BadRequest"],
      [`${tagsPath}?api-version=2099-01-01`, "PUT", { properties: { tags: {} } }, 400, "NoRegisteredProviderFound"],
      [`${WS_ID}/onlineEndpoints/missing/providers/Microsoft.Resources/tags/default?${TAGS_API}`, "PUT", { properties: { tags: {} } }, 404, "ResourceNotFound"],
    ] as const;
    for (const [path, method, body, status, code] of cases) {
      const reply = await t.raw(method, path, { body });
      expect([reply.status, reply.body.error.code]).toEqual([status, code]);
    }
    expect(t.sandbox.resource(ENDPOINT_ID)!.tags).toEqual(before);
    expect(events.length).toBe(count);
  });
});

describe("If-Match on PATCH, and where the ETag lives", () => {
  it("PATCH with a stale If-Match is 412 PreconditionFailed with ARM's body and changes nothing; the current one succeeds", async () => {
    const current = await t.raw("GET", `${REGISTRY_ID}?${API}`);
    const stale = await t.raw("PATCH", `${REGISTRY_ID}?${API}`, { body: { tags: { stale: "1" } }, headers: { "If-Match": '"stale"' } });
    expect(stale.status).toBe(412);
    expect(stale.body).toEqual({ error: { code: "PreconditionFailed", message: "The condition specified using HTTP conditional header(s) is not met." } });
    expect(t.sandbox.resource(REGISTRY_ID)!.tags).toEqual(current.body.tags);
    const fresh = await t.raw("PATCH", `${REGISTRY_ID}?${API}`, { body: { tags: { fresh: "1" } }, headers: { "If-Match": String(current.headers.etag) } });
    expect([fresh.status, fresh.body.tags.fresh]).toEqual([200, "1"]);
  });

  it("If-Match on a long-running PATCH (compute) is checked before the operation starts", async () => {
    const refused = await t.raw("PATCH", `${CLUSTER_ID}?${API}`, { body: { properties: { properties: { scaleSettings: { maxNodeCount: 0 } } } }, headers: { "If-Match": '"old"' } });
    expect([refused.status, refused.body.error.code]).toEqual([412, "PreconditionFailed"]);
    expect((t.sandbox.resource(CLUSTER_ID) as any).properties.properties.scaleSettings.maxNodeCount).toBe(4);
  });

  it("If-None-Match: * creates only: an existing resource is 412 and unchanged", async () => {
    const current = await t.raw("GET", `${REGISTRY_ID}?${API}`);
    const refused = await t.raw("PUT", `${REGISTRY_ID}?${API}`, { body: { ...current.body, tags: { overwritten: "yes" } }, headers: { "If-None-Match": "*" } });
    expect([refused.status, refused.body.error.code]).toEqual([412, "PreconditionFailed"]);
    expect(t.sandbox.resource(REGISTRY_ID)!.tags).toEqual(current.body.tags);
  });

  it("no ML type carries an etag in its body: the 2025-09-01 specs (bicep-types-az) declare none, so the ETag is a header only", async () => {
    for (const id of [WS_ID, CLUSTER_ID, ENDPOINT_ID, DEPLOYMENT_ID, REGISTRY_ID]) {
      const reply = await t.raw("GET", `${id}?${API}`);
      expect(reply.headers.etag).toMatch(/^"[0-9a-f]+"$/);
      expect(reply.body).not.toHaveProperty("etag");
    }
  });
});

describe("AmlCompute node counts and the cap (scaleSettings.maxNodeCount)", () => {
  const counts = (): any => (t.sandbox.resource(CLUSTER_ID) as any).properties.properties;

  it("a job scales the cluster up to at most maxNodeCount; the rest waits; no ARM event", async () => {
    const before = events.length;
    expect(t.sandbox.submitJob(CLUSTER_ID, 3)).toMatchObject({ started: 3, granted: 3, queued: 0, currentNodeCount: 3 });
    expect(t.sandbox.submitJob(CLUSTER_ID, 3)).toMatchObject({ started: 1, granted: 1, queued: 2, currentNodeCount: 4 });
    expect(counts()).toMatchObject({ currentNodeCount: 4, targetNodeCount: 4, allocationState: "Steady", nodeStateCounts: { runningNodeCount: 4, idleNodeCount: 0 } });
    expect(events.length).toBe(before);
  });

  it("lowering maxNodeCount below the current count releases nodes; with 0 no node starts again", async () => {
    const accepted = await t.raw("PATCH", `${CLUSTER_ID}?${API}`, { body: { properties: { properties: { scaleSettings: { maxNodeCount: 0 } } } } });
    await complete(accepted);
    expect(counts()).toMatchObject({ currentNodeCount: 0, nodeStateCounts: { runningNodeCount: 0, idleNodeCount: 0 } });
    expect(t.sandbox.submitJob(CLUSTER_ID, 2)).toMatchObject({ started: 0, granted: 0, queued: 2, currentNodeCount: 0 });
    expect(counts().currentNodeCount).toBe(0);
  });

  it("a cap above the count keeps running nodes; idle ones go first when it drops", async () => {
    const other = await startTestSandbox([rehome(armExample("workspace-get"), WS_ID), cluster(5, 3)]);
    other.sandbox.submitJob(CLUSTER_ID, 1); // 3 nodes: 1 running, 2 idle
    const accepted = await other.raw("PATCH", `${CLUSTER_ID}?${API}`, { body: { properties: { properties: { scaleSettings: { maxNodeCount: 2 } } } } });
    const location = new URL(String(accepted.headers["azure-asyncoperation"]));
    await other.raw("GET", location.pathname + location.search);
    const after = (other.sandbox.resource(CLUSTER_ID) as any).properties.properties;
    await other.sandbox.close();
    expect(after).toMatchObject({ currentNodeCount: 2, nodeStateCounts: { runningNodeCount: 1, idleNodeCount: 1 } });
  });

  it("jobs are for AmlCompute and need a whole number of nodes", () => {
    expect(() => t.sandbox.submitJob(INSTANCE_ID, 1)).toThrow(/AmlCompute/);
    expect(() => t.sandbox.submitJob(CLUSTER_ID, 0)).toThrow(/whole number/);
    expect(() => t.sandbox.submitJob(WS_ID, 1)).toThrow();
  });
});

describe("forbidden fault (Azure RBAC's 403 AuthorizationFailed)", () => {
  it("answers 403 with ARM's body naming the caller, the action and the scope, and changes nothing", async () => {
    t.sandbox.faults.add({ kind: "forbidden", method: "PATCH", path: /registries\/reg1$/i, times: 1 });
    const before = t.sandbox.resource(REGISTRY_ID)!.tags;
    const refused = await t.raw("PATCH", `${REGISTRY_ID}?${API}`, { body: { tags: { x: "forbidden" } } });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe("AuthorizationFailed");
    expect(refused.body.error.message).toMatch(
      /^The client 'sandbox-operator@contoso\.example' with object id '00000000-0000-0000-0000-00000000a11e' does not have authorization to perform action 'Microsoft\.MachineLearningServices\/registries\/write' over scope '\/subscriptions\/.+\/registries\/reg1' or the scope is invalid\./,
    );
    expect(t.sandbox.resource(REGISTRY_ID)!.tags).toEqual(before);
    expect(t.sandbox.faults.fired.forbidden).toBe(1);
    expect((await t.raw("PATCH", `${REGISTRY_ID}?${API}`, { body: { tags: { x: "allowed" } } })).status).toBe(200);
  });

  it("names the RBAC action for reads, deletes, actions and the Tags API", () => {
    expect(armAction("GET", WS_ID)).toBe("Microsoft.MachineLearningServices/workspaces/read");
    expect(armAction("DELETE", CLUSTER_ID)).toBe("Microsoft.MachineLearningServices/workspaces/computes/delete");
    expect(armAction("POST", `${INSTANCE_ID}/stop`)).toBe("Microsoft.MachineLearningServices/workspaces/computes/stop/action");
    expect(armAction("PUT", `${WS_ID}/providers/Microsoft.Resources/tags/default`)).toBe("Microsoft.Resources/tags/write");
  });
});
