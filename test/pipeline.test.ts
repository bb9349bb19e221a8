import { afterEach, describe, expect, it } from "vitest";
import type { ArmResource } from "../src/arm/resource.js";
import { armExample, compliantWorkspaceExample, variant } from "./helpers/fixtures.js";
import { BOT, azuriteForFile, startHarness, USER, waitForEvents, type Harness } from "./helpers/pipeline.js";
import { rehome, RG, SUB, WS_ID } from "./helpers/sandbox.js";

const CLUSTER_ID = `${WS_ID}/computes/cluster1`;
const INSTANCE_ID = `${WS_ID}/computes/ci1`;
const ENDPOINT_ID = `${WS_ID}/onlineEndpoints/ep1`;
const REGISTRY_ID = `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.MachineLearningServices/registries/reg1`;

/**
 * Azure's Workspace Get example made compliant with every workspace rule: it already has an approved private endpoint
 * and CMK; it gets an outbound-restricted managed network and its user-assigned identity as the primary one. (Its
 * resource logs are not evaluated here: events skip related reads; the sweep evaluates them.)
 */
function estate(): ArmResource[] {
  return [
    rehome(
      compliantWorkspaceExample(),
      WS_ID,
    ),
    rehome(armExample("compute-get-amlcompute"), CLUSTER_ID),
    rehome(
      variant(armExample("compute-get-computeinstance"), (c) => {
        c.properties.properties.state = "Running";
        c.properties.properties.sshSettings = { sshPublicAccess: "Disabled", adminUserName: "azureuser" };
        c.properties.properties.enableNodePublicIp = false;
        c.properties.disableLocalAuth = true;
        c.properties.properties.idleTimeBeforeShutdown = "PT60M";
      }),
      INSTANCE_ID,
    ),
    rehome(
      variant(armExample("online-endpoint-get"), (e) => {
        e.properties.publicNetworkAccess = "Disabled";
        e.properties.authMode = "AADToken";
      }),
      ENDPOINT_ID,
    ),
    rehome(variant(armExample("registry-get"), (r) => (r.properties.publicNetworkAccess = "Disabled")), REGISTRY_ID),
  ];
}

/** The estate with the compute instance's SSH open to the internet (create-only: it can only be seeded so). */
function withOpenInstance(state: string): ArmResource[] {
  return estate().map((r) =>
    r.id === INSTANCE_ID
      ? variant(r, (c) => {
          c.properties.properties.sshSettings.sshPublicAccess = "Enabled";
          c.properties.properties.state = state;
        })
      : r,
  );
}

const azurite = azuriteForFile();
let h: Harness;
afterEach(async () => {
  await h?.close();
});

async function userWrite(path: string, change: (resource: any) => void): Promise<void> {
  const current = await h.userArm.get(path);
  const body = structuredClone(current.resource) as any;
  change(body);
  await h.userArm.put(path, body, { ifMatch: current.etag! });
}

