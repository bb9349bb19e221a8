import { randomUUID } from "node:crypto";
import type { JsonValue } from "../arm/resource.js";
import type { AlertSink } from "../alerts/alert.js";
import type { ArmClient } from "../azure/arm-client.js";
import type { Logger } from "../log.js";
import type { ExemptionStore } from "../exemptions/store.js";
import type { ProposalStore } from "../proposals/store.js";
import type { ActionLocks } from "../state/ledger.js";
import type { Actor, AuditEntry, AuditLog, Decision } from "../state/audit.js";
import type { PipelineSettings, RuleMode } from "./settings.js";

export interface PipelineDeps {
  arm: ArmClient;
  locks: ActionLocks;
  /** Approved exemptions and the tag requests seen. */
  exemptions: ExemptionStore;
  audit: AuditLog;
  alerts: AlertSink;
  settings: PipelineSettings;
  log: Logger;
  now: () => Date;
  /** Proposals of mode approve; without them, approve-mode findings are alerted instead. */
  proposals?: ProposalStore;
  /** Asked before each write (sweeps bound their writes); a refusal defers the remediation. */
  writeGate?: (resourceId: string) => boolean;
}

/** Why and for whom amlguard is looking at a resource. */
export interface ActContext {
  trigger: string;
  correlationId: string;
  actor?: Actor;
  eventId?: string;
  eventType?: string;
  eventTime?: string;
  operationName?: string;
  /** The write being reacted to was made by amlguard's identity: recognised as its own only by a recorded write. */
  selfIdentity?: boolean;
  /** The correlation id ARM recorded for the write being reacted to (Event Grid's data.correlationId). */
  eventCorrelationId?: string;
  /** Dry-run for this request, on top of the global switch. */
  dryRun?: boolean;
  /** Only these rules (manual remediation of selected findings). */
  ruleIds?: readonly string[];
  /** Overrides the configured modes (manual remediation asks for remediate explicitly). */
  mode?: RuleMode;
  /** Why a person asked (manual remediation), for the audit trail. */
  reason?: string;
  /** Manual remediation asked explicitly to act despite approved exemptions (audited per rule). */
  overrideExemptions?: boolean;
  /**
   * Whether to read the related resources some rules need (diagnostic settings). Events about a resource skip them: a
   * write to the resource cannot change its diagnostic settings, so those rules run in the sweep and on demand.
   */
  related?: "read" | "skip";
  /** The write answers a proposal this person approved: the alert says so. */
  approvedBy?: Actor;
}

export interface Outcome {
  decision: Decision;
  ruleId?: string;
  actionId?: string;
  before?: Record<string, JsonValue>;
  after?: Record<string, JsonValue>;
  /** How a person reverses what amlguard did (remediated outcomes). */
  undo?: string;
  /** The correlation id amlguard's write carried. */
  writeCorrelationId?: string;
  /** The proposal made or found (mode approve). */
  proposalId?: string;
  message: string;
}

export function auditEntry(ctx: ActContext, resourceId: string | undefined, outcome: Outcome): AuditEntry {
  // One row per (event, rule) or (event, resource-level decision): redeliveries of the event add nothing.
  const idempotent = ctx.eventId && outcome.decision !== "duplicate";
  return {
    ...(idempotent ? { idempotencyKey: `${ctx.eventId}|${outcome.ruleId ?? `resource:${outcome.decision}`}`, ...(ctx.eventTime ? { partitionDay: ctx.eventTime } : {}) } : {}),
    decision: outcome.decision,
    trigger: ctx.trigger,
    message: outcome.message,
    correlationId: ctx.correlationId,
    ...(resourceId ? { resourceId } : {}),
    ...(outcome.ruleId ? { ruleId: outcome.ruleId } : {}),
    ...(outcome.actionId ? { actionId: outcome.actionId } : {}),
    ...(ctx.actor ? { actor: ctx.actor } : {}),
    ...(ctx.eventId ? { eventId: ctx.eventId } : {}),
    ...(ctx.eventType ? { eventType: ctx.eventType } : {}),
    ...(ctx.operationName ? { operationName: ctx.operationName } : {}),
    ...(ctx.dryRun !== undefined ? { dryRun: ctx.dryRun } : {}),
    ...(ctx.reason ? { reason: ctx.reason } : {}),
    ...(outcome.before ? { before: outcome.before } : {}),
    ...(outcome.after ? { after: outcome.after } : {}),
    ...(outcome.undo ? { undo: outcome.undo } : {}),
    ...(outcome.writeCorrelationId ? { writeCorrelationId: outcome.writeCorrelationId } : {}),
  };
}

export function newCorrelationId(): string {
  return randomUUID();
}
