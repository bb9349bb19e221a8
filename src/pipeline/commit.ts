import type { Alert } from "../alerts/alert.js";
import { labelsOf } from "../alerts/render.js";
import { SEVERITY_ORDER } from "../shared/types.js";
import { ArmError, type ArmRead } from "../azure/arm-client.js";
import { WriteConflict } from "../remediation/plan.js";
import { describeError } from "../errors.js";
import type { Violation } from "../rules/index.js";
import { auditEntry, newCorrelationId, type ActContext, type Outcome, type PipelineDeps } from "./context.js";
import type { ExemptionRequestStep, Step } from "./decide.js";
import { decisionLinks, decisionStep } from "../proposals/links.js";
import { propose, proposeExemption } from "../proposals/propose.js";
import type { Proposal } from "../proposals/store.js";

interface Result {
  outcome: Outcome;
  alert?: Alert;
}

type WriteStep = Extract<Step, { type: "write" }>;

/**
 * Carries out one resource's steps: writes first (gate, lock, write, read-back), then every audit row, then every
 * alert, in one pass. A transient failure of a write throws (the event is redelivered, the sweep records an error)
 * after releasing its lock; nothing was audited or alerted for the resource, so the retry accounts for it once.
 */
export async function commit(steps: readonly Step[], read: ArmRead, ctx: ActContext, deps: PipelineDeps): Promise<Outcome[]> {
  const dryRun = deps.settings.dryRun || ctx.dryRun === true;
  const results: Result[] = [];
  for (const step of steps) {
    if (step.type === "record") {
      const proposal = step.request ? await proposeExemption(step.request, read, ctx, deps) : undefined;
      const alert = step.alert ?? (step.request ? requestAlert(step.request, read, ctx, deps, proposal) : undefined);
      const outcome = proposal ? { ...step.outcome, proposalId: proposal.id, message: `${step.outcome.message} (proposal ${proposal.id})` } : step.outcome;
      results.push({ outcome, ...(alert ? { alert } : {}) });
    }
    else if (step.type === "propose") results.push(...(await propose(step, read, ctx, deps, (violations, extra) => alertFor(violations, read, ctx, deps, extra))));
    else if (step.type === "alert") {
      const { rule } = step.violation;
      results.push({ outcome: step.outcome, alert: alertFor([step.violation], read, ctx, deps, { outcome: "needs-action", nextStep: rule.remediation.prose }) });
    } else results.push(...(await write(step, read, ctx, deps, dryRun)));
  }
  const auditCtx = { ...ctx, dryRun };
  await deps.audit.recordAll(results.map(({ outcome }) => auditEntry(auditCtx, read.resource.id, outcome)));
  for (const { alert } of results) if (alert) await deps.alerts.send(alert);
  return results.map((r) => r.outcome);
}

