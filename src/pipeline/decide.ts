import type { Alert } from "../alerts/alert.js";
import type { FixPlan } from "../remediation/index.js";
import type { ChangePlan } from "../remediation/plan.js";
import type { ResourceEvaluation, Violation } from "../rules/index.js";
import type { Rule } from "../rules/rule.js";
import type { ApprovedExemption } from "../exemptions/store.js";
import type { ExemptionStatus } from "./exemptions.js";
import type { Outcome } from "./context.js";
import type { RuleMode } from "./settings.js";

export interface DecideInput {
  evaluation: ResourceEvaluation;
  /** The amlguard-exempt tag: a request, which never exempts anything by itself. */
  request: ExemptionStatus;
  /** Approved exemptions in force for this resource. */
  approved: readonly ApprovedExemption[];
  /** Whether the request is new or changed since last seen (alert approvers once). */
  requestIsNew: boolean;
  /** Manual remediation may act despite an approved exemption when the request says so (audited). */
  overrideExemptions?: boolean;
  modeOf: (rule: Rule) => RuleMode;
  /** Only these rules (manual remediation of selected findings). */
  ruleIds?: readonly string[];
  /** The write being reacted to was amlguard's own, recognised as such: record, never act again. */
  ownWrite: OwnWrite | undefined;
  /** The plan for a rule's fix on this resource as read (pure: it only prepares the write). */
  planFor: (rule: Rule) => FixPlan;
}

/** How an event was recognised as amlguard's own write. */
export interface OwnWrite {
  how: "correlation-id" | "time-window";
}

/** What to do for one resource: record a decision, alert a person, or make one write covering one or more findings. */
export type Step =
  | { type: "record"; outcome: Outcome; alert?: Alert; request?: ExemptionRequestStep }
  | { type: "alert"; violation: Violation; outcome: Outcome }
  | { type: "write"; plan: ChangePlan; violations: Violation[] }
  /** Mode approve: the same plan a write would carry, kept for a second person to approve (src/proposals/). */
  | { type: "propose"; plan: ChangePlan; violations: Violation[] };

/** An amlguard-exempt tag's request: shown to approvers (`rules` in words) and proposed as is (`ruleIds`, `raw`). */
export interface ExemptionRequestStep {
  rules: string;
  reason: string;
  expires: string;
  ruleIds: "*" | string[];
  raw: string;
}

/**
 * Pure: turns one resource's evaluation into steps, by mode (off / alert / approve / remediate), exemption, and the fix
 * each rule's intent plans on this resource. Findings that share an action become one write (remediate) or one
 * proposal (approve). A rule in approve mode with no automatic fix here is alerted, as in alert mode.
 */
export function decide(input: DecideInput): Step[] {
  const selected = <T extends { rule: Rule }>(list: readonly T[]): T[] => list.filter((item) => !input.ruleIds || input.ruleIds.includes(item.rule.id));
  const violations = selected(input.evaluation.violations);
  const steps: Step[] = selected(input.evaluation.unevaluated).map(({ rule, why }) => ({
    type: "record",
    outcome: { decision: "not-evaluated", ruleId: rule.id, message: `not evaluated: ${why}` },
  }));
  if (input.request.kind === "invalid") {
    steps.push({ type: "record", outcome: { decision: "exemption-invalid", message: `amlguard-exempt tag ignored: ${input.request.problem} (value: ${input.request.raw})` } });
  }
  const requestCovered = (rules: "*" | string[]) => rules !== "*" && rules.every((id) => input.approved.some((e) => e.rules.includes(id)));
  if (input.request.kind === "valid" && input.requestIsNew && !requestCovered(input.request.exemption.rules)) {
    const { rules, reason, expires } = input.request.exemption;
    const asked = rules === "*" ? "every rule below high severity" : rules.join(", ");
    steps.push({
      type: "record",
      outcome: { decision: "exemption-requested", message: `exemption requested for ${asked} until ${expires}: ${reason}; enforced until a person with AmlGuard.Exempt approves it` },
      request: { rules: asked, reason, expires, ruleIds: rules, raw: input.request.raw },
    });
  }
  if (violations.length === 0) {
    return [...steps, { type: "record", outcome: { decision: "compliant", message: steps.some((step) => step.type === "record" && step.outcome.decision === "not-evaluated") ? "no evaluated rule fires" : "no rule fires" } }];
  }
  if (input.ownWrite) {
    const open = violations.map((v) => v.rule.id).join(", ");
    const how = input.ownWrite.how === "correlation-id" ? "by the correlation id it recorded" : "by its own lock on this resource moments before (ARM did not echo the correlation id)";
    return [...steps, { type: "record", outcome: { decision: "own-write", message: `amlguard's own write, recognised ${how}; still open: ${open}` } }];
  }
  const approvedFor = (ruleId: string) => input.approved.find((e) => e.rules.includes(ruleId));
  const writes = new Map<string, { plan: ChangePlan; violations: Violation[] }>();
  const proposals = new Map<string, { plan: ChangePlan; violations: Violation[] }>();
  for (const violation of violations) {
    const { rule } = violation;
    const mode = input.modeOf(rule);
    if (mode === "off") {
      steps.push({ type: "record", outcome: { decision: "off", ruleId: rule.id, message: "rule mode is off" } });
      continue;
    }
    const exemption = approvedFor(rule.id);
    if (exemption && !input.overrideExemptions) {
      const by = exemption.approvedBy.name ?? exemption.approvedBy.objectId ?? "unknown";
      steps.push({ type: "record", outcome: { decision: "exempt", ruleId: rule.id, message: `exempt until ${exemption.expires.slice(0, 10)} (approved by ${by}): ${exemption.reason}` } });
      continue;
    }
    if (exemption) {
      steps.push({ type: "record", outcome: { decision: "exemption-overridden", ruleId: rule.id, message: `exemption ${exemption.id} overridden by the manual request` } });
    }
    const planned: FixPlan = mode === "remediate" || mode === "approve" ? input.planFor(rule) : { kind: "no-automatic-action" };
    if (planned.kind === "plan") {
      const groups = mode === "approve" ? proposals : writes;
      const group = groups.get(planned.plan.action.id) ?? { plan: planned.plan, violations: [] };
      group.violations.push(violation);
      groups.set(planned.plan.action.id, group);
      continue;
    }
    const why =
      mode === "alert"
        ? "rule mode is alert"
        : planned.kind === "already-done"
          ? `contained already: ${planned.detail}`
          : planned.kind === "refused"
            ? `amlguard will not write: ${planned.detail}`
            : mode === "approve"
              ? "rule mode is approve, but no automatic remediation exists for this rule: alerted instead"
              : "no automatic remediation exists for this rule";
    steps.push({ type: "alert", violation, outcome: { decision: "alerted", ruleId: rule.id, message: why } });
  }
  for (const group of writes.values()) steps.push({ type: "write", ...group });
  for (const group of proposals.values()) steps.push({ type: "propose", ...group });
  return steps;
}
