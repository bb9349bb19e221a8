import { readPath, type JsonObject } from "../arm/resource.js";
import { sendsTrafficLogs, TRAFFIC_LOG_CATEGORY } from "../rules/endpoint-no-traffic-logs.js";
import { observedStateOf, shellArg, type ActionDefinition } from "./plan.js";

/** Diagnostic settings are a Microsoft.Insights extension resource; 2021-05-01-preview is their current api-version. */
export const DIAGNOSTIC_SETTINGS_API = "2021-05-01-preview";
export const TRAFFIC_SETTING_NAME = "amlguard-traffic-logs";

export function diagnosticSettingsPath(resourceId: string): string {
  return `${resourceId}/providers/Microsoft.Insights/diagnosticSettings`;
}

/** Lists a resource's diagnostic settings (the related input of logging rules). */
export async function listDiagnosticSettings(arm: { list(path: string, apiVersion?: string): AsyncIterable<JsonObject> }, resourceId: string): Promise<JsonObject[]> {
  const settings: JsonObject[] = [];
  for await (const setting of arm.list(diagnosticSettingsPath(resourceId), DIAGNOSTIC_SETTINGS_API)) settings.push(setting);
  return settings;
}

/**
 * Adds amlguard's own diagnostic setting (a new resource, created with If-None-Match: *): no existing setting is
 * changed. If a setting already carries amlguard's name, amlguard does not touch it and a person is alerted.
 */
export const addTrafficLogSetting: ActionDefinition = {
  id: "add-traffic-log-diagnostic-setting",
  kind: "onlineEndpoint",
  intent: "add-traffic-log-setting",
  permissions: ["Microsoft.Insights/diagnosticSettings/write"],
  containsOnly: false,
  description: `add diagnostic setting ${TRAFFIC_SETTING_NAME} sending ${TRAFFIC_LOG_CATEGORY} to the spike detector's workspace`,
  afterwards: (ctx) =>
    `Nothing is exposed: ${ctx.name}'s failed calls now reach the spike detector. Add the setting to the endpoint's ` +
    `template (or your own setting sending ${TRAFFIC_LOG_CATEGORY} to that workspace), so an endpoint recreated from it has it too.`,
  plan(read, inputs) {
    const workspaceId = inputs.spikeWorkspaceResourceId;
    const settings = inputs.diagnosticSettings;
    if (!workspaceId || !settings) return { kind: "refused", detail: "no spike detector workspace is configured" };
    if (sendsTrafficLogs(settings, workspaceId)) return { kind: "already-done", detail: "a diagnostic setting already sends the traffic log" };
    if (settings.some((s) => typeof readPath(s, "name") === "string" && String(readPath(s, "name")).toLowerCase() === TRAFFIC_SETTING_NAME)) {
      return { kind: "refused", detail: `a diagnostic setting named ${TRAFFIC_SETTING_NAME} exists with other contents; amlguard does not overwrite it` };
    }
    const endpointId = read.resource.id;
    const path = `${diagnosticSettingsPath(endpointId)}/${TRAFFIC_SETTING_NAME}`;
    const intended = { [`diagnosticSettings.${TRAFFIC_SETTING_NAME}`]: { workspaceId, category: TRAFFIC_LOG_CATEGORY } };
    return {
      kind: "plan",
      plan: {
        action: addTrafficLogSetting,
        targetId: endpointId,
        before: { diagnosticSettings: settings.length },
        intended,
        observedState: `${observedStateOf(read)}|settings:${settings.length}`,
        undo: `az monitor diagnostic-settings delete --resource ${shellArg(endpointId)} --name ${TRAFFIC_SETTING_NAME}`,
        execute: async (arm) => {
          await arm.put(path, { properties: { workspaceId, logs: [{ category: TRAFFIC_LOG_CATEGORY, enabled: true }] } }, { ifNoneMatch: "*" }, DIAGNOSTIC_SETTINGS_API);
        },
        confirm: async (arm) => {
          const after = await listDiagnosticSettings(arm, endpointId);
          return { holds: sendsTrafficLogs(after, workspaceId), observed: { diagnosticSettings: after.length } };
        },
      },
    };
  },
};
