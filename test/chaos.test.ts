import { describe, expect, it } from "vitest";
import { runChaos } from "../scripts/chaos.js";

describe("chaos (a small run of npm run chaos)", () => {
  it("under 429s, 5xx, resets, failed operations, duplicates, reordering, parallel instances and a channel outage: every event once, nothing twice, nothing lost", async () => {
    // The outage is counted in attempts (each channel refuses its first 3), the outbox timer and Event Grid's
    // redelivery backoff in deliveries: a slow machine takes longer, and checks exactly the same.
    const report = await runChaos({ events: 300, instances: 3, duplicates: 3, concurrencyPerInstance: 4, channelOutageAttempts: 3, maxDeliveryAttempts: 10, dispatchEveryDeliveries: 50, seed: 7 });
    expect(report.failedChecks).toEqual([]);
    expect(report.deliveries).toBeGreaterThanOrEqual(900);
    expect(Object.values(report.faultsFired).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    expect(report.decisions.remediated).toBeGreaterThan(0);
    expect(report.alertsDelivered).toBe(report.alertsQueued);
    // The outage was crossed: every refusal was a real delivery attempt of a queued alert, and all were delivered.
    expect([report.channelFaultsFired, report.smtpRefusals]).toEqual([3, 3]);
    expect(report.undeliveredAlerts).toBe(0);
  }, 600_000); // a hang guard: about 20 s on a quiet machine, minutes on a busy one
});
