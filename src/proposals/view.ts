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

/**
 * "Exempt instead…" on a pending remediation proposal's page: the rules an exemption would name, and the dates
 * POST /api/exemptions accepts now (approveExemption: the last day ends at 23:59:59.999 UTC, after now and at most
 * `maxDays` days ahead), with a default of 30 days or the maximum if shorter. From the server's clock, so the page
 * offers exactly what the API accepts.
 */
export interface ExemptOffer {
  rules: string[];
  maxDays: number;
  earliest: string;
  latest: string;
  suggested: string;
}

const DAY = 86_400_000;
const dateOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);

export function exemptOfferFor(proposal: Proposal, now: Date, maxDays: number): ExemptOffer | undefined {
  if (proposal.kind !== "remediation" || statusAt(proposal, now) !== "pending" || proposal.ruleIds.length === 0) return undefined;
  const lastDay = (days: number) => dateOf(now.getTime() + days * DAY - (DAY - 1));
  return { rules: [...proposal.ruleIds], maxDays, earliest: dateOf(now.getTime()), latest: lastDay(maxDays), suggested: lastDay(Math.min(30, maxDays)) };
}