describe("event pipeline: remediation end to end (sandbox events → real handler → ARM)", () => {
  it("workspace made public: PATCHed back to Disabled, confirmed, audited with who/before/after, alerted with undo", async () => {
    h = await startHarness(azurite.connectionString, estate());
    await h.userArm.patch(WS_ID, { properties: { publicNetworkAccess: "Enabled" } });
    const [event] = await waitForEvents(h, 1);
    await h.deliver(event);

    expect((h.sandbox.resource(WS_ID) as any).properties.publicNetworkAccess).toBe("Disabled");
    const audit = await h.audit();
    const remediated = audit.find((r) => r.decision === "remediated")!;
    expect(remediated).toMatchObject({
      ruleId: "workspace-public-network-access",
      actionId: "workspace-disable-public-network-access",
      resourceId: WS_ID,
      actor: { objectId: USER.objectId, name: USER.name },
      before: { "properties.publicNetworkAccess": "Enabled" },
      after: { "properties.publicNetworkAccess": "Disabled" },
      trigger: "event-grid",
      eventType: "Microsoft.Resources.ResourceWriteSuccess",
    });
    expect(h.alerts).toHaveLength(1);
    expect(h.alerts[0]).toMatchObject({ outcome: "remediated", ruleId: "workspace-public-network-access", actor: { name: USER.name } });
    expect(h.alerts[0]!.undo).toMatch(/public-network-access Enabled/);
  });

  it("the bot's own write fires an event too: verified, never acted on again (no loop)", async () => {
    h = await startHarness(azurite.connectionString, estate());
    await h.userArm.patch(WS_ID, { properties: { publicNetworkAccess: "Enabled" } });
    await h.deliver((await waitForEvents(h, 1))[0]);
    const writesAfterRemediation = h.botWrites();
    const [ownEvent] = await waitForEvents(h, 1);
    expect((ownEvent as any).data.claims.appid).toBe(BOT.appId);
    await h.deliver(ownEvent);
    expect(h.botWrites()).toBe(writesAfterRemediation);
    expect(h.takeEvents()).toEqual([]);
    expect((await h.audit()).filter((r) => r.eventId === (ownEvent as any).id).map((r) => r.decision)).toEqual(["compliant"]);
  });

  it("a still-violating resource written by the bot itself is recorded as own-write, without a second action", async () => {
    h = await startHarness(azurite.connectionString, withOpenInstance("Stopped"));
    await h.userArm.action(`${INSTANCE_ID}/start`);
    await h.deliver((await waitForEvents(h, 1))[0]);
    expect((h.sandbox.resource(INSTANCE_ID) as any).properties.properties.state).toBe("Stopped");
    const [stopEvent] = await waitForEvents(h, 1); // the bot's own stop: a stop/action, not handled
    await h.deliver(stopEvent);
    const forged = structuredClone(stopEvent) as any; // the same resource, as a write by the bot
    forged.id = "own-write-1";
    forged.eventType = "Microsoft.Resources.ResourceWriteSuccess";
    forged.data.operationName = "Microsoft.MachineLearningServices/workspaces/computes/write";
    const writes = h.botWrites();
    await h.deliver(forged);
    expect(h.botWrites()).toBe(writes);
    const decisions = (await h.audit()).filter((r) => r.eventId === "own-write-1").map((r) => r.decision);
    expect(decisions).toEqual(["own-write"]);
    expect((await h.audit()).some((r) => r.eventId === (stopEvent as any).id)).toBe(false); // a stop/action: not handled, not stored
  });

  it("online endpoint: read-modify-PUT with If-Match; every property amlguard does not own comes back byte-identical", async () => {
    h = await startHarness(azurite.connectionString, estate());
    const unmodelled = { futureAuthPolicy: { tokenLifetime: "PT1H", audiences: ["api://x", "api://y"] }, "x-vendor": [1, "two", { three: null }] };
    await userWrite(ENDPOINT_ID, (e) => {
      e.properties.publicNetworkAccess = "Enabled";
      Object.assign(e.properties, unmodelled);
      e.newTopLevel = { keep: true };
    });
    const before = h.sandbox.resource(ENDPOINT_ID) as any;
    await h.deliver((await waitForEvents(h, 1))[0]);
    const after = h.sandbox.resource(ENDPOINT_ID) as any;
    expect(after.properties.publicNetworkAccess).toBe("Disabled");
    const put = h.sandbox.requests.filter((r) => r.method === "PUT" && r.principalId === BOT.objectId);
    expect(put).toHaveLength(1);
    // Owned: publicNetworkAccess. Service-owned and volatile: provisioningState, systemData. Everything else identical.
    const strip = (r: any): string => {
      const copy = structuredClone(r);
      delete copy.properties.publicNetworkAccess;
      delete copy.properties.provisioningState;
      delete copy.systemData;
      return JSON.stringify(copy);
    };
    expect(strip(after)).toBe(strip(before));
    expect(after.properties.futureAuthPolicy).toEqual(unmodelled.futureAuthPolicy);
    expect(after.newTopLevel).toEqual({ keep: true });
  });

  it("registry: read-modify-PUT, only publicNetworkAccess changes", async () => {
    h = await startHarness(azurite.connectionString, estate());
    await userWrite(REGISTRY_ID, (r) => (r.properties.publicNetworkAccess = "Enabled"));
    const before = h.sandbox.resource(REGISTRY_ID) as any;
    await h.deliver((await waitForEvents(h, 1))[0]);
    const after = h.sandbox.resource(REGISTRY_ID) as any;
    expect(after.properties.publicNetworkAccess).toBe("Disabled");
    expect(after.properties.regionDetails).toEqual(before.properties.regionDetails);
    expect((await h.audit()).find((r) => r.decision === "remediated")?.actionId).toBe("registry-disable-public-network-access");
  });

  it("compute instance with public SSH started by a user (ResourceActionSuccess): stopped again, alerted that it must be recreated", async () => {
    h = await startHarness(azurite.connectionString, withOpenInstance("Stopped"));
    await h.userArm.action(`${INSTANCE_ID}/start`);
    const [started] = await waitForEvents(h, 1);
    expect((started as any).eventType).toBe("Microsoft.Resources.ResourceActionSuccess");
    await h.deliver(started);
    expect((h.sandbox.resource(INSTANCE_ID) as any).properties.properties.state).toBe("Stopped");
    const alert = h.alerts.find((a) => a.ruleId === "compute-public-ssh")!;
    expect(alert.outcome).toBe("remediated");
    // What is left, never what was done: the stop is done; recreating with SSH closed is the person's.
    expect(alert.nextStep).toMatch(/^Contained, not fixed: recreate the instance with SSH closed to the internet .* then start the new one/);
    expect(alert.undo).toMatch(/az ml compute start/);
  });

  it("cluster with public IP and SSH: capped once (maxNodeCount 0 so no job can start a node), undo restores both counts, never deleted", async () => {
    h = await startHarness(azurite.connectionString, estate());
    await h.userArm.patch(CLUSTER_ID, { properties: { properties: { scaleSettings: { maxNodeCount: 4, minNodeCount: 2 } } } });
    await h.deliver((await waitForEvents(h, 1))[0]);
    const cluster = h.sandbox.resource(CLUSTER_ID) as any;
    expect(cluster.properties.properties.scaleSettings).toMatchObject({ minNodeCount: 0, maxNodeCount: 0 });
    const alert = h.alerts.find((a) => a.ruleId === "compute-node-public-ip")!;
    expect(alert.undo).toMatch(/--max-instances 4 --min-instances 2$/);
    expect(alert.actionTaken).toMatch(/No node can start/);
    expect(h.sandbox.requests.filter((r) => r.principalId === BOT.objectId && r.method === "PATCH")).toHaveLength(1);
    expect(h.sandbox.requests.some((r) => r.method === "DELETE")).toBe(false);
    const remediated = (await h.audit()).filter((r) => r.decision === "remediated").map((r) => r.ruleId).sort();
    expect(remediated).toEqual(["compute-node-public-ip", "compute-public-ssh"]);
    // compute-local-auth has no automatic remediation: alerted.
    expect((await h.audit()).find((r) => r.ruleId === "compute-local-auth")?.decision).toBe("alerted");
  });
});

