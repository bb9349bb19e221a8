import { randomBytes } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { readPath } from "../src/arm/resource.js";
import { openState } from "../src/runtime.js";
import { armExample } from "./helpers/fixtures.js";
import { azuriteForFile, startHarness, waitForEvents, type Harness } from "./helpers/pipeline.js";
import { rehome, WS_ID } from "./helpers/sandbox.js";

// The loop guard recognises amlguard's writes, not its identity: each write carries a fresh correlation id recorded
// (in its action-lock row) before the write. An event by amlguard's identity that matches no recorded write is someone
// else using that identity: alerted, and judged like any other write.
const azurite = azuriteForFile();
let h: Harness;
afterEach(async () => {
  await h?.close();
});

describe("loop guard: own writes are recognised by what amlguard recorded, never by identity alone", () => {
  it("a write by amlguard's identity that amlguard did not make is alerted and still remediated (the former guard skipped it)", async () => {
    h = await startHarness(azurite.connectionString, [rehome(armExample("workspace-get"), WS_ID)]);
    // Someone running code as amlguard's managed identity opens the workspace, outside amlguard's pipeline.
    await h.arm.patch(WS_ID, { properties: { publicNetworkAccess: "Enabled" } });
    const [event] = await waitForEvents(h, 1);
    await h.deliver(event);
    const rows = (await h.audit()).filter((r) => r.eventId === (event as { id: string }).id);
    expect(rows.filter((r) => r.ruleId === "workspace-public-network-access" || !r.ruleId).map((r) => r.decision).sort()).toEqual(["remediated", "unrecorded-self-write"]);
    expect(h.alerts.find((a) => a.title === "amlguard's identity made a write amlguard did not make")).toMatchObject({ severity: "high", outcome: "needs-action" });
    expect(readPath(h.sandbox.resource(WS_ID), "properties.publicNetworkAccess")).toBe("Disabled");
  });

  it("amlguard's own remediation, when its event comes back, is recognised and not acted on again", async () => {
    h = await startHarness(azurite.connectionString, [rehome(armExample("workspace-get"), WS_ID)]);
    await h.userArm.patch(WS_ID, { properties: { publicNetworkAccess: "Enabled" } });
    await h.deliver((await waitForEvents(h, 1))[0]);
    const [ownEvent] = await waitForEvents(h, 1);
    const writes = h.botWrites();
    await h.deliver(ownEvent);
    expect(h.botWrites()).toBe(writes);
    expect((await h.audit()).some((r) => r.decision === "unrecorded-self-write")).toBe(false);
    const remediated = (await h.audit()).find((r) => r.decision === "remediated");
    expect(remediated?.writeCorrelationId).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe("ActionLocks.recognise", () => {
  const RESOURCE = WS_ID;
  const at = new Date("2026-11-25T10:00:00Z");

  it("honours a recorded correlation id for one event only (redeliveries of that event too), so a copied id cannot be replayed", async () => {
    const { locks } = await openState({ connectionString: azurite.connectionString }, `t${randomBytes(5).toString("hex")}`);
    await locks.acquire(RESOURCE, "workspace-disable-public-network-access", "etag-1", { writeCorrelationId: "11111111-2222-4333-8444-555555555555", at: at.toISOString() });
    const later = new Date(at.getTime() + 60_000);
    expect(await locks.recognise(RESOURCE, "11111111-2222-4333-8444-555555555555", "event-1", later)).toBe("correlation-id");
    expect(await locks.recognise(RESOURCE, "11111111-2222-4333-8444-555555555555", "event-1", later)).toBe("correlation-id");
    expect(await locks.recognise(RESOURCE, "11111111-2222-4333-8444-555555555555", "event-2", later)).toBeUndefined();
    expect(await locks.recognise(RESOURCE.replace("ws1", "ws2"), "11111111-2222-4333-8444-555555555555", "event-3", later)).toBeUndefined();
  });

  it("falls back to a recent unclaimed lock on the resource when ARM did not echo the id, and only within the window", async () => {
    const { locks } = await openState({ connectionString: azurite.connectionString }, `t${randomBytes(5).toString("hex")}`);
    await locks.acquire(RESOURCE, "workspace-disable-public-network-access", "etag-1", { writeCorrelationId: "aaaaaaaa-2222-4333-8444-555555555555", at: at.toISOString() });
    expect(await locks.recognise(RESOURCE, "bbbbbbbb-2222-4333-8444-555555555555", "event-1", new Date(at.getTime() + 20 * 60_000))).toBeUndefined();
    expect(await locks.recognise(RESOURCE, "bbbbbbbb-2222-4333-8444-555555555555", "event-1", new Date(at.getTime() - 60_000))).toBeUndefined();
    expect(await locks.recognise(RESOURCE, "bbbbbbbb-2222-4333-8444-555555555555", "event-1", new Date(at.getTime() + 60_000))).toBe("time-window");
    // The lock is spent: a second write by the identity inside the window is not covered by it.
    expect(await locks.recognise(RESOURCE, "cccccccc-2222-4333-8444-555555555555", "event-2", new Date(at.getTime() + 90_000))).toBeUndefined();
  });
});
