import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Alert } from "../src/alerts/alert.js";
import { AlertDedupe } from "../src/alerts/dedupe.js";
import { Outbox } from "../src/alerts/outbox.js";
import { startAzuriteTables, type RunningAzurite } from "../src/sandbox/azurite.js";
import { EventLedger } from "../src/state/ledger.js";
import { purgeStale, retentionTargets } from "../src/state/retention.js";
import { openTable, tableNames } from "../src/state/tables.js";

let azurite: RunningAzurite;
beforeAll(async () => {
  azurite = await startAzuriteTables();
});
afterAll(async () => {
  await azurite.close();
});

describe("retention of the coordination tables", () => {
  it("deletes rows past their purpose, by the server Timestamp, and keeps alerts still waiting and everything recent", async () => {
    const storage = { connectionString: azurite.connectionString };
    const prefix = `r${randomBytes(4).toString("hex")}`;
    const names = tableNames(prefix);
    const ledger = new EventLedger(await openTable(storage, names.ledger));
    for (let i = 0; i < 5; i++) await ledger.recordFailure(`event-${i}`);
    const outbox = await openTable(storage, names.outbox);
    await outbox.createEntity({ partitionKey: "teams", rowKey: "1", status: "delivered", alert: "{}" });
    await outbox.createEntity({ partitionKey: "teams", rowKey: "2", status: "pending", alert: "{}" });
    // An alert queued with its dedupe mark: the alert is pending (kept), the mark goes a day after its window.
    const alert: Alert = { severity: "high", outcome: "failed", resourceId: "/subscriptions/s/resourceGroups/r/providers/p/t/n", title: "t", at: new Date().toISOString() };
    expect(await new Outbox(outbox, { ttlMs: 3_600_000 }).enqueue("teams", alert, new AlertDedupe(3_600_000))).toBe(true);
    const targets = await retentionTargets(storage, 1 / 24, prefix);

    expect(Object.values(await purgeStale(targets, new Date())).every((n) => n === 0)).toBe(true);
    expect((await purgeStale(targets, new Date(Date.now() + 86_400_000)))["alert dedupe"]).toBe(0);

    const deleted = await purgeStale(targets, new Date(Date.now() + 40 * 86_400_000));
    expect(deleted["delivery failures"]).toBe(5);
    expect(deleted["alert outbox (delivered)"]).toBe(1);
    expect(deleted["alert dedupe"]).toBe(1);
    const left = [];
    for await (const row of outbox.listEntities()) left.push(row.rowKey);
    expect(left).toHaveLength(2);
    expect(left).toContain("2");
    expect(left.find((key) => key !== "2")).toMatch(/^\d{15}-[0-9a-f]{12}$/);
    // A failure count gone after its week means a (very) late redelivery counts from one again.
    expect(await ledger.recordFailure("event-0")).toBe(1);
  });
});