describe("event pipeline: at-least-once delivery", () => {
  it("a duplicate delivery writes nothing and alerts nothing the second time", async () => {
    h = await startHarness(azurite.connectionString, estate());
    await h.userArm.patch(WS_ID, { properties: { publicNetworkAccess: "Enabled" } });
    const [event] = await waitForEvents(h, 1);
    await h.deliver(event);
    const writes = h.botWrites();
    await h.deliver(event);
    expect(h.botWrites()).toBe(writes);
    expect(h.alerts).toHaveLength(1);
    // No per-event claim: the redelivery reads the resource again, finds it fixed, and says so (idempotently).
    expect((await h.audit()).filter((r) => r.eventId === (event as any).id).map((r) => r.decision).sort()).toEqual(["compliant", "remediated"]);
  });

  it("eight concurrent deliveries of one event: exactly one write, one alert", async () => {
    h = await startHarness(azurite.connectionString, estate());
    await userWrite(ENDPOINT_ID, (e) => (e.properties.publicNetworkAccess = "Enabled"));
    const [event] = await waitForEvents(h, 1);
    await Promise.all(Array.from({ length: 8 }, () => h.deliver(structuredClone(event))));
    expect(h.botWrites()).toBe(1);
    expect(h.alerts.filter((a) => a.outcome === "remediated")).toHaveLength(1);
  });

  it("two different events about the same state (out of order, concurrent): one write", async () => {
    h = await startHarness(azurite.connectionString, estate());
    await userWrite(ENDPOINT_ID, (e) => (e.properties.publicNetworkAccess = "Enabled"));
    const [event] = await waitForEvents(h, 1);
    const twin = { ...structuredClone(event), id: "another-event-id" };
    await Promise.all([h.deliver(twin), h.deliver(event)]);
    expect(h.botWrites()).toBe(1);
  });
});

