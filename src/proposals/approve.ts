import { kindOfType, readPath, type ArmResource } from "../arm/resource.js";
import { ArmError, type ArmRead } from "../azure/arm-client.js";
import { approveExemption, sameActor } from "../exemptions/approve.js";
import { ManualError, type ManualDeps } from "../manual/remediate.js";
import { assessAndAct, newCorrelationId, type Outcome } from "../pipeline/assess.js";
import type { ApprovedExemption } from "../exemptions/store.js";
import type { Actor } from "../state/audit.js";
import { expireProposal } from "./expire.js";
import { ProposalConflict, type Proposal, type ProposalStore, type StoredProposal } from "./store.js";
import { statusAt, viewOf, type ProposalView } from "./view.js";

export interface ProposalDeps extends ManualDeps {
  proposals: ProposalStore;
  /** The longest an exemption may run (AMLGUARD_EXEMPTION_MAX_DAYS), for exemption proposals. */
  exemptionMaxDays: number;
}

/** Who decides: the person (from a validated token on HTTP), and whether they hold the role a kind of proposal needs. */
export interface Decider {
  actor: Actor;
  /** The HTTP API checks app roles; the CLI cannot (it holds no token for amlguard's API: README, proposals). */
  mayDecide(kind: Proposal["kind"]): boolean;
  roleFor(kind: Proposal["kind"]): string;
  trigger: string;
}

export type ApprovalAnswer =
  | { kind: "approved"; proposal: ProposalView; result: NonNullable<Proposal["result"]> }
  /** The resource is no longer as the proposal read it: nothing written; `next` is the proposal for its current state. */
  | { kind: "superseded"; proposal: ProposalView; message: string; next?: ProposalView };

const nameOf = (actor: Actor | undefined) => actor?.name ?? actor?.objectId ?? actor?.appId ?? "unknown";

/**
 * Approves a proposal: the approver holds the kind's role, is not the principal whose write it answers (four eyes),
 * and the proposal is pending and not expired. The decision is claimed under the proposal row's ETag, so approving
 * twice (or two approvers at once) acts once. A remediation is then applied only if the resource, read again, is still
 * in the observed state, through the one pipeline (conditional write, action lock, recorded correlation id, read-back,
 * audit, alert); otherwise the proposal is superseded and the current state judged afresh. An exemption is approved
 * through approveExemption (four eyes, maximum days, no wildcard over high severity).
 */
export async function approveProposal(id: string, decider: Decider, deps: ProposalDeps): Promise<ApprovalAnswer> {
  const stored = await decidable(id, decider, deps, "approve");
  const { proposal } = stored;
  const now = deps.now();
  let claimed: StoredProposal;
  try {
    claimed = await deps.proposals.update(stored, { status: "approved", decidedBy: decider.actor, decidedAt: now.toISOString() });
  } catch (error) {
    if (error instanceof ProposalConflict) throw new ManualError(409, "AlreadyDecided", "someone decided this proposal a moment ago; reload it");
    throw error;
  }
  return proposal.kind === "exemption" ? approveExemptionProposal(claimed, decider, deps) : applyRemediation(claimed, decider, deps);
}

/** Rejects a proposal (the same role and four-eyes rule as approving): nothing is written, the finding stands. */
export async function rejectProposal(id: string, decider: Decider, reason: string | undefined, deps: ProposalDeps): Promise<ProposalView> {
  const stored = await decidable(id, decider, deps, "reject");
  const now = deps.now();
  let rejected: Proposal;
  try {
    rejected = (await deps.proposals.update(stored, { status: "rejected", decidedBy: decider.actor, decidedAt: now.toISOString(), ...(reason ? { decisionReason: reason } : {}), result: { decision: "rejected", message: `rejected by ${nameOf(decider.actor)}${reason ? `: ${reason}` : ""}` } })).proposal;
  } catch (error) {
    if (error instanceof ProposalConflict) throw new ManualError(409, "AlreadyDecided", "someone decided this proposal a moment ago; reload it");
    throw error;
  }
  const what = describe(rejected);
  await deps.audit.record({ decision: "proposal-rejected", trigger: decider.trigger, resourceId: rejected.resourceId, actor: decider.actor, ...(reason ? { reason } : {}), message: `proposal ${rejected.id} (${what}) rejected by ${nameOf(decider.actor)}; proposed by amlguard for ${nameOf(rejected.requestedBy)}` });
  await deps.alerts.send({
    severity: rejected.findings[0]?.severity ?? "medium",
    outcome: "needs-action",
    resourceId: rejected.resourceId,
    ...(rejected.ruleIds[0] ? { ruleId: rejected.ruleIds[0] } : {}),
    title: `Proposal rejected by ${nameOf(decider.actor)}: nothing was written`,
    evidence: `${what}${reason ? `; reason: ${reason}` : ""}`,
    actionTaken: `rejected by ${nameOf(decider.actor)}`,
    nextStep: rejected.kind === "remediation" ? "The finding stands: fix it in the resource's template, or approve an exemption." : "The resource stays enforced.",
    actor: decider.actor,
    dedupeKey: `proposal-decision|${rejected.id}`,
    at: now.toISOString(),
  });
  return viewOf(rejected, now);
}

