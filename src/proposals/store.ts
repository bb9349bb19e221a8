import { randomUUID } from "node:crypto";
import { odata, type TableClient } from "@azure/data-tables";
import type { JsonValue } from "../arm/resource.js";
import type { Severity } from "../shared/types.js";
import type { Actor } from "../state/audit.js";
import { hash } from "../state/ledger.js";
import { statusOf } from "../state/tables.js";

/** `exempted`: an approved exemption now covers every rule the proposal answers, so it was closed unwritten. */
export const PROPOSAL_STATUSES = ["pending", "approved", "rejected", "expired", "superseded", "exempted"] as const;
export type ProposalStatus = (typeof PROPOSAL_STATUSES)[number];

/** The id the store gives a proposal (randomUUID, unguessable): anything else names no proposal. */
export const PROPOSAL_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface ProposalFinding {
  ruleId: string;
  title: string;
  severity: Severity;
  evidence: string;
}

/**
 * A change amlguard prepared and a second person must approve (mode approve), or an exemption someone asked for with
 * the amlguard-exempt tag. Nothing is written until a person with the right role, other than the principal whose
 * write it answers, approves it before it expires; then amlguard re-reads the resource and acts only if it is still in
 * the state the proposal was made from.
 */
export interface Proposal {
  id: string;
  kind: "remediation" | "exemption";
  resourceId: string;
  status: ProposalStatus;
  ruleIds: string[];
  findings: ProposalFinding[];
  /** The planned write (remediation): what changes from what to what, and how a person reverses it. */
  action?: { id: string; description: string; before: Record<string, JsonValue>; after: Record<string, JsonValue>; undo: string };
  /** The state the plan was made from: ARM's ETag when it gave one, and the values the plan changes, as read. */
  observed?: { etag?: string; values: Record<string, JsonValue> };
  /** The exemption asked for (exemption): the tag's text and what it says. */
  exemption?: { raw: string; rules: "*" | string[]; reason: string; expires: string };
  /** Who made the write this proposal answers (remediation) or wrote the tag (exemption), from the event's claims. */
  requestedBy?: Actor;
  eventId?: string;
  correlationId: string;
  createdAt: string;
  expiresAt: string;
  decidedBy?: Actor;
  decidedAt?: string;
  /** The reason a person gave for rejecting. */
  decisionReason?: string;
  /** What happened on approval (or why the proposal ended otherwise). */
  result?: { decision: string; message: string; undo?: string; after?: Record<string, JsonValue>; exemptionId?: string };
  /** The proposal that replaced this one (the resource changed since). */
  supersededBy?: string;
}

/** A proposal with the row's ETag: decisions are conditional on it, so of two approvers at once exactly one wins. */
export interface StoredProposal {
  proposal: Proposal;
  etag: string;
  rowKey: string;
}

interface Row extends Record<string, unknown> {
  id: string;
  kind: string;
  status: string;
  resourceId: string;
  actionId: string;
  expiresAt: string;
  data: string;
}

/**
 * The partition of the id index: one row per proposal (row key its id) naming the resource partition and row key of
 * the proposal, so a lookup by id is two point reads, not a scan. Resource partitions are 40-character hashes, so
 * this name never collides with one.
 */
export const PROPOSAL_INDEX_PARTITION = "id";

interface IndexRow extends Record<string, unknown> {
  proposalPartition: string;
  proposalRow: string;
}

/** The proposal's row changed since it was read: someone decided it first. */
export class ProposalConflict extends Error {
  override name = "ProposalConflict";
}

/**
 * Proposals in Table Storage, one partition per resource. The row key is the proposal's idempotency key (kind,
 * action and the observed state for remediations; the tag's text for exemptions), so the same event delivered twice,
 * or a sweep finding the same state again, finds the proposal already made instead of making another.
 */
export class ProposalStore {
  constructor(private readonly table: TableClient) {}

  /**
   * Makes the proposal unless one exists for the same key; returns the one that stands and whether it is new. A new
   * proposal supersedes the pending ones of the same kind and action on the resource (they planned from older states).
   */
  async propose(fields: Omit<Proposal, "id" | "status">, key: string): Promise<{ proposal: Proposal; created: boolean; superseded: Proposal[] }> {
    const proposal: Proposal = { ...fields, id: randomUUID(), status: "pending" };
    const partitionKey = partitionOf(proposal.resourceId);
    const rowKey = hash(key);
    try {
      await this.table.createEntity({ partitionKey, rowKey, ...toRow(proposal) });
    } catch (error) {
      if (statusOf(error) !== 409) throw error;
      const existing = await this.table.getEntity<Row>(partitionKey, rowKey);
      return { proposal: fromRow(existing), created: false, superseded: [] };
    }
    // The index row after the proposal: if this write is lost, get() still finds the proposal (and writes the index).
    await this.index(proposal.id, partitionKey, rowKey);
    const superseded: Proposal[] = [];
    for (const older of await this.forResource(proposal.resourceId)) {
      const p = older.proposal;
      if (p.id === proposal.id || p.status !== "pending" || p.kind !== proposal.kind || p.action?.id !== proposal.action?.id) continue;
      try {
        superseded.push((await this.update(older, { status: "superseded", supersededBy: proposal.id, result: { decision: "superseded", message: `the resource changed since; proposal ${proposal.id} plans from its current state` } })).proposal);
      } catch (error) {
        if (!(error instanceof ProposalConflict)) throw error; // decided meanwhile: leave it as decided
      }
    }
    return { proposal, created: true, superseded };
  }