describe("event pipeline: failures", () => {
  it("rides out a 429 storm (Retry-After honoured by the SDK pipeline)", async () => {
    h = await startHarness(azurite.connectionString, estate());
    await h.userArm.patch(WS_ID, { properties: { publicNetworkAccess: "Enabled" } });
    const [event] = await waitForEvents(h, 1);
    h.sandbox.faults.add({ kind: "throttle", method: "PATCH", retryAfterSeconds: 1, times: 2 });
    await h.deliver(event);
    expect(h.sandbox.faults.fired.throttle).toBe(2);
    expect((h.sandbox.resource(WS_ID) as any).properties.publicNetworkAccess).toBe("Disabled");
  });

  it("persistent 5xx: the handler throws (Event Grid retries) and the redelivery succeeds, writing once", async () => {
    h = await startHarness(azurite.connectionString, estate());
    await h.userArm.patch(WS_ID, { properties: { publicNetworkAccess: "Enabled" } });
    const [event] = await waitForEvents(h, 1);
    h.sandbox.faults.add({ kind: "server-error", statusCode: 500, method: "PATCH" });
    await expect(h.deliver(event)).rejects.toThrow(/InternalServerError/);
    expect(h.alerts).toEqual([]);
    h.sandbox.faults.clear();
    await h.deliver(event);
    expect((h.sandbox.resource(WS_ID) as any).properties.publicNetworkAccess).toBe("Disabled");
    expect(h.sandbox.requests.filter((r) => r.method === "PATCH" && r.principalId === BOT.objectId && r.status === 202)).toHaveLength(1);
  });

  it("a redelivery after a failure part-way accounts for each rule of the event once", async () => {
    h = await startHarness(azurite.connectionString, estate(), { ruleModes: { "compute-local-auth": "alert" } });
    await h.userArm.patch(CLUSTER_ID, { properties: { properties: { scaleSettings: { maxNodeCount: 4, minNodeCount: 2 } } } });
    const [event] = (await waitForEvents(h, 1)) as any[];
    h.sandbox.faults.add({ kind: "server-error", statusCode: 500, method: "PATCH" });
    await expect(h.deliver(event)).rejects.toThrow(); // compute-local-auth was already alerted and audited
    h.sandbox.faults.clear();
    await h.deliver(event);
    const rows = (await h.audit()).filter((r) => r.eventId === event.id && r.decision !== "duplicate");
    expect(rows.map((r) => `${r.ruleId}:${r.decision}`).sort()).toEqual(["compute-local-auth:alerted", "compute-node-public-ip:remediated", "compute-public-ssh:remediated"]);
  });

  it("the last delivery attempt alerts 'could not remediate' instead of throwing", async () => {
    h = await startHarness(azurite.connectionString, estate(), { maxDeliveryAttempts: 2 });
    await h.userArm.patch(WS_ID, { properties: { publicNetworkAccess: "Enabled" } });
    const [event] = await waitForEvents(h, 1);
    h.sandbox.faults.add({ kind: "server-error", statusCode: 503, method: "PATCH" });
    await expect(h.deliver(event)).rejects.toThrow();
    await h.deliver(event);
    expect(h.alerts).toHaveLength(1);
    expect(h.alerts[0]).toMatchObject({ outcome: "failed", title: "amlguard could not remediate" });
    expect((await h.audit()).find((r) => r.decision === "failed")?.message).toMatch(/gave up after 2 deliveries/);
  });

  it("a failed long-running operation is reported as failed, not as success", async () => {
    h = await startHarness(azurite.connectionString, estate(), { maxDeliveryAttempts: 1 });
    await h.userArm.patch(WS_ID, { properties: { publicNetworkAccess: "Enabled" } });
    const [event] = await waitForEvents(h, 1);
    h.sandbox.faults.add({ kind: "lro-failure", method: "PATCH", times: 1 });
    await h.deliver(event);
    expect((await h.audit()).some((r) => r.decision === "remediated")).toBe(false);
    expect(h.alerts[0]?.outcome).toBe("failed");
  });
});