/**
 * "Exempt instead…" on a pending remediation proposal: approves an exemption of the proposal's rules on its resource
 * through approveExemption (AmlGuard.Exempt, checked by the caller; at most AMLGUARD_EXEMPTION_MAX_DAYS; audited and
 * alerted), never by the principal whose write the proposal answers, which then closes the proposal as `exempted`.
 */
export async function exemptInstead(id: string, decider: Pick<Decider, "actor" | "trigger">, request: { expires: string; reason: string }, deps: ProposalDeps): Promise<{ exemption: ApprovedExemption; proposal: ProposalView }> {
  const stored = await deps.proposals.get(id);
  if (!stored) throw new ManualError(404, "ProposalNotFound", "no proposal has that id");
  const { proposal } = stored;
  if (proposal.kind !== "remediation") throw new ManualError(400, "InvalidRequest", "this proposal is an exemption request: approve it instead");
  if (statusAt(proposal, deps.now()) === "expired") throw new ManualError(410, "ProposalExpired", `this proposal expired at ${proposal.expiresAt}; exempt the resource with POST /api/exemptions if it is still needed`);
  if (proposal.status !== "pending") throw new ManualError(409, "AlreadyDecided", `${proposal.status} already by ${nameOf(proposal.decidedBy)} at ${proposal.decidedAt ?? "?"}`);
  if (proposal.requestedBy && sameActor(proposal.requestedBy, decider.actor)) throw new ManualError(403, "SelfApprovalRefused", "you made the change this proposal answers; another person must exempt it");
  const exemption = await approveExemption(
    { resourceId: proposal.resourceId, rules: proposal.ruleIds, reason: request.reason, expires: request.expires },
    decider.actor,
    decider.trigger,
    { store: deps.exemptions, arm: deps.arm, audit: deps.audit, alerts: deps.alerts, now: deps.now, allowedSubscriptions: deps.allowedSubscriptions, maxDays: deps.exemptionMaxDays, proposals: deps.proposals },
  );
  const closed = (await deps.proposals.get(id))?.proposal ?? proposal;
  return { exemption, proposal: viewOf(closed, deps.now()) };
}

/** The proposal, if this person may decide it now; otherwise the refusal in the caller's terms. */
async function decidable(id: string, decider: Decider, deps: ProposalDeps, verb: "approve" | "reject"): Promise<StoredProposal> {
  const stored = await deps.proposals.get(id);
  if (!stored) throw new ManualError(404, "ProposalNotFound", "no proposal has that id");
  const { proposal } = stored;
  if (!decider.mayDecide(proposal.kind)) throw new ManualError(403, "Forbidden", `the caller lacks the ${decider.roleFor(proposal.kind)} role needed to ${verb} a${proposal.kind === "exemption" ? "n exemption" : " remediation"} proposal`);
  if (proposal.status === "expired") throw new ManualError(410, "ProposalExpired", `this proposal expired at ${proposal.expiresAt}; nothing was written`);
  if (proposal.status === "superseded") throw new ManualError(409, "ProposalSuperseded", `the resource changed since this proposal was made${proposal.supersededBy ? `: see proposal ${proposal.supersededBy}` : ""}`);
  if (proposal.status !== "pending") throw new ManualError(409, "AlreadyDecided", `${proposal.status} already by ${nameOf(proposal.decidedBy)} at ${proposal.decidedAt ?? "?"}`);
  if (Date.parse(proposal.expiresAt) <= deps.now().getTime()) {
    await expireProposal(stored, deps, decider.trigger);
    throw new ManualError(410, "ProposalExpired", `this proposal expired at ${proposal.expiresAt}; nothing was written`);
  }
  if (proposal.requestedBy && sameActor(proposal.requestedBy, decider.actor)) {
    const what = proposal.kind === "exemption" ? "you asked for this exemption (you wrote the amlguard-exempt tag)" : "you made the change this proposal answers";
    throw new ManualError(403, "SelfApprovalRefused", `${what}; another person must ${verb} it`);
  }
  return stored;
}

