import { approveCommand, proposalPath } from "./links.js";
import type { Proposal, ProposalStatus } from "./store.js";

/**
 * A proposal as the API, the page and `amlguard proposals show --json` give it: the stored proposal, its status as of
 * now (a pending one past its expiry reads "expired" even before the sweep marks it), whether it can still be
 * decided, and where to decide it.
 */
export interface ProposalView extends Proposal {
  proposedBy: "amlguard";
  decidable: boolean;
  links: { self: string; approve: string; reject: string };
  cli: { approve: string; reject: string };
}

export function statusAt(proposal: Proposal, now: Date): ProposalStatus {
  return proposal.status === "pending" && Date.parse(proposal.expiresAt) <= now.getTime() ? "expired" : proposal.status;
}

export function viewOf(proposal: Proposal, now: Date): ProposalView {
  const status = statusAt(proposal, now);
  const self = proposalPath(proposal.id);
  return {
    ...proposal,
    status,
    proposedBy: "amlguard",
    decidable: status === "pending",
    links: { self, approve: `${self}/approve`, reject: `${self}/reject` },
    cli: { approve: approveCommand(proposal.id), reject: `amlguard proposals reject ${proposal.id} --reason "…"` },
  };
}
