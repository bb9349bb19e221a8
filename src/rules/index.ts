import { kindOfType, type ArmResource, type MlResourceKind } from "../arm/resource.js";
import { computeInstanceIdleShutdown } from "./compute-instance-idle-shutdown.js";
import { computeInstanceOutdatedImage } from "./compute-instance-outdated-image.js";
import { computeLocalAuth } from "./compute-local-auth.js";
import { computeNodePublicIp } from "./compute-node-public-ip.js";
import { computePublicSsh } from "./compute-public-ssh.js";
import { deploymentPublicEgress } from "./deployment-public-egress.js";
import { endpointKeyAuth } from "./endpoint-key-auth.js";
import { endpointPublicNetworkAccess } from "./endpoint-public-network-access.js";
import { registryPublicNetworkAccess } from "./registry-public-network-access.js";
import type { Evidence, Rule, Severity } from "./rule.js";
import { workspaceNoCustomerManagedKey } from "./workspace-no-customer-managed-key.js";
import { workspaceNoNetworkIsolation } from "./workspace-no-network-isolation.js";
import { workspacePublicAccessBehindVnet } from "./workspace-public-access-behind-vnet.js";
import { workspacePublicNetworkAccess } from "./workspace-public-network-access.js";

export const RULES: readonly Rule[] = [
  workspacePublicNetworkAccess,
  workspacePublicAccessBehindVnet,
  workspaceNoNetworkIsolation,
  workspaceNoCustomerManagedKey,
  computeNodePublicIp,
  computePublicSsh,
  computeLocalAuth,
  endpointPublicNetworkAccess,
  endpointKeyAuth,
  deploymentPublicEgress,
  registryPublicNetworkAccess,
  computeInstanceIdleShutdown,
  computeInstanceOutdatedImage,
];

/** The traffic-log coverage check is not a rule over one resource's JSON, but it has a mode and can be exempted. */
export const TRAFFIC_LOGS_CHECK_ID = "workspace-no-traffic-logs";

/** Every id a mode setting or an amlguard-exempt tag may name. */
export const CHECK_IDS: readonly string[] = [...RULES.map((rule) => rule.id), TRAFFIC_LOGS_CHECK_ID];

export interface Finding {
  resourceId: string;
  resourceType: string;
  ruleId: string;
  severity: Severity;
  title: string;
  evidence: Evidence;
}

export function ruleById(id: string): Rule | undefined {
  return RULES.find((rule) => rule.id === id);
}

export function rulesFor(kind: MlResourceKind): Rule[] {
  return RULES.filter((rule) => rule.appliesTo.includes(kind));
}

/** Evaluates every rule that applies to the resource's type; undefined when amlguard does not support the type. */
export function evaluateResource(resource: ArmResource): Finding[] | undefined {
  const kind = kindOfType(resource.type);
  if (!kind) return undefined;
  const findings: Finding[] = [];
  for (const rule of rulesFor(kind)) {
    const result = rule.evaluate(resource);
    if (result.status === "fail") {
      findings.push({
        resourceId: resource.id,
        resourceType: resource.type,
        ruleId: rule.id,
        severity: rule.severity,
        title: rule.title,
        evidence: result.evidence,
      });
    }
  }
  return findings;
}
