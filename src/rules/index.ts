import { kindOfType, type ArmResource, type MlResourceKind } from "../arm/resource.js";
import { computeInstanceIdleShutdown } from "./compute-instance-idle-shutdown.js";
import { computeInstanceOutdatedImage } from "./compute-instance-outdated-image.js";
import { computeLocalAuth } from "./compute-local-auth.js";
import { computeNodePublicIp } from "./compute-node-public-ip.js";
import { computeNotInVnet } from "./compute-not-in-vnet.js";
import { computePublicSsh } from "./compute-public-ssh.js";
import { deploymentPublicEgress } from "./deployment-public-egress.js";
import { endpointKeyAuth } from "./endpoint-key-auth.js";
import { endpointNoTrafficLogs } from "./endpoint-no-traffic-logs.js";
import { endpointPublicNetworkAccess } from "./endpoint-public-network-access.js";
import { registryPublicNetworkAccess } from "./registry-public-network-access.js";
import { checkedRule, type Evidence, type Rule, type RuleInputs, type RuleMetadata, type Severity } from "./rule.js";
import { workspaceNoCustomerManagedKey } from "./workspace-no-customer-managed-key.js";
import { workspaceNoPrivateLink } from "./workspace-no-private-link.js";
import { workspaceNoResourceLogs } from "./workspace-no-resource-logs.js";
import { workspaceNoUserAssignedIdentity } from "./workspace-no-user-assigned-identity.js";
import { workspaceOutboundNotRestricted } from "./workspace-outbound-not-restricted.js";
import { workspacePublicAccessBehindVnet } from "./workspace-public-access-behind-vnet.js";
import { workspacePublicNetworkAccess } from "./workspace-public-network-access.js";

/** The catalogue, each rule's metadata validated as it loads. */
export const RULES: readonly Rule[] = [
  workspacePublicNetworkAccess,
  workspacePublicAccessBehindVnet,
  workspaceNoPrivateLink,
  workspaceOutboundNotRestricted,
  workspaceNoCustomerManagedKey,
  workspaceNoResourceLogs,
  workspaceNoUserAssignedIdentity,
  computeNodePublicIp,
  computeNotInVnet,
  computePublicSsh,
  computeLocalAuth,
  endpointPublicNetworkAccess,
  endpointKeyAuth,
  endpointNoTrafficLogs,
  deploymentPublicEgress,
  registryPublicNetworkAccess,
  computeInstanceIdleShutdown,
  computeInstanceOutdatedImage,
].map(checkedRule);

/** Every id a mode setting or an exemption may name. */
export const RULE_IDS: readonly string[] = RULES.map((rule) => rule.id);

/** Ids that were renamed or split, so existing mode settings keep working: old id → current id. */
export const RULE_ALIASES: Readonly<Record<string, string>> = {
  // Named after the workspace once; the setting it checks lives on each online endpoint.
  "workspace-no-traffic-logs": "endpoint-no-traffic-logs",
  // Split into inbound (private link) and outbound (managed network) isolation, each agreeing with its Azure Policy
  // built-in. The old id maps to the inbound rule: a setting or exemption naming it does not reach the outbound rule.
  "workspace-no-network-isolation": "workspace-no-private-link",
};

/** The current id for a rule id or one of its old names; undefined when neither. */
export function canonicalRuleId(id: string): string | undefined {
  const current = RULE_ALIASES[id] ?? id;
  return RULE_IDS.includes(current) ? current : undefined;
}

/** A finding as people and machines read it (CLI --json, the findings API): no functions, just data. */
export interface Finding {
  resourceId: string;
  resourceType: string;
  ruleId: string;
  severity: Severity;
  title: string;
  compliance: RuleMetadata["compliance"];
  evidence: Evidence;
}

/** What the pipeline carries from evaluation to decision: the rule itself, never a copy of its fields. */
export interface Violation {
  rule: Rule;
  evidence: Evidence;
}

/** A rule that could not be evaluated because a related resource it needs was not fetched. */
export interface Unevaluated {
  rule: Rule;
  why: string;
}

export interface ResourceEvaluation {
  violations: Violation[];
  unevaluated: Unevaluated[];
}

export function ruleById(id: string): Rule | undefined {
  return RULES.find((rule) => rule.id === id);
}

export function rulesFor(kind: MlResourceKind): Rule[] {
  return RULES.filter((rule) => rule.appliesTo.includes(kind));
}

/** Whether any rule for this kind needs related resources fetched before it can be evaluated. */
export function needsRelated(kind: MlResourceKind): boolean {
  return rulesFor(kind).some((rule) => (rule.related?.length ?? 0) > 0);
}

/**
 * Evaluates every rule that applies to the resource's type; undefined when amlguard does not support the type. A rule
 * whose related resources are absent from `inputs` is listed as unevaluated, never as passing.
 */
export function evaluateRules(resource: ArmResource, inputs: RuleInputs = {}): ResourceEvaluation | undefined {
  const kind = kindOfType(resource.type);
  if (!kind) return undefined;
  const result: ResourceEvaluation = { violations: [], unevaluated: [] };
  for (const rule of rulesFor(kind)) {
    const missing = (rule.related ?? []).filter((related) => inputs[related] === undefined);
    if (missing.length) {
      result.unevaluated.push({ rule, why: `needs ${missing.join(", ")}, which was not read` });
      continue;
    }
    const evaluation = rule.evaluate(resource, inputs);
    if (evaluation.status === "fail") result.violations.push({ rule, evidence: evaluation.evidence });
  }
  return result;
}

export function toFinding(resource: Pick<ArmResource, "id" | "type">, violation: Violation): Finding {
  const { rule, evidence } = violation;
  return { resourceId: resource.id, resourceType: resource.type, ruleId: rule.id, severity: rule.severity, title: rule.title, compliance: rule.compliance, evidence };
}

/** The findings of every rule evaluable from the resource alone (and the related inputs given). */
export function evaluateResource(resource: ArmResource, inputs: RuleInputs = {}): Finding[] | undefined {
  return evaluateRules(resource, inputs)?.violations.map((violation) => toFinding(resource, violation));
}
