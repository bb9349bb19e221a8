import { odata, type TableClient } from "@azure/data-tables";
import { isDedupeMark } from "../alerts/outbox.js";
import { mapLimit } from "../concurrency.js";
import { PROPOSAL_INDEX_PARTITION } from "../proposals/store.js";
import { openTable, tableNames, type TableStorageTarget } from "./tables.js";

export interface RetentionTarget {
  name: string;
  table: TableClient;
  /** Rows not modified for this long have served their purpose. */
  maxAgeDays: number;
  /** Rows to keep regardless of age (alerts still waiting for delivery). */
  keep?: (row: Record<string, unknown>) => boolean;
}

/**
 * The coordination tables only matter for a while: delivery failure counts until Event Grid stops redelivering (a day at most),
 * locks and in-flight leases for minutes, dedupe keys for their window, delivered alerts not at all. The daily sweep
 * deletes what is older, by the server's Timestamp, so the tables do not grow with every event. The audit trail and
 * the spike checkpoints are not touched.
 */
export async function purgeStale(targets: readonly RetentionTarget[], now: Date): Promise<Record<string, number>> {
  const deleted: Record<string, number> = {};
  for (const target of targets) {
    const cutoff = new Date(now.getTime() - target.maxAgeDays * 86_400_000);
    const stale: Array<{ partitionKey: string; rowKey: string }> = [];
    for await (const row of target.table.listEntities<Record<string, unknown>>({ queryOptions: { filter: odata`Timestamp lt ${cutoff}` } })) {
      if (!target.keep?.(row)) stale.push({ partitionKey: String(row.partitionKey), rowKey: String(row.rowKey) });
    }
    await mapLimit(stale, 8, (key) => target.table.deleteEntity(key.partitionKey, key.rowKey).catch(() => undefined));
    deleted[target.name] = stale.length;
  }
  return deleted;
}

/** What the deployed app keeps, for how long. */
export async function retentionTargets(storage: TableStorageTarget, dedupeWindowDays: number, prefix?: string): Promise<RetentionTarget[]> {
  const names = tableNames(prefix);
  const open = (name: string) => openTable(storage, name);
  return [
    { name: "delivery failures", table: await open(names.ledger), maxAgeDays: 7 },
    { name: "action locks", table: await open(names.locks), maxAgeDays: 7 },
    { name: "in-flight requests", table: await open(names.inflight), maxAgeDays: 1 },
    { name: "rate limits", table: await open(names.rateLimit), maxAgeDays: 1 },
    // Dedupe marks (in the outbox, beside their channel's alerts) go a day after their window.
    { name: "alert dedupe", table: await open(names.outbox), maxAgeDays: Math.max(1, Math.ceil(dedupeWindowDays)) + 1, keep: (row) => !isDedupeMark(row) },
    // Delivered alerts go after a week; pending ones stay until delivered or expired; refused and expired ones after 30 days.
    { name: "alert outbox (delivered)", table: await open(names.outbox), maxAgeDays: 7, keep: (row) => row.status !== "delivered" },
    { name: "alert outbox (refused, expired)", table: await open(names.outbox), maxAgeDays: 30, keep: (row) => row.status === "pending" || row.status === "delivered" || isDedupeMark(row) },
    ...proposalTargets(await open(names.proposals)),
  ];
}

/** Days a decided, expired, superseded or exempted proposal is kept after its last change (the audit trail keeps its story for good). */
export const PROPOSAL_RETENTION_DAYS = 90;

/**
 * Proposals as the outbox: by age of the last change, pending ones kept whatever their age (the sweep expires them
 * first). A proposal's last change comes at most its TTL (14 days at most) after it was made, so its id index row,
 * dated when it was made, is kept 30 days longer than the proposal and never goes first while the sweep runs
 * (should it go first, a lookup by id falls back to a query and writes it again).
 */
function proposalTargets(table: TableClient): RetentionTarget[] {
  const isIndex = (row: Record<string, unknown>) => row.partitionKey === PROPOSAL_INDEX_PARTITION;
  return [
    { name: "proposals (decided, expired)", table, maxAgeDays: PROPOSAL_RETENTION_DAYS, keep: (row) => isIndex(row) || row.status === "pending" },
    { name: "proposal id index", table, maxAgeDays: PROPOSAL_RETENTION_DAYS + 30, keep: (row) => !isIndex(row) },
  ];
}
