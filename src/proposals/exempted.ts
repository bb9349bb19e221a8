import type { ApprovedExemption } from "../exemptions/store.js";
import { ManualError } from "../manual/remediate.js";
import type { Actor, AuditLog } from "../state/audit.js";
import { ProposalConflict, type Proposal, type ProposalStore } from "./store.js";

/** What closing proposals after an exemption needs (the proposals table is optional: without it there is nothing to close). */
export interface AnsweredProposalDeps {
  proposals?: ProposalStore;
  audit: AuditLog;
  now: () => Date;
}

const nameOf = (actor: Actor | undefined) => actor?.name ?? actor?.objectId ?? actor?.appId ?? "unknown";
const samePrincipal = (a: Actor | undefined, b: Actor) => {
  const norm = (id: string | undefined) => id?.replace(/-/g, "").toLowerCase();
  return a !== undefined && ((a.objectId !== undefined && norm(a.objectId) === norm(b.objectId)) || (a.appId !== undefined && norm(a.appId) === norm(b.appId)));
};

/**
 * Four eyes for "Exempt…" from a remediation proposal's alert: whoever made the write a pending proposal answers may
 * not exempt any of its rules either (they count as the requester, as the writer of an amlguard-exempt tag does).
 * Checked before anything is stored, for every way an exemption is approved (HTTP, CLI, the page).
 */
export async function refuseWriterExemptingOwnChange(resourceId: string, rules: readonly string[], approver: Actor, deps: AnsweredProposalDeps): Promise<void> {
  if (!deps.proposals) return;
  for (const { proposal } of await deps.proposals.forResource(resourceId)) {
    if (proposal.status !== "pending" || proposal.kind !== "remediation" || !samePrincipal(proposal.requestedBy, approver)) continue;
    if (proposal.ruleIds.some((rule) => rules.includes(rule))) {
      throw new ManualError(403, "SelfApprovalRefused", `you made the change proposal ${proposal.id} answers; another person must exempt it (or approve the proposal)`);
    }
  }
}

/**
 * After an exemption is approved, closes the pending proposals it answers, so no stale one stays on the page or in
 * `proposals list`: the exemption request it answers (`requestValue`, the amlguard-exempt tag's text: approved, by
 * the approver, with the exemption's id) and every remediation proposal whose rules it covers entirely (`exempted`:
 * nothing will be written for them). A remediation proposal only partly covered stays pending: approving it still
 * fixes the rest. Each close is conditional on the row's ETag (a decision made meanwhile stands) and audited.
 */
export async function closeAnsweredProposals(exemption: ApprovedExemption, requestValue: string | undefined, trigger: string, deps: AnsweredProposalDeps): Promise<Proposal[]> {
  if (!deps.proposals) return [];
  const closed: Proposal[] = [];
  const decidedAt = deps.now().toISOString();
  const who = nameOf(exemption.approvedBy);
  for (const stored of await deps.proposals.forResource(exemption.resourceId)) {
    const p = stored.proposal;
    if (p.status !== "pending") continue;
    const answersRequest = p.kind === "exemption" && requestValue !== undefined && p.exemption?.raw === requestValue;
    const covered = p.kind === "remediation" && p.ruleIds.length > 0 && p.ruleIds.every((rule) => exemption.rules.includes(rule));
    if (!answersRequest && !covered) continue;
    const until = exemption.expires.slice(0, 10);
    const message = answersRequest
      ? `approved as exemption ${exemption.id} (${exemption.rules.join(", ")} until ${until}) by ${who}`
      : `exempted instead: exemption ${exemption.id} (${exemption.rules.join(", ")} until ${until}, approved by ${who}) covers its findings; nothing was written`;
    const change: Partial<Proposal> = {
      status: answersRequest ? "approved" : "exempted",
      decidedBy: exemption.approvedBy,
      decidedAt,
      decisionReason: exemption.reason,
      result: { decision: answersRequest ? "exemption-approved" : "exempted", message, exemptionId: exemption.id },
    };
    try {
      closed.push((await deps.proposals.update(stored, change)).proposal);
    } catch (error) {
      if (error instanceof ProposalConflict) continue; // decided meanwhile: that decision stands
      throw error;
    }
    await deps.audit.record({
      decision: answersRequest ? "proposal-approved" : "proposal-exempted",
      trigger,
      resourceId: p.resourceId,
      ...(p.action ? { actionId: p.action.id } : {}),
      actor: exemption.approvedBy,
      reason: exemption.reason,
      message: `proposal ${p.id} ${message}; proposed by amlguard for ${nameOf(p.requestedBy)}`,
    });
  }
  return closed;
}
