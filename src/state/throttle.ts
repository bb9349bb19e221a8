import type { TableClient } from "@azure/data-tables";
import { claimRow } from "./claim.js";
import { hash } from "./ledger.js";
import { statusOf } from "./tables.js";

/**
 * A per-principal request budget per minute, shared by every instance: one counter entity per (principal, minute),
 * incremented with ETag-conditional updates.
 */
export class RateLimiter {
  constructor(
    private readonly table: TableClient,
    private readonly perMinute: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether the principal may make one more request now; if not, the seconds until the next window. */
  async take(principal: string): Promise<{ allowed: true } | { allowed: false; retryAfterSeconds: number }> {
    const now = this.now();
    const window = Math.floor(now / 60_000);
    const key = { partitionKey: hash(principal.toLowerCase()), rowKey: String(window) };
    const retryAfterSeconds = Math.max(1, Math.ceil(((window + 1) * 60_000 - now) / 1000));
    for (let attempt = 0; attempt < 20; attempt++) {
      try {
        await this.table.createEntity({ ...key, count: 1 });
        return { allowed: true };
      } catch (error) {
        if (statusOf(error) !== 409) throw error;
      }
      const current = await this.table.getEntity<{ count: number }>(key.partitionKey, key.rowKey);
      if (current.count >= this.perMinute) return { allowed: false, retryAfterSeconds };
      try {
        await this.table.updateEntity({ ...key, count: current.count + 1 }, "Merge", { etag: current.etag });
        return { allowed: true };
      } catch (error) {
        if (statusOf(error) !== 412) throw error;
      }
    }
    // Heavy contention on one principal's counter: refuse rather than guess.
    return { allowed: false, retryAfterSeconds };
  }
}

/** "This exact request is running": a lease per request key, so a double click or a retried call acts once. */
export class InflightRequests {
  constructor(
    private readonly table: TableClient,
    private readonly leaseMs = 5 * 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  async begin(requestKey: string): Promise<boolean> {
    const result = await claimRow<{ leaseUntil: string }>(
      this.table,
      { partitionKey: hash(requestKey), rowKey: "running" },
      () => ({ leaseUntil: new Date(this.now() + this.leaseMs).toISOString() }),
      (existing) => Date.parse(existing.leaseUntil) <= this.now(),
    );
    return result.held;
  }

  async end(requestKey: string): Promise<void> {
    await this.table.deleteEntity(hash(requestKey), "running").catch(() => undefined);
  }
}
