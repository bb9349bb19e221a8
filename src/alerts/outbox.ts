import { randomBytes } from "node:crypto";
import { odata, type TableClient } from "@azure/data-tables";
import { chunk } from "../concurrency.js";
import type { Logger } from "../log.js";
import { claimRow } from "../state/claim.js";
import { statusOf } from "../state/tables.js";
import type { Alert } from "./alert.js";
import { DeliveryError, type AlertChannel, type ChannelName } from "./channels.js";
import type { AlertDedupe } from "./dedupe.js";

export type OutboxStatus = "pending" | "delivered" | "rejected" | "expired";

export interface OutboxEntry {
  channel: ChannelName;
  id: string;
  alert: Alert;
  status: OutboxStatus;
  attempts: number;
  nextAttemptAt: string;
  expiresAt: string;
  lastError?: string;
}

export interface DispatchReport {
  delivered: number;
  messages: number;
  failed: number;
  rejected: number;
  expired: number;
}

const LEASE_ROW = "~lease";
/** Dedupe marks: one per channel and alert key, in the channel's partition, beside the alerts they stand for. */
const SEEN_PREFIX = "~seen-";

/** Whether an outbox row is an alert (not the dispatcher's lease or a dedupe mark). */
export function isAlertRow(row: { rowKey?: unknown }): boolean {
  return typeof row.rowKey === "string" && row.rowKey !== LEASE_ROW && !row.rowKey.startsWith(SEEN_PREFIX);
}

/** Whether an outbox row is a dedupe mark (retention keeps it for the dedupe window). */
export function isDedupeMark(row: { rowKey?: unknown }): boolean {
  return typeof row.rowKey === "string" && row.rowKey.startsWith(SEEN_PREFIX);
}
/** Up to this many due alerts go out one by one; more become one digest. */
const DIGEST_THRESHOLD = 3;
const MAX_PER_DIGEST = 500;

/**
 * Alerts are written here first and delivered by the dispatcher (the outbox timer), so a channel that is down, slow
 * or throttling loses nothing: failed deliveries are retried with exponential backoff (or the channel's Retry-After)
 * until delivered or expired. One dispatcher per channel at a time (a lease), so nothing is sent twice by twins.
 */
export class Outbox {
  constructor(
    private readonly table: TableClient,
    private readonly options: { ttlMs: number; now?: () => number; leaseMs?: number; baseBackoffMs?: number; maxBackoffMs?: number },
  ) {}

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  /**
   * Queues the alert for the channel. With a dedupe, the alert is queued only if the same alert was not queued for
   * this channel within the window, and the mark saying so is written in the same Table transaction as the alert
   * (both rows share the channel's partition): one round trip, and no mark without its alert if either fails. Of two
   * instances queueing the same alert at once, one transaction fails on the mark (409 on insert, 412 on re-arming an
   * expired mark under its ETag). Returns whether the alert was queued.
   */
  async enqueue(channel: ChannelName, alert: Alert, dedupe?: AlertDedupe): Promise<boolean> {
    const now = this.now();
    const entry = {
      partitionKey: channel,
      rowKey: `${String(now).padStart(15, "0")}-${randomBytes(6).toString("hex")}`,
      alert: storedJson(alert),
      status: "pending",
      attempts: 0,
      nextAttemptAt: new Date(now).toISOString(),
      expiresAt: new Date(now + this.options.ttlMs).toISOString(),
    };
    if (!dedupe) {
      await this.table.createEntity(entry);
      return true;
    }
    const mark = { partitionKey: channel, rowKey: `${SEEN_PREFIX}${dedupe.keyOf(alert)}`, at: new Date(dedupe.now()).toISOString() };
    // Entity group transactions are atomic: if the mark's insert fails, the alert's does not happen either
    // (learn.microsoft.com/rest/api/storageservices/performing-entity-group-transactions).
    for (let attempt = 0; ; attempt++) {
      try {
        await this.table.submitTransaction([["create", mark], ["create", entry]]);
        return true;
      } catch (error) {
        if (statusOf(error) !== 409) throw error;
      }
      let seen: { at?: unknown; etag: string };
      try {
        seen = await this.table.getEntity<{ at?: unknown }>(channel, mark.rowKey);
      } catch (error) {
        // The mark was purged between the insert and the read: insert again.
        if (statusOf(error) === 404 && attempt < 2) continue;
        throw error;
      }
      if (typeof seen.at !== "string" || !dedupe.expired(seen.at)) return false;
      try {
        await this.table.submitTransaction([["update", mark, "Replace", { etag: seen.etag }], ["create", entry]]);
        return true;
      } catch (error) {
        // Another instance re-armed it between our read and our write: that one queued the alert.
        if (statusOf(error) === 412) return false;
        throw error;
      }
    }
  }

  /** Every entry, delivered or not (chaos accounting). */
  async all(): Promise<OutboxEntry[]> {
    const entries: OutboxEntry[] = [];
    for await (const row of this.table.listEntities<Record<string, unknown>>()) if (isAlertRow(row)) entries.push(toEntry(row));
    return entries;
  }

  /** Entries not yet delivered (pending, and those refused or expired, which need a person). */
  async undelivered(): Promise<OutboxEntry[]> {
    const rows = this.table.listEntities<Record<string, unknown>>({ queryOptions: { filter: odata`status ne ${"delivered"}` } });
    const entries: OutboxEntry[] = [];
    for await (const row of rows) if (isAlertRow(row)) entries.push(toEntry(row));
    return entries;
  }

