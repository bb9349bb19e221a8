import type { AlertSink } from "../alerts/alert.js";
import type { AuditLog } from "../state/audit.js";
import { ProposalConflict, type Proposal, type ProposalStore, type StoredProposal } from "./store.js";

interface ExpiryDeps {
  proposals: ProposalStore;
  audit: AuditLog;
  alerts: AlertSink;
  now: () => Date;
}

/**
 * Marks a pending proposal past its expiry as expired, audits it and alerts once (the status change is conditional,
 * so of an approval attempt and the sweep finding it at once, one alerts). Nothing is written to the resource.
 */
export async function expireProposal(stored: StoredProposal, deps: ExpiryDeps, trigger: string): Promise<Proposal | undefined> {
  const { proposal } = stored;
  let expired: Proposal;
  try {
    expired = (await deps.proposals.update(stored, { status: "expired", result: { decision: "expired", message: `not decided by ${proposal.expiresAt}: nothing was written` } })).proposal;
  } catch (error) {
    if (error instanceof ProposalConflict) return undefined; // decided or expired by someone else meanwhile
    throw error;
  }
  const what = proposal.kind === "exemption" ? "exemption request" : (proposal.action?.description ?? "fix");
  await deps.audit.record({ decision: "proposal-expired", trigger, resourceId: proposal.resourceId, message: `proposal ${proposal.id} (${what}) expired at ${proposal.expiresAt} without a decision: nothing was written` });
  await deps.alerts.send({
    severity: proposal.findings[0]?.severity ?? "medium",
    outcome: "needs-action",
    resourceId: proposal.resourceId,
    ...(proposal.ruleIds[0] ? { ruleId: proposal.ruleIds[0] } : {}),
    title: "Proposal expired: nothing was written",
    evidence: `${what}, proposed ${proposal.createdAt}, expired ${proposal.expiresAt}`,
    nextStep:
      proposal.kind === "exemption"
        ? "Ask again by changing the amlguard-exempt tag, or approve with 'amlguard exemptions approve'."
        : `The finding stands. Fix it, or remediate now with 'amlguard remediate ${proposal.resourceId} --reason …'.`,
    dedupeKey: `proposal-expired|${proposal.id}`,
    at: deps.now().toISOString(),
  });
  return expired;
}

/** Expires every pending proposal past its expiry (the sweep calls this); returns how many. */
export async function expireProposals(deps: ExpiryDeps, trigger = "sweep"): Promise<number> {
  const now = deps.now().getTime();
  let expired = 0;
  for (const proposal of await deps.proposals.list("pending")) {
    if (Date.parse(proposal.expiresAt) > now) continue;
    const stored = await deps.proposals.get(proposal.id);
    if (stored && stored.proposal.status === "pending" && (await expireProposal(stored, deps, trigger))) expired += 1;
  }
  return expired;
}
