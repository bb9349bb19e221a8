import { randomUUID } from "node:crypto";
import type { JsonValue, MlResourceKind } from "../arm/resource.js";
import type { Alert, AlertSink } from "../alerts/alert.js";
import type { ArmClient, ArmRead } from "../azure/arm-client.js";
import { describeError } from "../errors.js";
import type { Logger } from "../log.js";
import { planRemediation, type ChangePlan } from "../remediation/actions.js";
import { CHECK_IDS, evaluateResource, ruleById, type Finding } from "../rules/index.js";
import type { Rule } from "../rules/rule.js";
import type { ActionLocks } from "../state/ledger.js";
import type { Actor, AuditEntry, AuditLog, Decision } from "../state/audit.js";
import { exempts, readExemption } from "./exemptions.js";
import { modeOf, type PipelineSettings, type RuleMode } from "./settings.js";

export interface PipelineDeps {
  arm: ArmClient;
  locks: ActionLocks;
  audit: AuditLog;
  alerts: AlertSink;
  settings: PipelineSettings;
  log: Logger;
  now: () => Date;
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
  /** The write being reacted to was amlguard's own: verify, never act again. */
  ownWrite?: boolean;
  /** Dry-run for this request, on top of the global switch. */
  dryRun?: boolean;
  /** Only these rules (manual remediation of selected findings). */
  ruleIds?: readonly string[];
  /** Overrides the configured modes (manual remediation asks for remediate explicitly). */
  mode?: RuleMode;
  /** Why a person asked (manual remediation), for the audit trail. */
  reason?: string;
}

export interface Outcome {
  decision: Decision;
  ruleId?: string;
  actionId?: string;
  before?: Record<string, JsonValue>;
  after?: Record<string, JsonValue>;
  message: string;
}

/**
 * Evaluates one resource as read and acts on each finding by its rule's mode: off, alert, or remediate (with
 * exemptions, dry-run, one write per observed state, read-back confirmation). Every decision is audited.
 */
export async function assessAndAct(read: ArmRead, kind: MlResourceKind, ctx: ActContext, deps: PipelineDeps): Promise<Outcome[]> {
  const resourceId = read.resource.id;
  const findings = (evaluateResource(read.resource) ?? []).filter((f) => !ctx.ruleIds || ctx.ruleIds.includes(f.ruleId));
  const dryRun = deps.settings.dryRun || ctx.dryRun === true;
  const outcomes: Outcome[] = [];
  const record = async (outcome: Outcome): Promise<void> => {
    outcomes.push(outcome);
    await deps.audit.record(auditEntry({ ...ctx, dryRun }, resourceId, outcome));
  };

  if (findings.length === 0) {
    await record({ decision: "compliant", message: "no rule fires" });
    return outcomes;
  }
  if (ctx.ownWrite) {
    await record({ decision: "own-write", message: `amlguard's own write; still open: ${findings.map((f) => f.ruleId).join(", ")} (already alerted when it acted)` });
    return outcomes;
  }

  const exemption = readExemption(read.resource, CHECK_IDS, deps.now());
  if (exemption.kind === "invalid") {
    await record({ decision: "exemption-invalid", message: `amlguard-exempt tag ignored: ${exemption.problem} (value: ${exemption.raw})` });
  }
  const plans = new Map<string, { plan: ChangePlan; findings: Finding[] }>();

  for (const finding of findings) {
    const rule = ruleById(finding.ruleId)!;
    const mode = ctx.mode ?? modeOf(deps.settings, rule.id);
    if (mode === "off") {
      await record({ decision: "off", ruleId: rule.id, message: "rule mode is off" });
      continue;
    }
    if (exempts(exemption, rule.id) && exemption.kind === "valid") {
      await record({ decision: "exempt", ruleId: rule.id, message: `exempt until ${exemption.exemption.expires}: ${exemption.exemption.reason}` });
      continue;
    }
    const planned = mode === "remediate" ? planRemediation(rule.remediationAction, kind, read) : undefined;
    if (planned?.kind === "plan") {
      const group = plans.get(planned.plan.action.id) ?? { plan: planned.plan, findings: [] };
      group.findings.push(finding);
      plans.set(planned.plan.action.id, group);
      continue;
    }
    const why =
      mode === "alert" ? "rule mode is alert" : planned?.kind === "already-done" ? `contained already: ${planned.detail}` : "no automatic remediation exists for this rule";
    await deps.alerts.send(alertFor(rule, finding, ctx, deps, { outcome: "needs-action", nextStep: rule.remediation }));
    await record({ decision: "alerted", ruleId: rule.id, message: why });
  }

  for (const { plan, findings: covered } of plans.values()) {
    for (const outcome of await executePlan(plan, covered, read, ctx, deps, dryRun)) await record(outcome);
  }
  return outcomes;
}