async function write(step: WriteStep, read: ArmRead, ctx: ActContext, deps: PipelineDeps, dryRun: boolean): Promise<Result[]> {
  const { plan, violations } = step;
  const actionId = plan.action.id;
  // One audit row per rule (each finding is accounted for), one alert per write: the findings it covers, one undo.
  const each = (outcome: Omit<Outcome, "ruleId">, alert?: Pick<Alert, "outcome"> & Partial<Alert>): Result[] =>
    violations.map((v, i) => ({ outcome: { ...outcome, ruleId: v.rule.id }, ...(alert && i === 0 ? { alert: alertFor(violations, read, ctx, deps, alert) } : {}) }));
  const prose = [...new Set(violations.map((v) => v.rule.remediation.prose))].join(" ");

  if (dryRun) {
    return each(
      { decision: "dry-run", actionId, before: plan.before, after: plan.intended, message: `dry-run: would ${plan.action.description}` },
      { outcome: "dry-run", actionTaken: `would ${plan.action.description}`, nextStep: prose },
    );
  }
  if (deps.writeGate && !deps.writeGate(plan.targetId)) {
    return each({ decision: "deferred", actionId, before: plan.before, message: "write budget for this subscription is spent; the next sweep acts" });
  }
  // A fresh correlation id for this write, recorded (in the lock row) before the write: when its event comes back,
  // that id is how amlguard knows the write was its own; in the Activity Log it joins this audit row.
  const writeCorrelationId = newCorrelationId();
  const acquired = await deps.locks.acquire(plan.targetId, actionId, plan.observedState, { correlationId: ctx.correlationId, writeCorrelationId, ...(ctx.eventId ? { eventId: ctx.eventId } : {}), at: deps.now().toISOString() });
  if (!acquired.held) {
    if (ctx.eventId && acquired.holderEventId === ctx.eventId) {
      return [{ outcome: { decision: "duplicate", actionId, message: "a twin delivery of this event already took this write" } }];
    }
    return each({ decision: "superseded", actionId, message: "another event's delivery already acted on this resource in this state" });
  }
  const arm = deps.arm.withCorrelationId(writeCorrelationId);
  try {
    await plan.execute(arm);
  } catch (error) {
    await deps.locks.release(plan.targetId, actionId, plan.observedState);
    if (error instanceof WriteConflict || (error instanceof ArmError && error.statusCode === 412)) {
      // Someone changed the resource since amlguard read it: its own event (or the next sweep) judges the new state.
      return each({ decision: "superseded", actionId, before: plan.before, message: `not written: the resource changed since it was read (${describeError(error)})` });
    }
    if (error instanceof ArmError && error.statusCode === 403) {
      // A missing permission is a person's to fix: say exactly which, never crash or retry forever.
      const need = plan.action.permissions.join(", ");
      return each(
        { decision: "failed", actionId, before: plan.before, message: `Azure refused the write (403 ${error.code}): amlguard's identity needs ${need}` },
        { outcome: "failed", actionTaken: `tried to ${plan.action.description}; Azure refused (403)`, nextStep: `Grant amlguard's identity ${need} on this resource, or fix it by hand: ${prose}` },
      );
    }
    if (error instanceof ArmError && error.statusCode >= 400 && error.statusCode < 500 && error.statusCode !== 408 && error.statusCode !== 429) {
      // Azure refused the request itself: retrying the same write cannot succeed.
      return each(
        { decision: "failed", actionId, before: plan.before, message: `Azure refused the write (${error.statusCode} ${error.code})` },
        { outcome: "failed", actionTaken: `tried to ${plan.action.description}; Azure refused (${error.statusCode} ${error.code})`, nextStep: prose },
      );
    }
    throw error;
  }
  let confirmed;
  try {
    confirmed = await plan.confirm(arm);
  } catch (error) {
    // The write went through; only its confirmation did not. Say so, rather than retry a write that happened.
    return each(
      { decision: "failed", actionId, before: plan.before, after: plan.intended, undo: plan.undo, message: `write accepted; confirmation read failed: ${describeError(error)}` },
      { outcome: "failed", actionTaken: `${plan.action.description}, but the confirmation read failed`, undo: plan.undo, nextStep: `Check the resource: the write was accepted but not confirmed. If it holds: ${plan.action.afterwards(afterCtx(step, read, ctx))}` },
    );
  }
  if (!confirmed.holds) {
    return each(
      { decision: "failed", actionId, before: plan.before, after: confirmed.observed, message: "write accepted but the post-condition does not hold on read-back" },
      { outcome: "failed", actionTaken: `${plan.action.description}, but the read-back does not confirm it`, nextStep: prose },
    );
  }
  const caveat = plan.caveat?.();
  const approved = ctx.approvedBy ? `Approved by ${ctx.approvedBy.name ?? ctx.approvedBy.objectId ?? "unknown"}: ` : "";
  const repeat = plan.action.containsOnly ? await deps.locks.countWrites(plan.targetId, actionId) : 0;
  const again = repeat > 1 ? ` (again: amlguard has now done this ${repeat} times on this resource)` : "";
  const contains = plan.action.contains ? ` ${plan.action.contains}` : "";
  return each(
    { decision: "remediated", actionId, before: plan.before, after: confirmed.observed, undo: plan.undo, writeCorrelationId, message: `${plan.action.description}; confirmed on read-back${again}${caveat ? `; ${caveat}` : ""}` },
    // The next step is what is left for a person (recreate, review), never what amlguard has just done.
    { outcome: "remediated", actionTaken: `${approved}${plan.action.description}${again}.${contains}${caveat ? ` ${caveat}` : ""}`, undo: plan.undo, nextStep: plan.action.afterwards(afterCtx(step, read, ctx)) },
  );
}