async function applyRemediation(claimed: StoredProposal, decider: Decider, deps: ProposalDeps): Promise<ApprovalAnswer> {
  const proposal = claimed.proposal;
  const now = deps.now();
  let fresh: ArmRead;
  try {
    fresh = await deps.arm.get(proposal.resourceId);
  } catch (error) {
    if (!(error instanceof ArmError && error.statusCode === 404)) throw error;
    const ended = await settle(claimed, deps, { status: "superseded", result: { decision: "gone", message: "the resource no longer exists: nothing written" } });
    return { kind: "superseded", proposal: viewOf(ended, now), message: "the resource no longer exists: nothing was written" };
  }
  const kind = kindOfType(fresh.resource.type)!;
  if (!stillAsObserved(proposal, fresh)) {
    // Not the state the approver saw: never write it. The current state goes through the configured modes afresh.
    const ctx = { trigger: decider.trigger, correlationId: newCorrelationId(), related: "read" as const };
    const outcomes = await assessAndAct(fresh, kind, ctx, deps);
    const nextId = outcomes.find((o) => o.proposalId && o.proposalId !== proposal.id && o.decision === "proposed")?.proposalId;
    const message = `the resource changed since the proposal was read (${proposal.observed?.etag ? "ETag differs" : "the planned values differ"}): nothing was written${nextId ? `; proposal ${nextId} plans from its current state` : "; no finding of this proposal stands now"}`;
    const ended = await settle(claimed, deps, { status: "superseded", ...(nextId ? { supersededBy: nextId } : {}), result: { decision: "superseded", message } });
    await deps.audit.record({ decision: "proposal-superseded", trigger: decider.trigger, resourceId: proposal.resourceId, actor: decider.actor, message: `proposal ${proposal.id} approved by ${nameOf(decider.actor)}, but ${message}` });
    const next = nextId ? await deps.proposals.get(nextId) : undefined;
    return { kind: "superseded", proposal: viewOf(ended, now), message, ...(next ? { next: viewOf(next.proposal, now) } : {}) };
  }
  await deps.audit.record({
    decision: "proposal-approved",
    trigger: decider.trigger,
    resourceId: proposal.resourceId,
    ...(proposal.action ? { actionId: proposal.action.id } : {}),
    actor: decider.actor,
    message: `proposal ${proposal.id} (${describe(proposal)}) approved by ${nameOf(decider.actor)}; proposed by amlguard for the write by ${nameOf(proposal.requestedBy)}`,
  });
  const ctx = {
    trigger: decider.trigger,
    correlationId: newCorrelationId(),
    ...(proposal.requestedBy ? { actor: proposal.requestedBy } : {}),
    approvedBy: decider.actor,
    mode: "remediate" as const,
    ruleIds: proposal.ruleIds,
    reason: `proposal ${proposal.id} approved by ${nameOf(decider.actor)}`,
    related: "read" as const,
  };
  const outcomes = await assessAndAct(fresh, kind, ctx, deps);
  const main = outcomes.find((o) => o.actionId === proposal.action?.id) ?? outcomes.find((o) => o.ruleId && proposal.ruleIds.includes(o.ruleId)) ?? outcomes[0];
  const result = resultOf(main);
  const ended = await settle(claimed, deps, { result });
  if (!["remediated", "failed", "dry-run"].includes(result.decision)) {
    // The pipeline alerted nothing for this outcome (exempt meanwhile, compliant, a twin took the write): say it here.
    await deps.alerts.send({
      severity: proposal.findings[0]?.severity ?? "medium",
      outcome: "needs-action",
      resourceId: proposal.resourceId,
      ...(proposal.ruleIds[0] ? { ruleId: proposal.ruleIds[0] } : {}),
      title: `Proposal approved by ${nameOf(decider.actor)}: nothing written`,
      evidence: result.message,
      actionTaken: `approved by ${nameOf(decider.actor)}; ${result.decision}`,
      actor: decider.actor,
      dedupeKey: `proposal-decision|${proposal.id}`,
      at: now.toISOString(),
    });
  }
  return { kind: "approved", proposal: viewOf(ended, now), result };
}

