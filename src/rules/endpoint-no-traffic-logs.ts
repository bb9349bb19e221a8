import { isJsonObject, readPath, type JsonObject } from "../arm/resource.js";
import { fail, NOT_APPLICABLE, PASS, type Rule } from "./rule.js";

/** The resource-log category Azure ML emits per online endpoint (Azure Monitor table AmlOnlineEndpointTrafficLog). */
export const TRAFFIC_LOG_CATEGORY = "AmlOnlineEndpointTrafficLog";

/** Whether any diagnostic setting sends the endpoint's traffic log (or all logs) to the given Log Analytics workspace. */
export function sendsTrafficLogs(settings: readonly JsonObject[], workspaceResourceId: string): boolean {
  return settings.some((setting) => {
    const destination = readPath(setting, "properties.workspaceId");
    if (typeof destination !== "string" || destination.toLowerCase() !== workspaceResourceId.toLowerCase()) return false;
    const logs = readPath(setting, "properties.logs");
    return Array.isArray(logs) && logs.some((log) => isJsonObject(log) && log.enabled === true && (log.category === TRAFFIC_LOG_CATEGORY || log.categoryGroup === "allLogs"));
  });
}

/**
 * Coverage for the spike detector: it only sees endpoint 401/403s that reach its Log Analytics workspace, and Azure ML
 * sends AmlOnlineEndpointTrafficLog there only through the endpoint's own diagnostic settings.
 */
export const endpointNoTrafficLogs: Rule = {
  id: "endpoint-no-traffic-logs",
  title: "Online endpoint traffic logs do not reach the spike detector",
  severity: "medium",
  appliesTo: ["onlineEndpoint"],
  categories: ["logging"],
  rationale: "Without AmlOnlineEndpointTrafficLog in the monitored Log Analytics workspace, brute force against the endpoint goes unseen.",
  remediation: {
    prose: "Add a diagnostic setting on the online endpoint sending AmlOnlineEndpointTrafficLog to the Log Analytics workspace amlguard queries.",
    az: "az monitor diagnostic-settings create --resource <endpoint id> --name amlguard-traffic-logs --workspace <log analytics workspace id> --logs '[{\"category\":\"AmlOnlineEndpointTrafficLog\",\"enabled\":true}]'",
    bicep: "resource traffic 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = { scope: endpoint, name: 'amlguard-traffic-logs', properties: { workspaceId: logAnalytics.id, logs: [ { category: 'AmlOnlineEndpointTrafficLog', enabled: true } ] } }",
  },
  compliance: { azurePolicy: [], mcsb: ["LT-3"], cis: [] },
  fix: "add-traffic-log-setting",
  related: ["diagnosticSettings"],
  references: ["https://learn.microsoft.com/azure/machine-learning/monitor-resource-reference#resource-logs"],
  evaluate(resource, inputs) {
    // Only meaningful when a spike detector workspace is configured: the setting names it as its destination.
    if (!inputs?.spikeWorkspaceResourceId) return NOT_APPLICABLE;
    const settings = inputs.diagnosticSettings ?? [];
    if (sendsTrafficLogs(settings, inputs.spikeWorkspaceResourceId)) return PASS;
    return fail(`no diagnostic setting sends ${TRAFFIC_LOG_CATEGORY} to ${inputs.spikeWorkspaceResourceId.split("/").pop() ?? "the workspace"}`, {
      diagnosticSettings: settings.length,
      "destination.workspaceId": inputs.spikeWorkspaceResourceId,
    });
  },
};
