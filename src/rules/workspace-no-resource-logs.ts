import { isJsonObject, readPath, type JsonObject } from "../arm/resource.js";
import { fail, isBooleanValue, isEmptyValue, PASS, type Rule } from "./rule.js";

/** The built-in's parameter requiredRetentionDays, at its default: retention that storage-bound logs must keep. */
export const REQUIRED_RETENTION_DAYS = 365;

/**
 * One log entry of a diagnostic setting that Azure Policy afe0c3be counts (its existenceCondition): enabled, and either
 * not bound by a retention policy (retention off, or no storage account) or retained forever (0) or long enough.
 */
function countedLog(setting: JsonObject, log: JsonObject): boolean {
  if (!isBooleanValue(log.enabled, true)) return false;
  const retention = readPath(log, "retentionPolicy.enabled");
  if (!isBooleanValue(retention, true) || isEmptyValue(readPath(setting, "properties.storageAccountId"))) return true;
  const days = Number(readPath(log, "retentionPolicy.days"));
  return days === 0 || days >= REQUIRED_RETENTION_DAYS;
}

/** Whether a diagnostic setting collects the workspace's resource logs (any enabled category or category group). */
export function collectsResourceLogs(setting: JsonObject): boolean {
  const logs = readPath(setting, "properties.logs");
  return Array.isArray(logs) && logs.some((log) => isJsonObject(log) && countedLog(setting, log));
}

export const workspaceNoResourceLogs: Rule = {
  id: "workspace-no-resource-logs",
  title: "Workspace resource logs are not collected by any diagnostic setting",
  severity: "medium",
  appliesTo: ["workspace"],
  categories: ["logging"],
  related: ["diagnosticSettings"],
  rationale:
    "Resource logs (compute, job, model and data events) are not kept unless a diagnostic setting sends them somewhere; " +
    "without them an incident on the workspace cannot be investigated.",
  remediation: {
    prose: "Add a diagnostic setting on the workspace sending the allLogs category group to a Log Analytics workspace (or storage with at least 365 days' retention).",
    az: "az monitor diagnostic-settings create --name <setting> --resource <workspace id> --workspace <log analytics workspace id> --logs '[{\"categoryGroup\":\"allLogs\",\"enabled\":true}]'",
    bicep: "resource logs 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = { scope: workspace, name: '<setting>', properties: { workspaceId: logAnalytics.id, logs: [ { categoryGroup: 'allLogs', enabled: true } ] } }",
  },
  compliance: { azurePolicy: ["afe0c3be-ba3b-4544-ba52-0c99672a8ad6"], mcsb: ["LT-3"], cis: ["6.4"] },
  references: [
    "https://learn.microsoft.com/azure/machine-learning/monitor-azure-machine-learning",
    "Azure Policy afe0c3be-ba3b-4544-ba52-0c99672a8ad6: Resource logs in Azure Machine Learning Workspaces should be enabled (requiredRetentionDays 365)",
    "CIS Microsoft Azure Foundations Benchmark v3.0.0, 6.4: Ensure that Azure Monitor Resource Logging is Enabled for All Services that Support it",
  ],
  evaluate(resource, inputs) {
    // The pipeline evaluates this rule only with the settings read (declared in `related`); never pass on none read.
    const settings = inputs?.diagnosticSettings ?? [];
    if (settings.some(collectsResourceLogs)) return PASS;
    return fail(`none of the workspace's ${settings.length} diagnostic ${settings.length === 1 ? "setting" : "settings"} collects resource logs`, {
      diagnosticSettings: settings.length,
      collectingResourceLogs: 0,
    });
  },
};
