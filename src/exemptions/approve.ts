import { z } from "zod";
import type { AlertSink } from "../alerts/alert.js";
import type { MlResourceKind } from "../arm/resource.js";
import type { ArmClient } from "../azure/arm-client.js";
import { scopedResourceId, ManualError } from "../manual/remediate.js";
import { canonicalRuleId, RULE_IDS, rulesFor } from "../rules/index.js";
import { closeAnsweredProposals, refuseWriterExemptingOwnChange } from "../proposals/exempted.js";
import type { ProposalStore } from "../proposals/store.js";
import type { Actor, AuditLog } from "../state/audit.js";
import { inForce, type ApprovedExemption, type ExemptionStore } from "./store.js";

export const DEFAULT_EXEMPTION_MAX_DAYS = 90;

export const approveExemptionSchema = z
  .object({
    resourceId: z.string().min(1).max(1024),
    rules: z.union([z.literal("*"), z.array(z.string().min(1).max(80)).min(1).max(RULE_IDS.length)]),
    reason: z.string().trim().min(3, "must say why (3 characters or more)").max(500),
    /** The last day of the exemption (YYYY-MM-DD, UTC): it ends at the end of that day. */
    expires: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "must be a date, YYYY-MM-DD"),
  })
  .strict();

export type ApproveExemptionRequest = z.infer<typeof approveExemptionSchema>;

export interface ExemptionDeps {
  store: ExemptionStore;
  arm: ArmClient;
  audit: AuditLog;
  alerts: AlertSink;
  now: () => Date;
  allowedSubscriptions: readonly string[];
  /** The longest an exemption may run (AMLGUARD_EXEMPTION_MAX_DAYS). */
  maxDays: number;
  /** Proposals (mode approve, exemption requests): the ones an approved exemption answers are closed. */
  proposals?: ProposalStore;
}

/**
 * Approves an exemption: only a principal with the AmlGuard.Exempt role may call this (checked by the caller), never
 * the principal who asked for it (four eyes), for at most `maxDays`, and a wildcard never covers a high-severity
 * rule. Stored, audited and alerted.
 */
export async function approveExemption(request: ApproveExemptionRequest, approver: Actor, trigger: string, deps: ExemptionDeps): Promise<ApprovedExemption> {
  const id = scopedResourceId(request.resourceId, deps.allowedSubscriptions);
  const now = deps.now();
  const rules = rulesToExempt(request.rules, id.kind);
  const end = Date.parse(`${request.expires}T23:59:59.999Z`);
  if (Number.isNaN(end)) throw new ManualError(400, "InvalidExpiry", `expires '${request.expires}' is not a date`);
  if (end <= now.getTime()) throw new ManualError(400, "InvalidExpiry", `expires ${request.expires} is in the past`);
  if (end - now.getTime() > deps.maxDays * 86_400_000) {
    throw new ManualError(400, "InvalidExpiry", `an exemption may last at most ${deps.maxDays} days (AMLGUARD_EXEMPTION_MAX_DAYS); ${request.expires} is further`);
  }
  // The request being answered, if any: the principal who wrote the tag may not approve it.
  const requested = await deps.store.requestFor(id.id);
  if (requested && sameActor(requested.requestedBy, approver)) {
    throw new ManualError(403, "SelfApprovalRefused", "you asked for this exemption (you wrote the amlguard-exempt tag); another approver must approve it");
  }
  await refuseWriterExemptingOwnChange(id.id, rules, approver, deps);
  const exemption = await deps.store.add({
    resourceId: id.id,
    rules,
    reason: request.reason,
    expires: new Date(end).toISOString(),
    approvedBy: approver,
    approvedAt: now.toISOString(),
    ...(requested?.requestedBy ? { requestedBy: requested.requestedBy } : {}),
  });
  const who = approver.name ?? approver.objectId ?? "unknown";
  await deps.audit.record({
    decision: "exemption-approved",
    trigger,
    resourceId: id.id,
    actor: approver,
    reason: request.reason,
    message: `exemption ${exemption.id} approved by ${who} for ${rules.join(", ")} until ${request.expires}`,
  });
  await deps.alerts.send({
    severity: "medium",
    outcome: "needs-action",
    resourceId: id.id,
    title: "Exemption approved",
    evidence: `${rules.join(", ")} exempt until ${request.expires}: ${request.reason}`,
    actionTaken: `approved by ${who}${requested?.requestedBy ? `, asked by ${requested.requestedBy.name ?? requested.requestedBy.objectId ?? "unknown"}` : ""}`,
    nextStep: `Revoke it early with 'amlguard exemptions revoke ${exemption.id}' if the reason no longer holds.`,
    actor: approver,
    at: now.toISOString(),
  });
  await closeAnsweredProposals(exemption, requested?.value, trigger, deps);
  return exemption;
}

