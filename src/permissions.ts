import { ML_RESOURCE_TYPES } from "./arm/resource.js";
import { ACTIONS, READ_PERMISSIONS } from "./remediation/index.js";

/**
 * Every ARM action amlguard's identity needs, derived from the code: each remediation action's declared permission,
 * the reads of every evaluated type and of related resources (diagnostic settings), and the Resource Graph query.
 * infra/ grants exactly these in a custom role;
 * a test fails when the two disagree.
 */
export const REQUIRED_ARM_ACTIONS: readonly string[] = [
  ...new Set([
    ...Object.values(READ_PERMISSIONS),
    ...ACTIONS.flatMap((action) => action.permissions),
    // Compute actions are reached through the workspace: reading a compute needs the workspace's read too.
    `${ML_RESOURCE_TYPES.workspace}/read`,
    "Microsoft.ResourceGraph/resources/read",
    // Rules that declare related diagnostic settings read them (src/pipeline/assess.ts gatherInputs).
    "Microsoft.Insights/diagnosticSettings/read",
  ]),
].sort();

/**
 * On the Log Analytics workspace the traffic-log fix targets: creating a diagnostic setting that sends to a workspace
 * needs these two there (Azure Monitor "Manage access to Log Analytics workspaces", custom role example "configure
 * their resources to send logs to the Log Analytics workspace"). infra/ grants exactly these, on that workspace only.
 */
export const LOG_ANALYTICS_TARGET_ACTIONS: readonly string[] = ["Microsoft.OperationalInsights/workspaces/read", "Microsoft.OperationalInsights/workspaces/sharedKeys/action"];
