import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { GraphClient } from "../src/azure/graph-client.js";
import { depsFor } from "../src/runtime.js";
import { graphSource } from "../src/scan.js";
import { silentLogger } from "../src/log.js";
import { ArmSandboxError } from "../src/sandbox/arm-errors.js";
import { ARM_WRITE_BUCKET, GLOBAL_MULTIPLIER, SubscriptionThrottle } from "../src/sandbox/arm/quota.js";
import { sweep } from "../src/sweep.js";
import { armExample, variant } from "./helpers/fixtures.js";
import { BOT, azuriteForFile, startHarness, type Harness } from "./helpers/pipeline.js";
import { rehome, SUB, WS_ID, startTestSandbox, type TestSandbox } from "./helpers/sandbox.js";

// ARM's token buckets since 2024: "Understand how Azure Resource Manager throttles requests",
// https://learn.microsoft.com/azure/azure-resource-manager/management/request-limits-and-throttling
// (subscription writes and deletes: bucket 200, refill 10 per second; per principal, with a global limit 15x).
// Every test drives an injected clock: nothing depends on how fast the machine is.

function manualClock(): { now: () => number; advance: (ms: number) => void } {
  let t = 1_700_000_000_000;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

function thrown(run: () => unknown): ArmSandboxError {
  try {
    run();
  } catch (error) {
    if (error instanceof ArmSandboxError) return error;
    throw error;
  }
  throw new Error("expected the bucket to be empty");
}

describe("ARM write token bucket (SubscriptionThrottle)", () => {
  it("holds 200 writes, reports what is left, answers 429 SubscriptionRequestsThrottled with Retry-After when empty", () => {
    expect(ARM_WRITE_BUCKET).toEqual({ capacity: 200, refillPerSecond: 10 });
    const clock = manualClock();
    const throttle = new SubscriptionThrottle(ARM_WRITE_BUCKET, clock.now);
    const remaining = Array.from({ length: 200 }, () => throttle.take("PATCH", WS_ID, "bot")!["x-ms-ratelimit-remaining-subscription-writes"]);
    expect(remaining.slice(0, 3)).toEqual(["199", "198", "197"]);
    expect(remaining.at(-1)).toBe("0");
    const error = thrown(() => throttle.take("PUT", WS_ID, "bot"));
    expect([error.statusCode, error.code, error.headers["Retry-After"]]).toEqual([429, "SubscriptionRequestsThrottled", "1"]);
    expect(error.message).toContain(`subscription '${SUB}'`);
  });

  it("refills 10 tokens a second, never above 200", () => {
    const clock = manualClock();
    const throttle = new SubscriptionThrottle(ARM_WRITE_BUCKET, clock.now);
    for (let i = 0; i < 200; i++) throttle.take("POST", `${WS_ID}/computes/ci/stop`, "bot");
    clock.advance(1000);
    expect(throttle.take("PATCH", WS_ID, "bot")!["x-ms-ratelimit-remaining-subscription-writes"]).toBe("9");
    clock.advance(3_600_000);
    expect(throttle.take("PATCH", WS_ID, "bot")!["x-ms-ratelimit-remaining-subscription-writes"]).toBe("199");
  });

  it("counts per principal and per operation type; reads and tenant-level paths are not counted here", () => {
    const clock = manualClock();
    const throttle = new SubscriptionThrottle({ capacity: 2, refillPerSecond: 0 }, clock.now);
    throttle.take("PATCH", WS_ID, "bot");
    throttle.take("PATCH", WS_ID, "bot");
    expect(thrown(() => throttle.take("PATCH", WS_ID, "bot")).statusCode).toBe(429);
    expect(throttle.take("PATCH", WS_ID, "alice")).toEqual({ "x-ms-ratelimit-remaining-subscription-writes": "1" });
    expect(throttle.take("DELETE", WS_ID, "bot")).toEqual({ "x-ms-ratelimit-remaining-subscription-deletes": "1" });
    expect(throttle.take("GET", WS_ID, "bot")).toBeUndefined();
    expect(throttle.take("PUT", "/providers/Microsoft.Example/things/x", "bot")).toBeUndefined();
  });

  it("a global limit of 15 times the principal's bucket spans every principal of the subscription", () => {
    const throttle = new SubscriptionThrottle({ capacity: 2, refillPerSecond: 1 }, manualClock().now);
    for (let p = 0; p < GLOBAL_MULTIPLIER; p++) for (let i = 0; i < 2; i++) throttle.take("PUT", WS_ID, `principal-${p}`);
    const error = thrown(() => throttle.take("PUT", WS_ID, "one-more-principal"));
    expect([error.statusCode, error.headers["Retry-After"]]).toEqual([429, "1"]);
  });
});

describe("ARM sandbox throttling over HTTPS", () => {
  const clock = manualClock();
  let t: TestSandbox;
  beforeAll(async () => {
    t = await startTestSandbox([rehome(armExample("workspace-get"), WS_ID)], { writeBucket: { capacity: 2, refillPerSecond: 10 }, clock: clock.now });
  });
  afterAll(async () => {
    await t.sandbox.close();
  });

  it("writes carry x-ms-ratelimit-remaining-subscription-writes (read by ArmClient), reads do not; empty is 429 with Retry-After", async () => {
    const read = await t.raw("GET", `${WS_ID}?api-version=2025-09-01`);
    expect(read.headers["x-ms-ratelimit-remaining-subscription-writes"]).toBeUndefined();
    await t.arm.patch(WS_ID, { tags: { a: "1" } });
    expect(t.arm.remainingWritesFor(SUB)).toBe(1);
    const second = await t.raw("PATCH", `${WS_ID}?api-version=2025-09-01`, { body: { tags: { a: "2" } } });
    expect([second.status, second.headers["x-ms-ratelimit-remaining-subscription-writes"]]).toEqual([202, "0"]);
    const refused = await t.raw("PATCH", `${WS_ID}?api-version=2025-09-01`, { body: { tags: { a: "3" } } });
    expect([refused.status, refused.body.error.code, refused.headers["retry-after"]]).toEqual([429, "SubscriptionRequestsThrottled", "1"]);
    expect(refused.headers["x-ms-ratelimit-remaining-subscription-writes"]).toBe("0");
    clock.advance(1000); // ten tokens come back; the bucket holds two
    const after = await t.raw("PATCH", `${WS_ID}?api-version=2025-09-01`, { body: { tags: { a: "4" } } });
    expect([after.status, after.headers["x-ms-ratelimit-remaining-subscription-writes"]]).toEqual([202, "1"]);
  });
});

describe("the sweep's write reserve follows ARM's bucket", () => {
  const azurite = azuriteForFile();
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  it("by default it stops writing when fewer than 20 writes (2 s of refill) are left in its bucket, and defers the rest", async () => {
    const estate = [1, 2, 3, 4, 5].map((n) => rehome(variant(armExample("workspace-get"), (w) => (w.properties.publicNetworkAccess = "Enabled")), WS_ID.replace("ws1", `public${n}`)));
    h = await startHarness(azurite.connectionString, estate, { defaultMode: "alert", ruleModes: { "workspace-public-network-access": "remediate" } }, { writeBucket: { capacity: 22, refillPerSecond: 0 } });
    const graph = new GraphClient({ endpoint: h.sandbox.endpoint, credential: h.sandbox.credential(BOT), ca: h.sandbox.ca });
    const report = await sweep(graphSource(graph, { subscriptions: [SUB] }), depsFor(h.runtime, silentLogger), { concurrency: 1 });
    // 22 → 21 → 20 → 19: below the reserve of 20 after the third write.
    expect(report.decisions).toMatchObject({ remediated: 3, deferred: 2 });
  });
});
