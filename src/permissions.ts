import { ML_RESOURCE_TYPES } from "./arm/resource.js";
import { TRAFFIC_LOGS_CHECK } from "./coverage/traffic-logs.js";
import { ACTIONS, READ_PERMISSIONS } from "./remediation/actions.js";

/**
 * Every ARM action amlguard's identity needs, derived from the code: each remediation action's declared permission,
 * the reads of every evaluated type, the Resource Graph query, and the traffic-log coverage check. infra/ grants exactly these in a custom role;
 * a test fails when the two disagree.
 */
export const REQUIRED_ARM_ACTIONS: readonly string[] = [
  ...new Set([
    ...Object.values(READ_PERMISSIONS),
    ...Object.values(ACTIONS).map((action) => action.permission),
    // Compute actions are reached through the workspace: reading a compute needs the workspace's read too.
    `${ML_RESOURCE_TYPES.workspace}/read`,
    "Microsoft.ResourceGraph/resources/read",
    TRAFFIC_LOGS_CHECK.readPermission,
    TRAFFIC_LOGS_CHECK.writePermission,
  ]),
].sort();
