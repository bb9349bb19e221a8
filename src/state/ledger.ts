import { createHash } from "node:crypto";
import { odata, type TableClient } from "@azure/data-tables";
import { claimRow } from "./claim.js";
import { statusOf } from "./tables.js";

interface FailureEntity extends Record<string, unknown> {
  failures: number;
}

/**
 * Counts failed deliveries per event, so the delivery that reaches the Event Grid subscription's retry limit alerts
 * instead of throwing. Only failures touch it: a delivery that succeeds costs no storage call here. (Exactly-once
 * effects do not need a claim per event: writes take an action lock per observed state, audit rows are idempotent per
 * event and rule, and alerts are deduplicated.)
 */
export class EventLedger {
  constructor(private readonly table: TableClient) {}

  /** Records one more failed delivery of the event; returns how many there have been, this one included. */
  async recordFailure(eventId: string): Promise<number> {
    for (;;) {
      const result = await claimRow<FailureEntity>(
        this.table,
        keyOf(eventId),
        (previous) => ({ failures: (previous?.failures ?? 0) + 1 }),
        () => true,
      );
      if (result.held) return (result.previous?.failures ?? 0) + 1;
      // A twin recorded its failure between our read and our write: count again on top of it.
    }
  }
}

/**
 * One write per observed state: two different events about the same resource, read in the same state, must not both
 * write. The lock key is the resource, the action and the state it was read in (ETag or a hash of the body). A lock
 * whose holder failed is released; one whose holder crashed expires with its lease.
 */
export class ActionLocks {
  constructor(
    private readonly table: TableClient,
    private readonly leaseMs = 5 * 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Takes the lock for one write. Refused, it says whether the holder was a twin delivery of the same event (a
   * duplicate) or another event that read the same state (superseded). The row stays after the write: the resource's
   * state has changed, so no later read produces the same key, and the row is how the write's event is recognised.
   */
  async acquire(resourceId: string, actionId: string, observedState: string, details: Record<string, string>): Promise<{ held: boolean; holderEventId?: string }> {
    const result = await claimRow<{ status: string; leaseUntil: string; eventId?: string }>(
      this.table,
      lockKey(resourceId, actionId, observedState),
      () => ({ resourceId, actionId, ...details, status: "acting", leaseUntil: new Date(this.now() + this.leaseMs).toISOString() }),
      (existing) => existing.status === "acting" && Date.parse(existing.leaseUntil) <= this.now(),
    );
    return result.held ? { held: true } : { held: false, ...(typeof result.existing?.eventId === "string" ? { holderEventId: result.existing.eventId } : {}) };
  }

  /**
   * Recognises amlguard's own write when its event comes back: the event's correlation id is one amlguard recorded
   * (in the lock row, before writing) for this resource. Each recorded id is honoured for one event only, so a copied
   * id cannot be replayed. Where ARM did not echo the id, a lock taken on this resource within `windowMs` before the
   * event is the fallback, and the caller says which way the write was recognised.
   */
  async recognise(resourceId: string, correlationId: string | undefined, eventId: string, eventTime: Date, windowMs = 10 * 60_000): Promise<"correlation-id" | "time-window" | undefined> {
    const partitionKey = hash(resourceId.toLowerCase());
    const rows: Array<Record<string, unknown> & { rowKey: string; etag: string }> = [];
    for await (const row of this.table.listEntities<Record<string, unknown>>({ queryOptions: { filter: odata`PartitionKey eq ${partitionKey}` } })) {
      rows.push(row as Record<string, unknown> & { rowKey: string; etag: string });
    }
    // A recorded write is honoured for one event: the first to claim it (by ETag) wins; its redeliveries match again.
    const consume = async (row: (typeof rows)[number]): Promise<boolean> => {
      if (row.eventSeen) return row.eventSeen === eventId;
      try {
        await this.table.updateEntity({ partitionKey, rowKey: row.rowKey, eventSeen: eventId }, "Merge", { etag: row.etag });
        return true;
      } catch (error) {
        if (statusOf(error) === 412) return false;
        throw error;
      }
    };
    const byCorrelation = correlationId ? rows.find((row) => typeof row.writeCorrelationId === "string" && row.writeCorrelationId.toLowerCase() === correlationId.toLowerCase()) : undefined;
    if (byCorrelation) return (await consume(byCorrelation)) ? "correlation-id" : undefined;
    // ARM echoing a client's x-ms-correlation-request-id into the event is documented practice, not a contract: if it
    // did not, fall back to amlguard's own recent, unclaimed lock on this resource, and say so in the audit trail.
    const recent = rows.find((row) => {
      const at = typeof row.at === "string" ? Date.parse(row.at) : Number.NaN;
      return (!row.eventSeen || row.eventSeen === eventId) && at <= eventTime.getTime() && eventTime.getTime() - at <= windowMs;
    });
    return recent && (await consume(recent)) ? "time-window" : undefined;
  }

  /** How many times amlguard made this write on this resource (within the locks' retention), the current one included. */
  async countWrites(resourceId: string, actionId: string): Promise<number> {
    let count = 0;
    const filter = odata`PartitionKey eq ${hash(resourceId.toLowerCase())} and actionId eq ${actionId}`;
    for await (const row of this.table.listEntities({ queryOptions: { filter, select: ["status"] } })) if (row) count += 1;
    return count;
  }

  /** The write failed: let the retry (which reads the same state) try again. */
  async release(resourceId: string, actionId: string, observedState: string): Promise<void> {
    const key = lockKey(resourceId, actionId, observedState);
    await this.table.deleteEntity(key.partitionKey, key.rowKey);
  }
}

function lockKey(resourceId: string, actionId: string, observedState: string): { partitionKey: string; rowKey: string } {
  return { partitionKey: hash(resourceId.toLowerCase()), rowKey: hash(`${actionId}|${observedState}`) };
}

// Table keys may not contain / \ # ? or control characters; hashes never do.
function keyOf(eventId: string): { partitionKey: string; rowKey: string } {
  return { partitionKey: hash(eventId), rowKey: "claim" };
}

export function hash(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 40);
}
