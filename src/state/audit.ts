import { createHash, randomBytes } from "node:crypto";
import { odata, type TableClient } from "@azure/data-tables";

type TableEntityRow = { partitionKey: string; rowKey: string } & Record<string, unknown>;
import type { JsonValue } from "../arm/resource.js";
import { statusOf } from "./tables.js";

/** Every decision amlguard takes is one of these. */
export const DECISIONS = [
  "rejected", // malformed event: nothing read, nothing written
  "ignored", // not an ML write amlguard evaluates
  "duplicate", // a delivery of an event already processed, or being processed by a twin
  "superseded", // another event about the same resource, read in the same state, already took this action
  "gone", // the resource no longer exists
  "compliant", // read and evaluated: no finding
  "own-write", // the write was amlguard's own (its recorded correlation id came back): verified, never remediated again
  "unrecorded-self-write", // amlguard's identity made a write amlguard did not record: alerted, and judged like any write
  "off", // the rule's mode is off
  "exempt", // an approved exemption covers the rule
  "exemption-invalid", // an amlguard-exempt tag (a request) was expired or malformed: reported, enforced as usual
  "exemption-requested", // an amlguard-exempt tag asks for an exemption: approvers alerted, enforced until approved
  "exemption-approved", // a principal with AmlGuard.Exempt approved an exemption
  "exemption-revoked", // an approved exemption was revoked
  "exemption-expired", // an approved exemption ran out (alerted once)
  "exemption-overridden", // manual remediation acted despite an approved exemption, because the request said so
  "not-evaluated", // a rule needs a related resource (diagnostic settings) that could not be read: said, never passed
  "alerted", // mode alert, or no automatic remediation exists
  "dry-run", // would have remediated; wrote nothing
  "remediated", // wrote, read back, post-condition confirmed
  "failed", // could not remediate or could not confirm
  "deferred", // would write, but the sweep's write budget for the subscription is spent: next sweep
  "proposed", // mode approve: amlguard prepared the fix and waits for a second person to approve it
  "proposal-approved", // a person (not the writer) approved a proposal: amlguard acts on it through the same path
  "proposal-rejected", // a person rejected a proposal: nothing is written, the finding stands
  "proposal-expired", // a proposal was not decided in time (alerted once): nothing is written
  "proposal-superseded", // at approval the resource was no longer in the proposal's state: nothing is written
  "proposal-exempted", // an approved exemption covers every rule of a pending proposal: closed, nothing is written
  "swept", // a reconciliation sweep finished (one summary row)
] as const;
export type Decision = (typeof DECISIONS)[number];

export interface Actor {
  objectId?: string;
  appId?: string;
  name?: string;
  principalType?: string;
}

export interface AuditEntry {
  decision: Decision;
  resourceId?: string;
  ruleId?: string;
  actionId?: string;
  actor?: Actor;
  eventId?: string;
  eventType?: string;
  operationName?: string;
  correlationId?: string;
  /** Who ran amlguard for this decision: "event-grid", "cli:<user>", "http:<principal>". */
  trigger: string;
  dryRun?: boolean;
  /** Why a person asked for this (manual remediation). */
  reason?: string;
  before?: Record<string, JsonValue>;
  after?: Record<string, JsonValue>;
  /** The command that reverses what amlguard did. */
  undo?: string;
  /** The x-ms-correlation-request-id amlguard's write carried: joins the Activity Log entry to this row. */
  writeCorrelationId?: string;
  message: string;
  /**
   * Makes the row idempotent: a redelivered event that reaches the same decision point writes nothing new, so each
   * event is accounted for once. With it, the row lives in the partition of `partitionDay` (the event's day).
   */
  idempotencyKey?: string;
  partitionDay?: string;
}

export interface AuditRecord extends Omit<AuditEntry, "idempotencyKey" | "partitionDay"> {
  at: string;
}

const MAX_JSON = 30_000; // Table Storage strings hold 32K UTF-16 characters.

/**
 * The audit trail in Table Storage: partition by UTC day, row keys that sort newest first, so a time window is a
 * handful of partition scans.
 */
