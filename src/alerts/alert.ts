import type { RuleMetadata, Severity } from "../rules/rule.js";
import type { Actor } from "../state/audit.js";

export type AlertOutcome = "remediated" | "dry-run" | "needs-action" | "failed";

/** One thing a person should know: a finding and what amlguard did about it, or a failure to act. */
export interface Alert {
  severity: Severity;
  outcome: AlertOutcome;
  resourceId: string;
  ruleId?: string;
  /** The rule's Azure Policy built-ins and benchmark controls, so the alert lands in the team's compliance vocabulary. */
  compliance?: RuleMetadata["compliance"];
  title: string;
  rationale?: string;
  /** The rule's evidence, one line (with several findings: each finding's, joined). */
  evidence?: string;
  /**
   * The findings this alert answers when one action covered several rules (a stopped instance answers both its public
   * IP and its public SSH): each with its title and evidence. `ruleId`, `title` and `compliance` are the first's.
   */
  findings?: AlertFinding[];
  /** What amlguard did, or would have done in dry-run. */
  actionTaken?: string;
  /** How a person reverses what amlguard did. */
  undo?: string;
  /** What a person must still do. */
  nextStep?: string;
  actor?: Actor;
  /** A link better than the resource's portal page (a spike's Log Analytics query). */
  link?: { title: string; url: string };
  /** Links to act on the alert (a proposal's "Review and approve" page), shown beside the portal link. */
  links?: Array<{ title: string; url: string }>;
  /** What makes two alerts "the same" for the dedupe window, when resource, rule, outcome and evidence do not. */
  dedupeKey?: string;
  eventId?: string;
  correlationId?: string;
  at: string;
}

/** One rule's finding inside an alert that covers several. */
export interface AlertFinding {
  ruleId: string;
  title: string;
  severity: Severity;
  evidence: string;
  compliance?: RuleMetadata["compliance"];
}

/** Where alerts go. Channels (Teams, email) and the outbox implement it; the pipeline knows only this. */
export interface AlertSink {
  send(alert: Alert): Promise<void>;
}
