import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ArmError } from "../src/azure/arm-client.js";
import { armExample } from "./helpers/fixtures.js";
import { rehome, RG, startTestSandbox, SUB, WS_ID, type TestSandbox } from "./helpers/sandbox.js";

// Each behaviour names where it comes from; docs/sandbox.md has the full list.
const API = "api-version=2025-09-01";
const CLUSTER_ID = `${WS_ID}/computes/cluster1`;
const INSTANCE_ID = `${WS_ID}/computes/ci1`;
const ENDPOINT_ID = `${WS_ID}/onlineEndpoints/ep1`;
const DEPLOYMENT_ID = `${ENDPOINT_ID}/deployments/blue`;
const REGISTRY_ID = `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.MachineLearningServices/registries/reg1`;

let t: TestSandbox;

beforeAll(async () => {
  const workspace = armExample("workspace-get");
  // A property newer than the SDK's 2022-10-01 models, to prove raw reads keep what the SDK drops.
  (workspace.properties as Record<string, unknown>).futureNetworkSetting = { mode: "Strict", added: "2026-01" };
  const extraWorkspaces = [2, 3, 4, 5].map((n) => rehome(armExample("workspace-get"), WS_ID.replace("ws1", `ws${n}`)));
  t = await startTestSandbox(
    [
      rehome(workspace, WS_ID),
      ...extraWorkspaces,
      rehome(armExample("compute-get-amlcompute"), CLUSTER_ID),
      rehome(armExample("compute-get-computeinstance"), INSTANCE_ID),
      rehome(armExample("online-endpoint-get"), ENDPOINT_ID),
      rehome(armExample("online-deployment-get-managed"), DEPLOYMENT_ID),
      rehome(armExample("registry-get"), REGISTRY_ID),
    ],
    { pageSize: 2 },
  );
});

afterAll(async () => {
  await t.sandbox.close();
});

describe("ARM sandbox: reads (Azure's GET/List examples)", () => {
  it("the real SDK reads a workspace (AzureMachineLearningWorkspaces.workspaces.get)", async () => {
    const workspace = await t.sdk.workspaces.get(RG, "ws1");
    expect(workspace.id).toBe(WS_ID);
    expect(workspace.publicNetworkAccess).toBe("Disabled");
    expect(workspace.provisioningState).toBe("Succeeded");
  });

  it("raw reads keep properties the SDK's 2022-10-01 models drop", async () => {
    const raw = await t.arm.get(WS_ID);
    expect((raw.resource.properties as Record<string, unknown>).futureNetworkSetting).toEqual({ mode: "Strict", added: "2026-01" });
    const viaSdk = (await t.sdk.workspaces.get(RG, "ws1")) as Record<string, unknown>;
    expect(viaSdk.futureNetworkSetting).toBeUndefined();
  });

  it("lists page with nextLink; the SDK and the raw client both follow it", async () => {
    const first = await t.raw("GET", `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.MachineLearningServices/workspaces?${API}`);
    expect(first.status).toBe(200);
    expect(first.body.value).toHaveLength(2);
    expect(first.body.nextLink).toMatch(/\$skipToken=2/);
    const viaSdk = [];
    for await (const w of t.sdk.workspaces.listByResourceGroup(RG)) viaSdk.push(w.name);
    expect(viaSdk.sort()).toEqual(["ws1", "ws2", "ws3", "ws4", "ws5"]);
    const viaRaw = [];
    for await (const w of t.arm.list(`/subscriptions/${SUB}/providers/Microsoft.MachineLearningServices/workspaces`)) viaRaw.push(w.name);
    expect(viaRaw).toHaveLength(5);
  });

  it("lists children: computes, endpoints, deployments, registries", async () => {
    const computes = [];
    for await (const c of t.sdk.computeOperations.list(RG, "ws1")) computes.push(c.name);
    expect(computes.sort()).toEqual(["ci1", "cluster1"]);
    const deployments = [];
    for await (const d of t.arm.list(`${ENDPOINT_ID}/deployments`)) deployments.push(d.name);
    expect(deployments).toEqual(["blue"]);
    const registries = [];
    for await (const r of t.arm.list(`/subscriptions/${SUB}/providers/Microsoft.MachineLearningServices/registries`)) registries.push(r.name);
    expect(registries).toEqual(["reg1"]);
  });
});