async function executePlan(plan: ChangePlan, covered: Finding[], read: ArmRead, ctx: ActContext, deps: PipelineDeps, dryRun: boolean): Promise<Outcome[]> {
  const each = (outcome: Omit<Outcome, "ruleId">): Outcome[] => covered.map((f) => ({ ...outcome, ruleId: f.ruleId }));
  const actionId = plan.action.id;
  const containmentOnly = plan.action.id === "stop-compute-instance" || plan.action.id === "drain-cluster";
  const nextStep = (rule: Rule): string => (containmentOnly ? `Contained, not fixed: ${rule.remediation}` : rule.remediation);
  if (dryRun) {
    for (const finding of covered) {
      const rule = ruleById(finding.ruleId)!;
      await deps.alerts.send(alertFor(rule, finding, ctx, deps, { outcome: "dry-run", actionTaken: `would ${plan.action.description}`, nextStep: rule.remediation }));
    }
    return each({ decision: "dry-run", actionId, before: plan.before, after: plan.intended, message: `dry-run: would ${plan.action.description}` });
  }
  if (deps.writeGate && !deps.writeGate(read.resource.id)) {
    return each({ decision: "deferred", actionId, before: plan.before, message: "write budget for this subscription is spent; the next sweep acts" });
  }
  const acquired = await deps.locks.acquire(read.resource.id, actionId, plan.observedState, { correlationId: ctx.correlationId, at: deps.now().toISOString() });
  if (!acquired) {
    return each({ decision: "superseded", actionId, message: "another event's delivery already acted on this resource in this state" });
  }
  try {
    await plan.execute(deps.arm);
  } catch (error) {
    await deps.locks.release(read.resource.id, actionId, plan.observedState);
    throw error;
  }
  await deps.locks.complete(read.resource.id, actionId, plan.observedState);
  let after;
  try {
    after = (await deps.arm.get(read.resource.id)).resource;
  } catch (error) {
    // The write went through; only its confirmation did not. Say so, rather than retry a write that happened.
    for (const finding of covered) {
      const rule = ruleById(finding.ruleId)!;
      await deps.alerts.send(alertFor(rule, finding, ctx, deps, { outcome: "failed", actionTaken: `${plan.action.description}, but the confirmation read failed`, nextStep: rule.remediation }));
    }
    return each({ decision: "failed", actionId, before: plan.before, after: plan.intended, message: `write accepted; confirmation read failed: ${describeError(error)}` });
  }
  const observed = plan.observe(after);
  if (!plan.holds(after)) {
    for (const finding of covered) {
      const rule = ruleById(finding.ruleId)!;
      await deps.alerts.send(alertFor(rule, finding, ctx, deps, { outcome: "failed", actionTaken: `${plan.action.description}, but the read-back does not confirm it`, nextStep: rule.remediation }));
    }
    return each({ decision: "failed", actionId, before: plan.before, after: observed, message: "write accepted but the post-condition does not hold on read-back" });
  }
  for (const finding of covered) {
    const rule = ruleById(finding.ruleId)!;
    await deps.alerts.send(alertFor(rule, finding, ctx, deps, { outcome: "remediated", actionTaken: plan.action.description, undo: plan.undo, nextStep: nextStep(rule) }));
  }
  return each({ decision: "remediated", actionId, before: plan.before, after: observed, message: `${plan.action.description}; confirmed on read-back` });
}

function alertFor(rule: Rule, finding: Finding, ctx: ActContext, deps: PipelineDeps, extra: Pick<Alert, "outcome"> & Partial<Alert>): Alert {
  return {
    severity: rule.severity,
    resourceId: finding.resourceId,
    ruleId: rule.id,
    title: rule.title,
    rationale: rule.rationale,
    evidence: finding.evidence.summary,
    ...(ctx.actor ? { actor: ctx.actor } : {}),
    ...(ctx.eventId ? { eventId: ctx.eventId } : {}),
    correlationId: ctx.correlationId,
    at: deps.now().toISOString(),
    ...extra,
  };
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
  };
}

export function newCorrelationId(): string {
  return randomUUID();
}
