import { randomUUID } from "node:crypto";
import { odata, type TableClient } from "@azure/data-tables";
import type { Actor } from "../state/audit.js";
import { hash } from "../state/ledger.js";
import { statusOf } from "../state/tables.js";

/** The row holding a resource's current tag request, beside its approved exemptions. */
const REQUEST_ROW = "request";

/**
 * An exemption a person with the AmlGuard.Exempt role approved. Only these exempt anything: the `amlguard-exempt` tag
 * on a resource is a request, which anyone who can write the resource's tags could otherwise use to silence amlguard.
 */
export interface ApprovedExemption {
  id: string;
  resourceId: string;
  /** Rule ids, listed: a wildcard request is expanded at approval to the rules below high severity. */
  rules: string[];
  reason: string;
  /** The end of the exemption (ISO instant). */
  expires: string;
  approvedBy: Actor;
  approvedAt: string;
  /** Who asked (the principal who wrote the tag), when the approval answers a tag request. */
  requestedBy?: Actor;
  revokedBy?: Actor;
  revokedAt?: string;
  /** Set once the expiry has been alerted, so it is alerted once. */
  expiryAlerted?: boolean;
}

interface Row extends Record<string, unknown> {
  resourceId: string;
  rules: string;
  reason: string;
  expires: string;
  approvedBy: string;
  approvedAt: string;
  requestedBy?: string;
  revokedBy?: string;
  revokedAt?: string;
  expiryAlerted?: boolean;
}

/** Approved exemptions in Table Storage, one partition per resource (the pipeline reads one resource's at a time). */
export class ExemptionStore {
  constructor(private readonly table: TableClient) {}

  async add(exemption: Omit<ApprovedExemption, "id">): Promise<ApprovedExemption> {
    const stored: ApprovedExemption = { ...exemption, id: randomUUID() };
    await this.table.createEntity({ partitionKey: partitionOf(stored.resourceId), rowKey: stored.id, ...toRow(stored) });
    return stored;
  }

  /** Every exemption of one resource, revoked and expired ones included (the caller judges). */
  async forResource(resourceId: string): Promise<ApprovedExemption[]> {
    const rows = this.table.listEntities<Row>({ queryOptions: { filter: odata`PartitionKey eq ${partitionOf(resourceId)} and RowKey ne ${REQUEST_ROW}` } });
    const found: ApprovedExemption[] = [];
    for await (const row of rows) found.push(fromRow(row));
    return found;
  }

  async all(): Promise<ApprovedExemption[]> {
    const found: ApprovedExemption[] = [];
    for await (const row of this.table.listEntities<Row>({ queryOptions: { filter: odata`RowKey ne ${REQUEST_ROW}` } })) found.push(fromRow(row));
    return found;
  }

  async get(id: string): Promise<ApprovedExemption | undefined> {
    if (id === REQUEST_ROW) return undefined;
    for await (const row of this.table.listEntities<Row>({ queryOptions: { filter: odata`RowKey eq ${id}` } })) return fromRow(row);
    return undefined;
  }

  /**
   * Records the tag request seen on a resource and who wrote it; a request whose text is unchanged keeps its first
   * writer (a later write that does not change the tag does not make someone else the requester). Returns whether the
   * request is new or changed, so it is alerted once.
   */
  async recordRequest(resourceId: string, value: string, requestedBy: Actor | undefined, at: Date): Promise<boolean> {
    const key = { partitionKey: partitionOf(resourceId), rowKey: REQUEST_ROW };
    const existing = await this.requestFor(resourceId);
    if (existing && existing.value === value) return false;
    await this.table.upsertEntity({ ...key, resourceId, value, seenAt: at.toISOString(), ...(requestedBy ? { requestedBy: JSON.stringify(requestedBy) } : {}) }, "Replace");
    return true;
  }

  async requestFor(resourceId: string): Promise<{ value: string; requestedBy?: Actor; seenAt: string } | undefined> {
    try {
      const row = await this.table.getEntity<{ value: string; requestedBy?: string; seenAt: string }>(partitionOf(resourceId), REQUEST_ROW);
      return { value: row.value, seenAt: row.seenAt, ...(row.requestedBy ? { requestedBy: JSON.parse(row.requestedBy) as Actor } : {}) };
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw error;
    }
  }

  async update(exemption: ApprovedExemption): Promise<void> {
    await this.table.updateEntity({ partitionKey: partitionOf(exemption.resourceId), rowKey: exemption.id, ...toRow(exemption) }, "Replace");
  }
}

/** Whether an approved exemption is in force at `now`: not revoked, not expired. */
export function inForce(exemption: ApprovedExemption, now: Date): boolean {
  return !exemption.revokedAt && Date.parse(exemption.expires) > now.getTime();
}

function partitionOf(resourceId: string): string {
  return hash(resourceId.toLowerCase());
}

function toRow(e: ApprovedExemption): Row {
  return {
    resourceId: e.resourceId,
    rules: JSON.stringify(e.rules),
    reason: e.reason,
    expires: e.expires,
    approvedBy: JSON.stringify(e.approvedBy),
    approvedAt: e.approvedAt,
    ...(e.requestedBy ? { requestedBy: JSON.stringify(e.requestedBy) } : {}),
    ...(e.revokedBy ? { revokedBy: JSON.stringify(e.revokedBy) } : {}),
    ...(e.revokedAt ? { revokedAt: e.revokedAt } : {}),
    ...(e.expiryAlerted ? { expiryAlerted: true } : {}),
  };
}

function fromRow(row: Row & { rowKey?: string }): ApprovedExemption {
  const actor = (text: unknown): Actor | undefined => (typeof text === "string" ? (JSON.parse(text) as Actor) : undefined);
  const requestedBy = actor(row.requestedBy);
  const revokedBy = actor(row.revokedBy);
  return {
    id: String(row.rowKey),
    resourceId: row.resourceId,
    rules: JSON.parse(row.rules) as string[],
    reason: row.reason,
    expires: row.expires,
    approvedBy: actor(row.approvedBy) ?? {},
    approvedAt: row.approvedAt,
    ...(requestedBy ? { requestedBy } : {}),
    ...(revokedBy ? { revokedBy } : {}),
    ...(typeof row.revokedAt === "string" ? { revokedAt: row.revokedAt } : {}),
    ...(row.expiryAlerted === true ? { expiryAlerted: true } : {}),
  };
}