describe("ARM sandbox: protocol errors (ARM's documented error envelope)", () => {
  it("requires api-version: 400 MissingApiVersionParameter", async () => {
    const res = await t.raw("GET", WS_ID);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("MissingApiVersionParameter");
  });

  it("rejects an unknown api-version: 400 NoRegisteredProviderFound", async () => {
    const res = await t.raw("GET", `${WS_ID}?api-version=2019-01-01`);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("NoRegisteredProviderFound");
  });

  it("requires a bearer token: 401 AuthenticationFailed with WWW-Authenticate", async () => {
    const res = await t.raw("GET", `${WS_ID}?${API}`, { token: null });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe("AuthenticationFailed");
    expect(res.headers["www-authenticate"]).toMatch(/^Bearer /);
  });

  it("rejects a token it did not issue: 401 InvalidAuthenticationToken", async () => {
    const res = await t.raw("GET", `${WS_ID}?${API}`, { token: "forged" });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe("InvalidAuthenticationToken");
  });

  it("404s: ResourceNotFound, ParentResourceNotFound, ResourceGroupNotFound, SubscriptionNotFound", async () => {
    const missing = await t.raw("GET", `${WS_ID.replace("ws1", "nope")}?${API}`);
    expect([missing.status, missing.body.error.code]).toEqual([404, "ResourceNotFound"]);
    expect(missing.body.error.message).toContain("Microsoft.MachineLearningServices/workspaces/nope");
    const orphan = await t.raw("GET", `${WS_ID.replace("ws1", "nope")}/computes/c?${API}`);
    expect([orphan.status, orphan.body.error.code]).toEqual([404, "ParentResourceNotFound"]);
    const group = await t.raw("GET", `${WS_ID.replace(RG, "rg-missing")}?${API}`);
    expect([group.status, group.body.error.code]).toEqual([404, "ResourceGroupNotFound"]);
    const sub = await t.raw("GET", `${WS_ID.replace(SUB, "99999999-1111-2222-3333-444444444444")}?${API}`);
    expect([sub.status, sub.body.error.code]).toEqual([404, "SubscriptionNotFound"]);
  });

  it("the raw client surfaces ARM errors as ArmError with code and status", async () => {
    await expect(t.arm.get(WS_ID.replace("ws1", "nope"))).rejects.toMatchObject({ statusCode: 404, code: "ResourceNotFound" });
    await expect(t.arm.get(WS_ID.replace("ws1", "nope"))).rejects.toBeInstanceOf(ArmError);
  });

  it("rejects malformed JSON bodies: 400 InvalidRequestContent", async () => {
    const res = await t.raw("PUT", `${WS_ID}?${API}`, { body: "{not json" });
    expect([res.status, res.body.error.code]).toEqual([400, "InvalidRequestContent"]);
  });
});