function afterCtx(step: WriteStep, read: ArmRead, ctx: ActContext) {
  const causedBy = ctx.actor?.name ?? ctx.actor?.objectId;
  return { name: labelsOf(read.resource.id).name, ruleIds: step.violations.map((v) => v.rule.id), ...(causedBy ? { causedBy } : {}) };
}

/**
 * One alert for the findings one step answers: a single finding as is; several (one action covering them) as one
 * alert at the highest severity, titled by the findings (most severe first), listing each with its evidence.
 */
function alertFor(violations: readonly Violation[], read: ArmRead, ctx: ActContext, deps: PipelineDeps, extra: Pick<Alert, "outcome"> & Partial<Alert>): Alert {
  const sorted = [...violations].sort((a, b) => SEVERITY_ORDER.indexOf(a.rule.severity) - SEVERITY_ORDER.indexOf(b.rule.severity));
  const { rule } = sorted[0]!;
  const more = sorted.length - 1;
  const compliance = {
    azurePolicy: [...new Set(sorted.flatMap((v) => v.rule.compliance.azurePolicy))],
    mcsb: [...new Set(sorted.flatMap((v) => v.rule.compliance.mcsb))],
    cis: [...new Set(sorted.flatMap((v) => v.rule.compliance.cis))],
  };
  return {
    severity: rule.severity,
    resourceId: read.resource.id,
    ruleId: rule.id,
    compliance,
    title: more ? titleOfSeveral(sorted.map((v) => v.rule.title)) : rule.title,
    rationale: [...new Set(sorted.map((v) => v.rule.rationale))].join(" "),
    evidence: sorted.map((v) => v.evidence.summary).join("; "),
    ...(more ? { findings: sorted.map((v) => ({ ruleId: v.rule.id, title: v.rule.title, severity: v.rule.severity, evidence: v.evidence.summary, compliance: v.rule.compliance })) } : {}),
    ...(ctx.actor ? { actor: ctx.actor } : {}),
    ...(ctx.eventId ? { eventId: ctx.eventId } : {}),
    correlationId: ctx.correlationId,
    at: deps.now().toISOString(),
    ...extra,
  };
}

/** "A; B" names both findings of one action (the usual case: public IP and SSH); past two, the rest are counted. */
function titleOfSeveral(titles: readonly string[]): string {
  const rest = titles.length - 2;
  return `${titles.slice(0, 2).join("; ")}${rest > 0 ? `; and ${rest} more finding${rest === 1 ? "" : "s"}` : ""}`;
}

/** Approvers learn of a request at once: who asked, what, why and until when; enforcement goes on meanwhile. */
function requestAlert(request: ExemptionRequestStep, read: ArmRead, ctx: ActContext, deps: PipelineDeps, proposal?: Proposal): Alert {
  const who = ctx.actor?.name ?? ctx.actor?.objectId ?? "someone (seen in a sweep: the writer is unknown)";
  const base = deps.settings.publicBaseUrl;
  return {
    severity: "medium",
    outcome: "needs-action",
    resourceId: read.resource.id,
    title: "Exemption requested: amlguard keeps enforcing until it is approved",
    evidence: `${who} asks to exempt ${request.rules} until ${request.expires}: ${request.reason}`,
    nextStep: proposal
      ? decisionStep(proposal.id, "AmlGuard.Exempt", who, base, `approves the exemption until ${request.expires}`)
      : `A person with the AmlGuard.Exempt role (not ${who}) approves with POST /api/exemptions or 'amlguard exemptions approve ${read.resource.id} --rules ... --until ${request.expires} --reason ...'.`,
    ...(proposal ? decisionLinks(proposal.id, base, `Approve exemption until ${request.expires}`) : {}),
    ...(ctx.actor ? { actor: ctx.actor } : {}),
    ...(ctx.eventId ? { eventId: ctx.eventId } : {}),
    dedupeKey: `exemption-request|${read.resource.id.toLowerCase()}|${request.rules}|${request.expires}|${request.reason}`,
    correlationId: ctx.correlationId,
    at: deps.now().toISOString(),
  };
}