describe("event pipeline: modes, dry-run, exemptions", () => {
  it("dry-run writes nothing, audits the planned before/after, alerts as dry-run", async () => {
    h = await startHarness(azurite.connectionString, estate(), { dryRun: true });
    await h.userArm.patch(WS_ID, { properties: { publicNetworkAccess: "Enabled" } });
    await h.deliver((await waitForEvents(h, 1))[0]);
    expect(h.botWrites()).toBe(0);
    const row = (await h.audit()).find((r) => r.decision === "dry-run")!;
    expect(row).toMatchObject({ dryRun: true, before: { "properties.publicNetworkAccess": "Enabled" }, after: { "properties.publicNetworkAccess": "Disabled" } });
    expect(h.alerts[0]?.outcome).toBe("dry-run");
  });

  it("modes: alert alerts without writing; off records and stays silent", async () => {
    h = await startHarness(azurite.connectionString, estate(), { defaultMode: "alert", ruleModes: { "compute-local-auth": "off" } });
    await h.userArm.patch(CLUSTER_ID, { properties: { properties: { scaleSettings: { maxNodeCount: 4, minNodeCount: 1 } } } });
    await h.deliver((await waitForEvents(h, 1))[0]);
    expect(h.botWrites()).toBe(0);
    const decisions = Object.fromEntries((await h.audit()).map((r) => [r.ruleId, r.decision]));
    expect(decisions).toMatchObject({ "compute-node-public-ip": "alerted", "compute-public-ssh": "alerted", "compute-local-auth": "off" });
    expect(h.alerts.map((a) => a.ruleId).sort()).toEqual(["compute-node-public-ip", "compute-public-ssh"]);
  });

  it.each([
    ["expired", "rules=*; reason=old; expires=2020-01-01", /expired on 2020-01-01/],
    ["malformed", "everything please", /not key=value/],
    ["unknown rule", "rules=no-such-rule; reason=x; expires=2099-01-01", /unknown rule id/],
    ["too far ahead", "rules=*; reason=forever; expires=2099-01-01", /more than a year ahead/],
  ])("an %s exemption is ignored and reported", async (_label, value, problem) => {
    h = await startHarness(azurite.connectionString, estate());
    await userWrite(ENDPOINT_ID, (e) => {
      e.properties.publicNetworkAccess = "Enabled";
      e.tags = { "amlguard-exempt": value };
    });
    await h.deliver((await waitForEvents(h, 1))[0]);
    const audit = await h.audit();
    expect(audit.find((r) => r.decision === "exemption-invalid")?.message).toMatch(problem);
    expect(audit.find((r) => r.ruleId === "endpoint-public-network-access")?.decision).toBe("remediated");
  });
});

describe("event pipeline: bad and irrelevant input changes nothing", () => {
  it("malformed and forged events are audited, irrelevant ones only counted; all acknowledged at zero ARM calls", async () => {
    h = await startHarness(azurite.connectionString, estate());
    await h.userArm.patch(WS_ID, { properties: { publicNetworkAccess: "Enabled" } });
    const [real] = (await waitForEvents(h, 1)) as any[];
    const requestsBefore = h.sandbox.requests.length;
    const storageWrite = { ...structuredClone(real), id: "storage-1", subject: "/subscriptions/x/resourceGroups/y/providers/Microsoft.Storage/storageAccounts/z" };
    storageWrite.data.operationName = "Microsoft.Storage/storageAccounts/write";
    storageWrite.data.resourceUri = storageWrite.subject;
    const forged = structuredClone(real);
    forged.id = "forged-1";
    forged.data.resourceUri = `${WS_ID}/computes/../../../../../Microsoft.Storage/storageAccounts/z`;
    for (const event of [null, "text", { hello: "world" }, { ...structuredClone(real), data: "x" }, storageWrite, forged]) {
      await h.deliver(event);
    }
    expect(h.sandbox.requests.length).toBe(requestsBefore);
    const decisions = (await h.audit()).map((r) => r.decision);
    expect(decisions.filter((d) => d === "rejected")).toHaveLength(5);
    // The storage write is not for amlguard: no audit row (the bulk of a subscription's traffic), but counted.
    expect(decisions.filter((d) => d === "ignored")).toHaveLength(0);
    expect(h.logs.join("\n")).toMatch(/"ignored":1/);
    expect(h.logs.join("\n")).not.toMatch(/\n\s+at /);
  });

  it("a resource deleted before the event arrives is recorded as gone", async () => {
    h = await startHarness(azurite.connectionString, estate());
    await h.userArm.patch(WS_ID, { properties: { publicNetworkAccess: "Enabled" } });
    const [event] = (await waitForEvents(h, 1)) as any[];
    const missing = structuredClone(event);
    missing.id = "gone-1";
    missing.data.resourceUri = WS_ID.replace("ws1", "deleted-ws");
    await h.deliver(missing);
    expect((await h.audit()).find((r) => r.eventId === "gone-1")?.decision).toBe("gone");
  });
});
