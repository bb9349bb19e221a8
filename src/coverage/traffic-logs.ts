import { isJsonObject, readPath, type ArmResource, type JsonObject } from "../arm/resource.js";
import { exempts, readExemption } from "../pipeline/exemptions.js";
import { CHECK_IDS, TRAFFIC_LOGS_CHECK_ID } from "../rules/index.js";
import type { Alert } from "../alerts/alert.js";
import type { ActContext, Outcome, PipelineDeps } from "../pipeline/assess.js";
import { auditEntry } from "../pipeline/assess.js";
import { modeOf } from "../pipeline/settings.js";

const DIAGNOSTIC_SETTINGS_API = "2021-05-01-preview";
const SETTING_NAME = "amlguard-traffic-logs";

/**
 * Coverage: the spike detector can only see endpoint 401/403s that reach its Log Analytics workspace. Azure ML emits
 * AmlOnlineEndpointTrafficLog per online endpoint, through the endpoint's diagnostic settings; an endpoint that does
 * not send it there is a blind spot. (The issue names the check after the workspace; the setting lives on each
 * online endpoint, so that is what is checked and fixed.)
 */
export const TRAFFIC_LOGS_CHECK = {
  id: TRAFFIC_LOGS_CHECK_ID,
  title: "Online endpoint traffic logs do not reach the spike detector",
  severity: "medium" as const,
  rationale: "Without AmlOnlineEndpointTrafficLog in the monitored Log Analytics workspace, brute force against the endpoint goes unseen.",
  remediation: "Add a diagnostic setting on the online endpoint sending AmlOnlineEndpointTrafficLog to the Log Analytics workspace amlguard queries.",
  references: ["https://learn.microsoft.com/azure/machine-learning/monitor-resource-reference#resource-logs"],
  readPermission: "Microsoft.Insights/diagnosticSettings/read",
  writePermission: "Microsoft.Insights/diagnosticSettings/write",
};

/** Pure: whether any enabled diagnostic setting sends the endpoint's traffic log (or all logs) to the workspace. */
export function sendsTrafficLogs(settings: readonly JsonObject[], workspaceResourceId: string): boolean {
  return settings.some((setting) => {
    const destination = readPath(setting, "properties.workspaceId");
    if (typeof destination !== "string" || destination.toLowerCase() !== workspaceResourceId.toLowerCase()) return false;
    const logs = readPath(setting, "properties.logs");
    return Array.isArray(logs) && logs.some((log) => isJsonObject(log) && log.enabled === true && (log.category === "AmlOnlineEndpointTrafficLog" || log.categoryGroup === "allLogs"));
  });
}

/**
 * Checks each online endpoint's diagnostic settings and, in remediate mode (not dry-run), adds amlguard's own setting
 * (a new resource: nothing existing is changed). Audited and alerted like every other finding.
 */
export async function checkTrafficLogs(endpoints: readonly ArmResource[], workspaceResourceId: string, ctx: ActContext, deps: PipelineDeps): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  const mode = ctx.mode ?? modeOf(deps.settings, TRAFFIC_LOGS_CHECK.id);
  if (mode === "off") return outcomes;
  const dryRun = deps.settings.dryRun || ctx.dryRun === true;
  for (const endpoint of endpoints) {
    const endpointId = endpoint.id;
    const exemption = readExemption(endpoint, CHECK_IDS, deps.now());
    if (exempts(exemption, TRAFFIC_LOGS_CHECK.id) && exemption.kind === "valid") {
      const outcome: Outcome = { decision: "exempt", ruleId: TRAFFIC_LOGS_CHECK.id, message: `exempt until ${exemption.exemption.expires}: ${exemption.exemption.reason}` };
      outcomes.push(outcome);
      await deps.audit.record(auditEntry(ctx, endpointId, outcome));
      continue;
    }
    const settings: JsonObject[] = [];
    for await (const setting of deps.arm.list(`${endpointId}/providers/Microsoft.Insights/diagnosticSettings`, DIAGNOSTIC_SETTINGS_API)) settings.push(setting);
    if (sendsTrafficLogs(settings, workspaceResourceId)) continue;
    const record = async (outcome: Outcome, alert: Partial<Alert> & Pick<Alert, "outcome">): Promise<void> => {
      outcomes.push(outcome);
      await deps.audit.record(auditEntry({ ...ctx, dryRun }, endpointId, outcome));
      await deps.alerts.send({
        severity: TRAFFIC_LOGS_CHECK.severity,
        resourceId: endpointId,
        ruleId: TRAFFIC_LOGS_CHECK.id,
        title: TRAFFIC_LOGS_CHECK.title,
        rationale: TRAFFIC_LOGS_CHECK.rationale,
        evidence: `no diagnostic setting sends AmlOnlineEndpointTrafficLog to ${workspaceResourceId.split("/").pop()}`,
        correlationId: ctx.correlationId,
        at: deps.now().toISOString(),
        ...alert,
      });
    };
    const intended = { "diagnosticSettings.amlguard-traffic-logs": { workspaceId: workspaceResourceId, category: "AmlOnlineEndpointTrafficLog" } };
    if (mode === "alert") {
      await record({ decision: "alerted", ruleId: TRAFFIC_LOGS_CHECK.id, message: "rule mode is alert" }, { outcome: "needs-action", nextStep: TRAFFIC_LOGS_CHECK.remediation });
      continue;
    }
    if (dryRun) {
      await record({ decision: "dry-run", ruleId: TRAFFIC_LOGS_CHECK.id, before: { diagnosticSettings: settings.length }, after: intended, message: `dry-run: would add diagnostic setting ${SETTING_NAME}` }, { outcome: "dry-run", actionTaken: `would add diagnostic setting ${SETTING_NAME}` });
      continue;
    }
    if (deps.writeGate && !deps.writeGate(endpointId)) {
      outcomes.push({ decision: "deferred", ruleId: TRAFFIC_LOGS_CHECK.id, message: "write budget for this subscription is spent; the next sweep acts" });
      continue;
    }
    const path = `${endpointId}/providers/Microsoft.Insights/diagnosticSettings/${SETTING_NAME}`;
    await deps.arm.put(path, { properties: { workspaceId: workspaceResourceId, logs: [{ category: "AmlOnlineEndpointTrafficLog", enabled: true }] } }, {}, DIAGNOSTIC_SETTINGS_API);
    const confirmed: JsonObject[] = [];
    for await (const setting of deps.arm.list(`${endpointId}/providers/Microsoft.Insights/diagnosticSettings`, DIAGNOSTIC_SETTINGS_API)) confirmed.push(setting);
    const holds = sendsTrafficLogs(confirmed, workspaceResourceId);
    await record(
      { decision: holds ? "remediated" : "failed", ruleId: TRAFFIC_LOGS_CHECK.id, actionId: "add-traffic-log-diagnostic-setting", before: { diagnosticSettings: settings.length }, after: intended, message: holds ? `added diagnostic setting ${SETTING_NAME}; confirmed on read-back` : "the diagnostic setting was written but does not show on read-back" },
      holds
        ? { outcome: "remediated", actionTaken: `added diagnostic setting ${SETTING_NAME}`, undo: `az monitor diagnostic-settings delete --resource ${endpointId} --name ${SETTING_NAME}` }
        : { outcome: "failed", actionTaken: `added diagnostic setting ${SETTING_NAME}, but the read-back does not show it` },
    );
  }
  return outcomes;
}
