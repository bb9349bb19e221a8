import type { ArmRead } from "../azure/arm-client.js";
import { ML_RESOURCE_TYPES, type MlResourceKind } from "../arm/resource.js";
import type { FixIntent, RuleInputs } from "../rules/rule.js";
import { capCluster, stopComputeInstance } from "./compute.js";
import { addTrafficLogSetting } from "./diagnostic-setting.js";
import type { ActionDefinition, PlanResult } from "./plan.js";
import { endpointDisablePublicNetworkAccess, registryDisablePublicNetworkAccess } from "./put-if-match.js";
import { workspaceDisablePublicNetworkAccess } from "./workspace-patch.js";

export type { ActionDefinition, ChangePlan, PlanResult } from "./plan.js";
export { WriteConflict } from "./plan.js";

/** Every write amlguard can make, by resource kind and intent. */
export const ACTIONS: readonly ActionDefinition[] = [
  workspaceDisablePublicNetworkAccess,
  endpointDisablePublicNetworkAccess,
  registryDisablePublicNetworkAccess,
  stopComputeInstance,
  capCluster,
  addTrafficLogSetting,
];

/** Reads amlguard needs, by resource kind (evaluation reads each resource once). */
export const READ_PERMISSIONS: Readonly<Record<MlResourceKind, string>> = {
  workspace: `${ML_RESOURCE_TYPES.workspace}/read`,
  compute: `${ML_RESOURCE_TYPES.compute}/read`,
  onlineEndpoint: `${ML_RESOURCE_TYPES.onlineEndpoint}/read`,
  onlineDeployment: `${ML_RESOURCE_TYPES.onlineDeployment}/read`,
  registry: `${ML_RESOURCE_TYPES.registry}/read`,
};

export type FixPlan = Exclude<PlanResult, { kind: "not-applicable" }> | { kind: "no-automatic-action" };

/**
 * The plan for a fix intent on this resource: the first registered action of its kind and intent that plans (a
 * compute instance is stopped, a cluster capped). No intent, or no action for the kind, means a person acts.
 */
export function planFix(intent: FixIntent | undefined, kind: MlResourceKind, read: ArmRead, inputs: RuleInputs): FixPlan {
  if (!intent) return { kind: "no-automatic-action" };
  for (const action of ACTIONS) {
    if (action.kind !== kind || action.intent !== intent) continue;
    const planned = action.plan(read, inputs);
    if (planned.kind !== "not-applicable") return planned;
  }
  return { kind: "no-automatic-action" };
}