  async dispatch(channels: readonly AlertChannel[], log: Logger): Promise<DispatchReport> {
    const report: DispatchReport = { delivered: 0, messages: 0, failed: 0, rejected: 0, expired: 0 };
    for (const channel of channels) {
      const lease = await this.acquireLease(channel.name);
      if (!lease) continue;
      try {
        await this.dispatchChannel(channel, report, log);
      } finally {
        await this.table.deleteEntity(channel.name, LEASE_ROW, { etag: lease }).catch(() => undefined);
      }
    }
    return report;
  }

  private async dispatchChannel(channel: AlertChannel, report: DispatchReport, log: Logger): Promise<void> {
    const now = this.now();
    const rows = this.table.listEntities<Record<string, unknown>>({
      queryOptions: { filter: odata`PartitionKey eq ${channel.name} and status eq ${"pending"}` },
    });
    const due: OutboxEntry[] = [];
    for await (const row of rows) {
      if (!isAlertRow(row)) continue;
      const entry = toEntry(row);
      if (Date.parse(entry.expiresAt) <= now) {
        await this.update(entry, { status: "expired" });
        log.error("alert expired undelivered", { channel: channel.name, ruleId: entry.alert.ruleId, resourceId: entry.alert.resourceId, lastError: entry.lastError });
        report.expired += 1;
      } else if (Date.parse(entry.nextAttemptAt) <= now) {
        due.push(entry);
      }
    }
    const batches = due.length <= DIGEST_THRESHOLD ? due.map((e) => [e]) : chunk(due, MAX_PER_DIGEST);
    for (const batch of batches) {
      try {
        await channel.deliver(batch.map((e) => e.alert));
        for (const entry of batch) await this.update(entry, { status: "delivered", attempts: entry.attempts + 1, deliveredAt: new Date(this.now()).toISOString() });
        report.delivered += batch.length;
        report.messages += 1;
      } catch (error) {
        const failure = error instanceof DeliveryError ? error : new DeliveryError(`delivery failed: ${(error as Error).message.split("\n")[0]}`);
        if (failure.permanent) {
          for (const entry of batch) await this.update(entry, { status: "rejected", attempts: entry.attempts + 1, lastError: failure.message });
          log.error("alert refused by channel", { channel: channel.name, error: failure.message, count: batch.length });
          report.rejected += batch.length;
          continue;
        }
        for (const entry of batch) {
          const attempts = entry.attempts + 1;
          const wait = Math.max(failure.retryAfterMs ?? 0, this.backoff(attempts));
          await this.update(entry, { attempts, nextAttemptAt: new Date(this.now() + wait).toISOString(), lastError: failure.message });
        }
        log.warn("alert delivery failed; will retry", { channel: channel.name, error: failure.message, count: batch.length });
        report.failed += batch.length;
        // The channel is down or throttling: the rest waits for the next round.
        for (const rest of batches.slice(batches.indexOf(batch) + 1)) {
          for (const entry of rest) await this.update(entry, { nextAttemptAt: new Date(this.now() + (failure.retryAfterMs ?? this.backoff(1))).toISOString() });
        }
        break;
      }
    }
  }

  private backoff(attempts: number): number {
    const base = this.options.baseBackoffMs ?? 30_000;
    const max = this.options.maxBackoffMs ?? 15 * 60_000;
    return Math.min(max, base * 2 ** (attempts - 1));
  }

  private async update(entry: OutboxEntry, changes: Record<string, string | number>): Promise<void> {
    await this.table.updateEntity({ partitionKey: entry.channel, rowKey: entry.id, ...changes }, "Merge");
  }

  /** A per-channel lease (create, or take over an expired one with its ETag); returns the ETag to release with. */
  private async acquireLease(channel: ChannelName): Promise<string | undefined> {
    const result = await claimRow<{ leaseUntil: string }>(
      this.table,
      { partitionKey: channel, rowKey: LEASE_ROW },
      () => ({ leaseUntil: new Date(this.now() + (this.options.leaseMs ?? 120_000)).toISOString() }),
      (existing) => Date.parse(existing.leaseUntil) <= this.now(),
    );
    return result.held ? result.etag : undefined;
  }
}

/**
 * The alert as JSON with U+2028 and U+2029 escaped (the same JSON value): JSON.stringify leaves these line separators
 * raw, and a Table transaction's multipart body is line-oriented. Azurite refuses a $batch whose entity carries one
 * (500, "Transaction Failed"; seen with an exemption reason in an alert's dedupe key), and a body free of them reads
 * the same to any parser.
 */
function storedJson(alert: Alert): string {
  return JSON.stringify(alert).replace(/[\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
}

function toEntry(row: Record<string, unknown>): OutboxEntry {
  return {
    channel: row.partitionKey as ChannelName,
    id: row.rowKey as string,
    alert: JSON.parse(row.alert as string) as Alert,
    status: row.status as OutboxStatus,
    attempts: Number(row.attempts ?? 0),
    nextAttemptAt: row.nextAttemptAt as string,
    expiresAt: row.expiresAt as string,
    ...(typeof row.lastError === "string" ? { lastError: row.lastError } : {}),
  };
}