describe("ARM sandbox: writes (mutability and PATCH schemas from the 2025-09-01 spec)", () => {
  it("PUT keeps unknown properties and returns them untouched", async () => {
    const current = await t.arm.get(REGISTRY_ID);
    const body = structuredClone(current.resource);
    (body.properties as Record<string, unknown>).experimentalFeature = { nested: [1, 2, { x: "y" }] };
    const after = await t.arm.put(REGISTRY_ID, body, { ifMatch: current.etag! });
    expect((after.properties as Record<string, unknown>).experimentalFeature).toEqual({ nested: [1, 2, { x: "y" }] });
    expect(((await t.arm.get(REGISTRY_ID)).resource.properties as Record<string, unknown>).experimentalFeature).toEqual({ nested: [1, 2, { x: "y" }] });
  });

  it("PUT with a stale If-Match is refused with 412 PreconditionFailed (optimistic concurrency)", async () => {
    const current = await t.arm.get(REGISTRY_ID);
    await expect(t.arm.put(REGISTRY_ID, current.resource, { ifMatch: '"stale"' })).rejects.toMatchObject({ statusCode: 412, code: "PreconditionFailed" });
  });

  it("PUT may not change create-only properties: 400 UserError", async () => {
    const current = await t.arm.get(CLUSTER_ID);
    const body = structuredClone(current.resource) as any;
    body.properties.properties.enableNodePublicIp = false;
    await expect(t.arm.put(CLUSTER_ID, body)).rejects.toMatchObject({ statusCode: 400, code: "UserError" });
    expect(((await t.arm.get(CLUSTER_ID)).resource as any).properties.properties.enableNodePublicIp).toBe(true);
  });

  it("PUT may not move a resource: 400 InvalidResourceLocation", async () => {
    const current = await t.arm.get(ENDPOINT_ID);
    await expect(t.arm.put(ENDPOINT_ID, { ...current.resource, location: "antarcticanorth" })).rejects.toMatchObject({ statusCode: 400, code: "InvalidResourceLocation" });
  });

  it("read-only properties in a PUT body are ignored", async () => {
    const current = await t.arm.get(ENDPOINT_ID);
    const body = structuredClone(current.resource) as any;
    body.properties.scoringUri = "https://attacker.example/score";
    const after = (await t.arm.put(ENDPOINT_ID, body)) as any;
    expect(after.properties.scoringUri).toBe((current.resource as any).properties.scoringUri);
  });

  it("workspace PATCH takes WorkspaceUpdateParameters only; the SDK's update is a long-running operation", async () => {
    const updated = await t.sdk.workspaces.beginUpdateAndWait(RG, "ws2", { description: "patched by the SDK" }, { updateIntervalInMs: 10 });
    expect(updated.description).toBe("patched by the SDK");
    const refused = await t.raw("PATCH", `${WS_ID}?${API}`, { body: { properties: { storageAccount: "/x" } } });
    expect([refused.status, refused.body.error.code, refused.body.error.innerError.code]).toEqual([400, "UserError", "BadArgument"]);
  });

  it("compute PATCH takes scaleSettings only (ClusterUpdateParameters)", async () => {
    const updated = await t.sdk.computeOperations.beginUpdateAndWait(RG, "ws1", "cluster1", { properties: { scaleSettings: { maxNodeCount: 3, minNodeCount: 0 } } }, { updateIntervalInMs: 10 });
    expect((updated.properties as any).properties.scaleSettings.maxNodeCount).toBe(3);
    const refused = await t.raw("PATCH", `${CLUSTER_ID}?${API}`, { body: { properties: { properties: { enableNodePublicIp: false } } } });
    expect(refused.status).toBe(400);
  });

  it("online endpoint PATCH takes tags and identity only; publicNetworkAccess needs a PUT", async () => {
    const refused = await t.raw("PATCH", `${ENDPOINT_ID}?${API}`, { body: { properties: { publicNetworkAccess: "Disabled" } } });
    expect([refused.status, refused.body.error.code]).toEqual([400, "UserError"]);
    const tagged = await t.arm.patch(ENDPOINT_ID, { tags: { owner: "ml-platform" } });
    expect(tagged.tags).toMatchObject({ owner: "ml-platform" });
  });

  it("initial LRO responses carry the status and headers the spec declares per operation", async () => {
    // Workspaces_Update: 202 with Location; the Location URL answers 202 until done, then 200 with the workspace.
    const workspace = await t.raw("PATCH", `${WS_ID}?${API}`, { body: { tags: { a: "b" } } });
    expect(workspace.status).toBe(202);
    expect(String(workspace.headers.location)).toContain("/mfeOperationResults/");
    expect(workspace.headers["azure-asyncoperation"]).toBeUndefined();
    const location = new URL(String(workspace.headers.location));
    const done = await t.raw("GET", location.pathname + location.search);
    expect([done.status, done.body.id]).toEqual([200, WS_ID]);
    // Compute_Update: 200 with Azure-AsyncOperation; the status resource reaches Succeeded.
    const compute = await t.raw("PATCH", `${CLUSTER_ID}?${API}`, { body: { properties: { properties: { scaleSettings: { maxNodeCount: 2 } } } } });
    expect(compute.status).toBe(200);
    const status = new URL(String(compute.headers["azure-asyncoperation"]));
    expect((await t.raw("GET", status.pathname + status.search)).body.status).toBe("Succeeded");
    // OnlineEndpoints_Update: 202 with Location and x-ms-async-operation-timeout.
    const endpoint = await t.raw("PATCH", `${ENDPOINT_ID}?${API}`, { body: { tags: { x: "y" } } });
    expect(endpoint.status).toBe(202);
    expect(endpoint.headers["x-ms-async-operation-timeout"]).toBeDefined();
    // Registries_Update is not long-running: 200 with the registry.
    const registry = await t.raw("PATCH", `${REGISTRY_ID}?${API}`, { body: { tags: { z: "1" } } });
    expect([registry.status, registry.body.tags.z]).toEqual([200, "1"]);
  });

  it("publishes ResourceWriteSuccess with the caller's claims when a write completes, polled or not", async () => {
    const events: any[] = [];
    // The operation completes on its own (nobody polls); the test waits for its event, not for a fixed time.
    const published = new Promise<void>((resolve) => t.sandbox.onEvent((event) => void (events.push(event), event.subject === WS_ID && resolve())));
    const caller = { objectId: "11111111-2222-3333-4444-555555555555", appId: "99999999-8888-7777-6666-555555555555", name: "ci-pipeline", type: "ServicePrincipal" as const };
    const token = (await t.sandbox.credential(caller).getToken("https://management.azure.com/.default"))!.token;
    const accepted = await t.raw("PATCH", `${WS_ID}?${API}`, { token, body: { tags: { by: "pipeline" } } });
    expect(accepted.status).toBe(202);
    await published;
    const event = events.find((e) => e.subject === WS_ID);
    expect(event).toMatchObject({
      eventType: "Microsoft.Resources.ResourceWriteSuccess",
      topic: `/subscriptions/${SUB}`,
      data: { operationName: "Microsoft.MachineLearningServices/workspaces/write", resourceUri: WS_ID, status: "Succeeded", claims: { appid: caller.appId } },
    });
    expect(event.data.claims["http://schemas.microsoft.com/identity/claims/objectidentifier"]).toBe(caller.objectId);
  });

  it("compute instance stop/start through the SDK's LRO poller", async () => {
    await t.sdk.computeOperations.beginStopAndWait(RG, "ws1", "ci1", { updateIntervalInMs: 10 });
    expect(((await t.arm.get(INSTANCE_ID)).resource as any).properties.properties.state).toBe("Stopped");
    await t.sdk.computeOperations.beginStartAndWait(RG, "ws1", "ci1", { updateIntervalInMs: 10 });
    expect(((await t.arm.get(INSTANCE_ID)).resource as any).properties.properties.state).toBe("Running");
  });

  it("stop is for compute instances only", async () => {
    const refused = await t.raw("POST", `${CLUSTER_ID}/stop?${API}`);
    expect([refused.status, refused.body.error.code]).toEqual([400, "UserError"]);
  });
});