  /**
   * The proposal with this id: a point read of its index row, then of the proposal. An id with no index row (made
   * before the index existed, or its index write was lost) is looked for once by a filtered query and indexed.
   */
  async get(id: string): Promise<StoredProposal | undefined> {
    if (!PROPOSAL_ID.test(id)) return undefined;
    const key = id.toLowerCase();
    const index = await this.read<IndexRow>(PROPOSAL_INDEX_PARTITION, key);
    if (index) {
      const row = await this.read<Row>(index.proposalPartition, index.proposalRow);
      return row && row.id === key ? stored(row) : undefined;
    }
    for await (const row of this.table.listEntities<Row>({ queryOptions: { filter: odata`id eq ${key} and PartitionKey ne ${PROPOSAL_INDEX_PARTITION}` } })) {
      await this.index(key, String(row.partitionKey), String(row.rowKey));
      return stored(row);
    }
    return undefined;
  }

  /** Every proposal, or those with one status, newest first. */
  async list(status?: ProposalStatus): Promise<Proposal[]> {
    const found: Proposal[] = [];
    const filter = status ? odata`status eq ${status}` : odata`PartitionKey ne ${PROPOSAL_INDEX_PARTITION}`;
    for await (const row of this.table.listEntities<Row>({ queryOptions: { filter } })) found.push(fromRow(row));
    return found.sort((a, b) => b.createdAt.localeCompare(a.createdAt) || a.id.localeCompare(b.id));
  }

  async forResource(resourceId: string): Promise<StoredProposal[]> {
    const found: StoredProposal[] = [];
    for await (const row of this.table.listEntities<Row>({ queryOptions: { filter: odata`PartitionKey eq ${partitionOf(resourceId)}` } })) found.push(stored(row));
    return found;
  }

  /** Changes a proposal under its ETag; ProposalConflict if anyone changed it since it was read. */
  async update(current: StoredProposal, change: Partial<Omit<Proposal, "id" | "kind" | "resourceId">>): Promise<StoredProposal> {
    const next: Proposal = { ...current.proposal, ...change };
    let written;
    try {
      written = await this.table.updateEntity({ partitionKey: partitionOf(next.resourceId), rowKey: current.rowKey, ...toRow(next) }, "Replace", { etag: current.etag });
    } catch (error) {
      if (statusOf(error) === 412) throw new ProposalConflict(`proposal ${next.id} was changed by someone else meanwhile`);
      throw error;
    }
    return { proposal: next, etag: String(written.etag), rowKey: current.rowKey };
  }

  private async index(id: string, proposalPartition: string, proposalRow: string): Promise<void> {
    try {
      await this.table.createEntity<IndexRow>({ partitionKey: PROPOSAL_INDEX_PARTITION, rowKey: id, proposalPartition, proposalRow });
    } catch (error) {
      if (statusOf(error) !== 409) throw error; // indexed already: ids are random, so it names this proposal
    }
  }

  private async read<T extends Record<string, unknown>>(partitionKey: string, rowKey: string): Promise<(T & { partitionKey?: string; rowKey?: string; etag?: string }) | undefined> {
    try {
      return await this.table.getEntity<T>(partitionKey, rowKey);
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw error;
    }
  }
}

function partitionOf(resourceId: string): string {
  return hash(resourceId.toLowerCase());
}

function toRow(p: Proposal): Row {
  // The fields queries filter on are columns; the whole proposal is one JSON column (well under Table Storage's 32K).
  return { id: p.id, kind: p.kind, status: p.status, resourceId: p.resourceId, actionId: p.action?.id ?? "", expiresAt: p.expiresAt, data: JSON.stringify(p) };
}

function fromRow(row: Row): Proposal {
  return { ...(JSON.parse(row.data) as Proposal), status: row.status as ProposalStatus };
}

function stored(row: Row & { etag?: string; rowKey?: string }): StoredProposal {
  return { proposal: fromRow(row), etag: String(row.etag), rowKey: String(row.rowKey) };
}
