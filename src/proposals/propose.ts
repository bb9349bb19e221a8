import type { Alert } from "../alerts/alert.js";
import type { ArmRead } from "../azure/arm-client.js";
import type { Violation } from "../rules/index.js";
import type { ActContext, Outcome, PipelineDeps } from "../pipeline/context.js";
import type { ExemptionRequestStep, Step } from "../pipeline/decide.js";
import { decisionLinks, decisionStep } from "./links.js";
import type { Proposal } from "./store.js";

/** Mode approve's default wait for a decision: a day. */
export const DEFAULT_PROPOSAL_TTL_MS = 24 * 3_600_000;

type ProposeStep = Extract<Step, { type: "propose" }>;
/** The pipeline's alert for the findings one step answers (one alert per action: src/pipeline/commit.ts). */
type AlertFor = (violations: readonly Violation[], extra: Pick<Alert, "outcome"> & Partial<Alert>) => Alert;
interface Result {
  outcome: Outcome;
  alert?: Alert;
}

/**
 * Mode approve: records the plan a write would carry as a proposal (idempotent per resource, action and observed
 * state), audits `proposed` per finding with before/after/undo, and raises one alert per proposal with the way to
 * decide. A proposal already made for this state is not made again (a redelivery, the next sweep); one that was
 * rejected, expired or superseded for this very state leaves the finding to a person, as in mode alert.
 */
export async function propose(step: ProposeStep, read: ArmRead, ctx: ActContext, deps: PipelineDeps, alertFor: AlertFor): Promise<Result[]> {
  const { plan, violations } = step;
  const actionId = plan.action.id;
  const each = (outcome: Omit<Outcome, "ruleId">): Result[] => violations.map((v) => ({ outcome: { ...outcome, ruleId: v.rule.id } }));
  const prose = [...new Set(violations.map((v) => v.rule.remediation.prose))].join(" ");
  /** One audit row per finding, one alert for them all (the first row carries it). */
  const alerted = (message: string, proposalId?: string, actionTaken?: string): Result[] =>
    violations.map((v, i) => ({
      outcome: { decision: "alerted", ruleId: v.rule.id, message, ...(proposalId ? { proposalId } : {}) },
      ...(i === 0 ? { alert: alertFor(violations, { outcome: "needs-action", nextStep: prose, ...(actionTaken ? { actionTaken } : {}) }) } : {}),
    }));
  if (!deps.proposals) return alerted("rule mode is approve, but no proposals table is configured: alerted instead");
  const now = deps.now();
  const ttl = deps.settings.proposalTtlMs ?? DEFAULT_PROPOSAL_TTL_MS;
  const made = await deps.proposals.propose(
    {
      kind: "remediation",
      resourceId: read.resource.id,
      ruleIds: violations.map((v) => v.rule.id),
      findings: violations.map((v) => ({ ruleId: v.rule.id, title: v.rule.title, severity: v.rule.severity, evidence: v.evidence.summary })),
      action: { id: actionId, description: plan.action.description, before: plan.before, after: plan.intended, undo: plan.undo },
      observed: { ...(read.etag ? { etag: read.etag } : {}), values: plan.before },
      ...(ctx.actor ? { requestedBy: ctx.actor } : {}),
      ...(ctx.eventId ? { eventId: ctx.eventId } : {}),
      correlationId: ctx.correlationId,
      createdAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + ttl).toISOString(),
    },
    `remediation|${actionId}|${plan.observedState}`,
  );
  const { proposal } = made;
  const planned = { actionId, before: plan.before, after: plan.intended, undo: plan.undo, proposalId: proposal.id };
  if (made.created) {
    const until = proposal.expiresAt.slice(0, 16).replace("T", " ");
    const results = each({ ...planned, decision: "proposed", message: `proposed by amlguard: ${plan.action.description}; awaiting approval by a second person until ${until} UTC (proposal ${proposal.id})` });
    results[0]!.alert = proposalAlert(proposal, violations, deps, alertFor);
    return results;
  }
  if (proposal.status === "pending") {
    return each({ ...planned, decision: "proposed", message: `already proposed: proposal ${proposal.id} awaits approval until ${proposal.expiresAt}` });
  }
  // Decided already for this very state: approving again is not on offer; a person acts, as in mode alert.
  const by = proposal.decidedBy?.name ?? proposal.decidedBy?.objectId;
  const message = `proposal ${proposal.id} for this state was ${proposal.status}${by ? ` by ${by}` : ""}: a person must act (or run 'amlguard remediate')`;
  return alerted(message, proposal.id, message);
}

/** One alert per proposal: the findings, the planned change, and how to decide it. */
function proposalAlert(proposal: Proposal, violations: readonly Violation[], deps: PipelineDeps, alertFor: AlertFor): Alert {
  const writer = proposal.requestedBy?.name ?? proposal.requestedBy?.objectId;
  const until = proposal.expiresAt.slice(0, 16).replace("T", " ");
  const action = proposal.action!;
  const alert = alertFor(violations, {
    outcome: "needs-action",
    actionTaken: `proposed, not done: ${action.description} (until ${until} UTC; changes ${JSON.stringify(action.before)} to ${JSON.stringify(action.after)}; undo after approval: ${action.undo})`,
    nextStep: decisionStep(proposal.id, "AmlGuard.Remediate", writer, deps.settings.publicBaseUrl, "approves it and amlguard applies it if the resource is still as it was read"),
    ...decisionLinks(proposal.id, deps.settings.publicBaseUrl, "Review and approve", true),
    dedupeKey: `proposal|${proposal.id}`,
  });
  return { ...alert, title: `Approval needed: ${alert.title}` };
}

/**
 * An amlguard-exempt tag's request, as a proposal of kind exemption (idempotent per resource and tag text), so the
 * same page, API and CLI approve it; approving it goes through approveExemption (four eyes, maximum days, no wildcard
 * over high severity). Undefined without a proposals table: approvers then use /api/exemptions as before.
 */
export async function proposeExemption(request: ExemptionRequestStep, read: ArmRead, ctx: ActContext, deps: PipelineDeps): Promise<Proposal | undefined> {
  if (!deps.proposals) return undefined;
  const now = deps.now();
  const ttl = deps.settings.proposalTtlMs ?? DEFAULT_PROPOSAL_TTL_MS;
  const { proposal } = await deps.proposals.propose(
    {
      kind: "exemption",
      resourceId: read.resource.id,
      ruleIds: request.ruleIds === "*" ? [] : request.ruleIds,
      findings: [],
      exemption: { raw: request.raw, rules: request.ruleIds, reason: request.reason, expires: request.expires },
      ...(ctx.actor ? { requestedBy: ctx.actor } : {}),
      ...(ctx.eventId ? { eventId: ctx.eventId } : {}),
      correlationId: ctx.correlationId,
      createdAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + ttl).toISOString(),
    },
    `exemption|${request.raw}`,
  );
  return proposal;
}