/** Revokes an exemption at once; audited and alerted. */
export async function revokeExemption(exemptionId: string, actor: Actor, trigger: string, deps: ExemptionDeps): Promise<ApprovedExemption> {
  const exemption = await deps.store.get(exemptionId);
  if (!exemption) throw new ManualError(404, "ExemptionNotFound", "no exemption has that id");
  if (exemption.revokedAt) throw new ManualError(409, "AlreadyRevoked", `revoked already, at ${exemption.revokedAt}`);
  const now = deps.now();
  const revoked: ApprovedExemption = { ...exemption, revokedBy: actor, revokedAt: now.toISOString() };
  await deps.store.update(revoked);
  const who = actor.name ?? actor.objectId ?? "unknown";
  await deps.audit.record({ decision: "exemption-revoked", trigger, resourceId: exemption.resourceId, actor, message: `exemption ${exemption.id} (${exemption.rules.join(", ")}) revoked by ${who}` });
  await deps.alerts.send({
    severity: "medium",
    outcome: "needs-action",
    resourceId: exemption.resourceId,
    title: "Exemption revoked: amlguard enforces the rules again",
    evidence: `${exemption.rules.join(", ")} (was until ${exemption.expires.slice(0, 10)}: ${exemption.reason})`,
    actionTaken: `revoked by ${who}`,
    nextStep: "The next event or sweep acts on any finding the exemption covered.",
    actor,
    at: now.toISOString(),
  });
  return revoked;
}

/**
 * Alerts, once each, the exemptions that have expired since the last run (the sweep calls this), so nobody learns of
 * an expiry from a remediation.
 */
export async function alertExpiredExemptions(deps: Pick<ExemptionDeps, "store" | "audit" | "alerts" | "now">, trigger = "sweep"): Promise<number> {
  const now = deps.now();
  let alerted = 0;
  for (const exemption of await deps.store.all()) {
    if (exemption.revokedAt || exemption.expiryAlerted || inForce(exemption, now)) continue;
    await deps.store.update({ ...exemption, expiryAlerted: true });
    await deps.audit.record({ decision: "exemption-expired", trigger, resourceId: exemption.resourceId, message: `exemption ${exemption.id} (${exemption.rules.join(", ")}) expired on ${exemption.expires.slice(0, 10)}` });
    await deps.alerts.send({
      severity: "medium",
      outcome: "needs-action",
      resourceId: exemption.resourceId,
      title: "Exemption expired: amlguard enforces the rules again",
      evidence: `${exemption.rules.join(", ")} (${exemption.reason})`,
      nextStep: "Approve a new exemption if it is still needed; otherwise the next event or sweep acts on the findings.",
      at: now.toISOString(),
    });
    alerted += 1;
  }
  return alerted;
}

function rulesToExempt(requested: "*" | string[], kind: MlResourceKind): string[] {
  const applicable = rulesFor(kind);
  if (requested === "*") {
    // A wildcard never silences a high-severity rule: those must be named, one by one.
    const rules = applicable.filter((rule) => rule.severity !== "high" && rule.severity !== "critical").map((rule) => rule.id);
    if (rules.length === 0) throw new ManualError(400, "InvalidRules", "'*' covers no rule here: every rule for this resource is high severity and must be named");
    return rules;
  }
  const ids: string[] = [];
  for (const name of requested) {
    const id = canonicalRuleId(name);
    if (!id) throw new ManualError(400, "InvalidRules", `unknown rule id '${name.slice(0, 80)}'`);
    if (!applicable.some((rule) => rule.id === id)) throw new ManualError(400, "InvalidRules", `rule ${id} does not apply to this kind of resource (${kind})`);
    if (!ids.includes(id)) ids.push(id);
  }
  return ids;
}

/** Whether two actors are the same principal (object id, or app id), whatever their names say. */
export function sameActor(a: Actor | undefined, b: Actor): boolean {
  const norm = (id: string | undefined) => id?.replace(/-/g, "").toLowerCase();
  return a !== undefined && ((a.objectId !== undefined && norm(a.objectId) === norm(b.objectId)) || (a.appId !== undefined && norm(a.appId) === norm(b.appId)));
}