describe("ARM sandbox: faults (ARM throttling and transient errors)", () => {
  it("429 with Retry-After is retried by the SDK pipeline after the advertised delay", async () => {
    t.sandbox.faults.clear();
    t.sandbox.faults.add({ kind: "throttle", method: "GET", retryAfterSeconds: 1, times: 2 });
    const started = Date.now();
    const read = await t.arm.get(WS_ID);
    expect(read.resource.id).toBe(WS_ID);
    expect(t.sandbox.faults.fired.throttle).toBeGreaterThanOrEqual(2);
    // Two Retry-After: 1 answers mean about 2 s of honoured waiting. Only a lower bound (a slow machine lengthens
    // it), with slack for Node's timers, which start from the event loop's cached clock and so can end a little
    // early by Date.now() when the process was descheduled.
    expect(Date.now() - started).toBeGreaterThanOrEqual(1800);
  });

  it("5xx and dropped connections are retried", async () => {
    t.sandbox.faults.clear();
    t.sandbox.faults.add({ kind: "server-error", statusCode: 503, times: 1 });
    t.sandbox.faults.add({ kind: "drop", times: 1 });
    const before = t.sandbox.requests.length;
    expect((await t.arm.get(WS_ID)).resource.id).toBe(WS_ID);
    expect(t.sandbox.requests.length - before).toBeGreaterThanOrEqual(2);
  });

  it("a failed long-running operation rejects and changes nothing", async () => {
    t.sandbox.faults.clear();
    t.sandbox.faults.add({ kind: "lro-failure", method: "PATCH", times: 1 });
    const before = (await t.arm.get(WS_ID)).resource as any;
    await expect(t.arm.patch(WS_ID, { properties: { publicNetworkAccess: "Enabled" } })).rejects.toThrow();
    const after = (await t.arm.get(WS_ID)).resource as any;
    expect(after.properties.publicNetworkAccess).toBe(before.properties.publicNetworkAccess);
    expect(after.properties.provisioningState).toBe("Failed");
  });

  it("latency is added to every matching request", async () => {
    t.sandbox.faults.clear();
    t.sandbox.faults.add({ kind: "latency", latencyMs: 150, times: 1 });
    const injected: number[] = [];
    t.sandbox.faults.onLatency = (ms) => void injected.push(ms);
    const started = Date.now();
    await t.arm.get(WS_ID);
    await t.arm.get(WS_ID);
    t.sandbox.faults.onLatency = undefined;
    // What was injected is counted; the elapsed time is only a lower bound, with slack for timers that start from
    // the event loop's cached clock (a descheduled process sees them end a little early by Date.now()).
    expect(injected).toEqual([150]);
    expect(t.sandbox.faults.fired.latency).toBe(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(100);
  });
});