async function approveExemptionProposal(claimed: StoredProposal, decider: Decider, deps: ProposalDeps): Promise<ApprovalAnswer> {
  const proposal = claimed.proposal;
  const now = deps.now();
  const request = proposal.exemption!;
  const current = await deps.exemptions.requestFor(proposal.resourceId);
  if (current?.value !== request.raw) {
    const message = "the amlguard-exempt tag changed since this request was made: nothing was approved";
    const ended = await settle(claimed, deps, { status: "superseded", result: { decision: "superseded", message } });
    await deps.audit.record({ decision: "proposal-superseded", trigger: decider.trigger, resourceId: proposal.resourceId, actor: decider.actor, message: `proposal ${proposal.id}: ${message}` });
    const next = (await deps.proposals.forResource(proposal.resourceId)).find((p) => p.proposal.kind === "exemption" && p.proposal.status === "pending");
    return { kind: "superseded", proposal: viewOf(ended, now), message, ...(next ? { next: viewOf(next.proposal, now) } : {}) };
  }
  try {
    const exemption = await approveExemption(
      { resourceId: proposal.resourceId, rules: request.rules, reason: request.reason, expires: request.expires },
      decider.actor,
      decider.trigger,
      { store: deps.exemptions, arm: deps.arm, audit: deps.audit, alerts: deps.alerts, now: deps.now, allowedSubscriptions: deps.allowedSubscriptions, maxDays: deps.exemptionMaxDays, proposals: deps.proposals },
    );
    const result = { decision: "exemption-approved", message: `exemption ${exemption.id} for ${exemption.rules.join(", ")} until ${request.expires}`, exemptionId: exemption.id };
    return { kind: "approved", proposal: viewOf(await settle(claimed, deps, { result }), now), result };
  } catch (error) {
    // Refused by the exemption rules (too long, wildcard over high severity…): the request stays pending for another answer.
    if (error instanceof ManualError) await settle(claimed, deps, { status: "pending" }, true);
    throw error;
  }
}

/** The planned values still hold: the ETag is the one read (or, without one, every value the plan changes is as read). */
export function stillAsObserved(proposal: Proposal, fresh: ArmRead): boolean {
  const observed = proposal.observed;
  if (!observed) return false;
  if (observed.etag) return fresh.etag === observed.etag;
  const resource: ArmResource = fresh.resource;
  return Object.entries(observed.values).every(([path, value]) => JSON.stringify(readPath(resource, path) ?? null) === JSON.stringify(value));
}

function resultOf(outcome: Outcome | undefined): NonNullable<Proposal["result"]> {
  if (!outcome) return { decision: "compliant", message: "no finding of this proposal stands: nothing written" };
  return { decision: outcome.decision, message: outcome.message, ...(outcome.undo ? { undo: outcome.undo } : {}), ...(outcome.after ? { after: outcome.after } : {}) };
}

/** Records how a claimed proposal ended (the claim holds the row, so this write is conditional on it too). */
async function settle(claimed: StoredProposal, deps: ProposalDeps, change: Partial<Proposal>, undoClaim = false): Promise<Proposal> {
  const reverted = undoClaim ? (({ decidedBy: _by, decidedAt: _at, ...rest }: Proposal) => rest)(claimed.proposal) : claimed.proposal;
  return (await deps.proposals.update({ ...claimed, proposal: reverted as Proposal }, change)).proposal;
}

function describe(proposal: Proposal): string {
  if (proposal.kind === "exemption") {
    const rules = proposal.exemption?.rules === "*" ? "every rule below high severity" : (proposal.exemption?.rules ?? []).join(", ");
    return `exempt ${rules} until ${proposal.exemption?.expires ?? "?"}`;
  }
  return `${proposal.action?.description ?? "a fix"} for ${proposal.ruleIds.join(", ")}`;
}
