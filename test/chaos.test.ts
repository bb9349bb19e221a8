import { describe, expect, it } from "vitest";
import { runChaos } from "../scripts/chaos.js";

describe("chaos (a small run of npm run chaos)", () => {
  it("under 429s, 5xx, resets, failed operations, duplicates, reordering, parallel instances and a channel outage: every event once, nothing twice, nothing lost", async () => {
    const report = await runChaos({ events: 300, instances: 3, duplicates: 3, concurrencyPerInstance: 4, channelOutageMs: 1500, maxDeliveryAttempts: 10, timeLimitMs: 120_000, seed: 7 });
    expect(report.failedChecks).toEqual([]);
    expect(report.deliveries).toBeGreaterThanOrEqual(900);
    expect(Object.values(report.faultsFired).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    expect(report.decisions.remediated).toBeGreaterThan(0);
    expect(report.alertsDelivered).toBe(report.alertsQueued);
  }, 180_000);
});