export class AuditLog {
  constructor(
    private readonly table: TableClient,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async record(entry: AuditEntry): Promise<AuditRecord> {
    const [record] = await this.recordAll([entry]);
    return record!;
  }

  /**
   * Records one decision's rows together: rows that share a partition (an event's rows share its day) go in one
   * Table Storage transaction, one round trip. If a redelivery finds some rows already there (an idempotent row's key
   * exists), the rows are written one by one and the existing ones are left as they are.
   */
  async recordAll(entries: readonly AuditEntry[]): Promise<AuditRecord[]> {
    const at = this.now();
    const rows = entries.map((entry) => this.rowOf(entry, at));
    const byPartition = new Map<string, typeof rows>();
    for (const row of rows) byPartition.set(row.entity.partitionKey, [...(byPartition.get(row.entity.partitionKey) ?? []), row]);
    for (const group of byPartition.values()) {
      if (group.length > 1 && group.length <= 100) {
        try {
          await this.table.submitTransaction(group.map((row) => ["create", row.entity]));
          continue;
        } catch (error) {
          // 409 (a row exists) or any refusal of the batch: fall back to single inserts, which tell row by row.
          if (statusOf(error) === undefined) throw error;
        }
      }
      for (const row of group) await this.insert(row);
    }
    return rows.map((row) => row.record);
  }

  private async insert(row: { entity: TableEntityRow; record: AuditRecord; idempotent: boolean }): Promise<void> {
    try {
      await this.table.createEntity(row.entity);
    } catch (error) {
      // The same decision for the same event was recorded by an earlier delivery: once is enough.
      if (!(row.idempotent && statusOf(error) === 409)) throw error;
    }
  }

  private rowOf(entry: AuditEntry, at: Date): { entity: TableEntityRow; record: AuditRecord; idempotent: boolean } {
    const { idempotencyKey, partitionDay, ...fields } = entry;
    const record: AuditRecord = { ...fields, at: at.toISOString() };
    const partitionDate = partitionDay && !Number.isNaN(Date.parse(partitionDay)) ? new Date(partitionDay) : at;
    const rowKey = idempotencyKey
      ? `k-${createHash("sha256").update(idempotencyKey).digest("hex").slice(0, 40)}`
      : `${String(8_640_000_000_000_000 - at.getTime()).padStart(16, "0")}-${randomBytes(6).toString("hex")}`;
    return { entity: this.entityOf(idempotencyKey ? dayKey(partitionDate) : dayKey(at), rowKey, record, entry), record, idempotent: idempotencyKey !== undefined };
  }

  private entityOf(partitionKey: string, rowKey: string, record: AuditRecord, entry: AuditEntry): TableEntityRow {
    return {
      partitionKey,
      rowKey,
      at: record.at,
      decision: entry.decision,
      trigger: entry.trigger,
      message: entry.message.slice(0, 4000),
      ...optional("resourceId", entry.resourceId),
      ...optional("ruleId", entry.ruleId),
      ...optional("actionId", entry.actionId),
      ...optional("actorObjectId", entry.actor?.objectId),
      ...optional("actorAppId", entry.actor?.appId),
      ...optional("actorName", entry.actor?.name),
      ...optional("actorType", entry.actor?.principalType),
      ...optional("eventId", entry.eventId),
      ...optional("eventType", entry.eventType),
      ...optional("operationName", entry.operationName),
      ...optional("correlationId", entry.correlationId),
      ...optional("reason", entry.reason?.slice(0, 1000)),
      ...optional("undo", entry.undo?.slice(0, 2000)),
      ...optional("writeCorrelationId", entry.writeCorrelationId),
      ...(entry.dryRun !== undefined ? { dryRun: entry.dryRun } : {}),
      ...optional("before", entry.before && boundedJson(entry.before)),
      ...optional("after", entry.after && boundedJson(entry.after)),
    };
  }

  /** Entries at or after `since`, newest first. */
  async list(since: Date): Promise<AuditRecord[]> {
    const records: AuditRecord[] = [];
    const end = this.now();
    // Event rows live in their event's day, which can be a day before they were written.
    const first = startOfDay(new Date(since.getTime() - 86_400_000)).getTime();
    for (let day = startOfDay(end); day.getTime() >= first; day = new Date(day.getTime() - 86_400_000)) {
      const rows = this.table.listEntities<Record<string, unknown>>({
        queryOptions: { filter: odata`PartitionKey eq ${dayKey(day)} and at ge ${since.toISOString()}` },
      });
      for await (const row of rows) records.push(fromRow(row));
    }
    return records.sort((a, b) => b.at.localeCompare(a.at));
  }
}

function optional(name: string, value: string | undefined): Record<string, string> {
  return value === undefined ? {} : { [name]: value };
}

function boundedJson(value: Record<string, JsonValue>): string {
  const text = JSON.stringify(value);
  return text.length <= MAX_JSON ? text : JSON.stringify({ truncated: true, preview: text.slice(0, MAX_JSON - 100) });
}

function dayKey(date: Date): string {
  return date.toISOString().slice(0, 10).replace(/-/g, "");
}

function startOfDay(date: Date): Date {
  return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
}

function fromRow(row: Record<string, unknown>): AuditRecord {
  const text = (name: string): string | undefined => (typeof row[name] === "string" ? (row[name] as string) : undefined);
  const json = (name: string): Record<string, JsonValue> | undefined => {
    const value = text(name);
    return value ? (JSON.parse(value) as Record<string, JsonValue>) : undefined;
  };
  const actor: Actor = {
    ...(text("actorObjectId") ? { objectId: text("actorObjectId") } : {}),
    ...(text("actorAppId") ? { appId: text("actorAppId") } : {}),
    ...(text("actorName") ? { name: text("actorName") } : {}),
    ...(text("actorType") ? { principalType: text("actorType") } : {}),
  };
  const record: AuditRecord = {
    at: text("at") ?? "",
    decision: text("decision") as Decision,
    trigger: text("trigger") ?? "",
    message: text("message") ?? "",
  };
  for (const name of ["resourceId", "ruleId", "actionId", "eventId", "eventType", "operationName", "correlationId", "reason", "undo", "writeCorrelationId"] as const) {
    const value = text(name);
    if (value !== undefined) record[name] = value;
  }
  if (Object.keys(actor).length) record.actor = actor;
  if (typeof row.dryRun === "boolean") record.dryRun = row.dryRun;
  const before = json("before");
  const after = json("after");
  if (before) record.before = before;
  if (after) record.after = after;
  return record;
}
