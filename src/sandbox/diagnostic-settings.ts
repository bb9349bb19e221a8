import { isJsonObject, type JsonObject, type JsonValue } from "../arm/resource.js";
import { ArmSandboxError } from "./arm-errors.js";

export const DIAGNOSTIC_SETTINGS_API_VERSIONS = ["2021-05-01-preview"];
const PATH = /^(\/subscriptions\/.+)\/providers\/Microsoft\.Insights\/diagnosticSettings(?:\/([^/]+))?$/i;

/**
 * Microsoft.Insights/diagnosticSettings, the extension resource on any ARM resource (api-version 2021-05-01-preview):
 * list `{value:[…]}`, GET, PUT (synchronous 200) with `{properties:{workspaceId, logs:[{category|categoryGroup,
 * enabled}]}}`. A PUT needs a destination and at least one log or metric, as Azure Monitor requires.
 */
export class DiagnosticSettingsEmulator {
  private readonly settings = new Map<string, Map<string, JsonObject>>();

  matches(path: string): boolean {
    return PATH.test(path);
  }

  handle(method: string, path: string, apiVersion: string, body: JsonValue | undefined, resourceExists: (id: string) => boolean): { status: number; body: JsonObject; headers: Record<string, string> } {
    if (!DIAGNOSTIC_SETTINGS_API_VERSIONS.includes(apiVersion)) {
      throw new ArmSandboxError(400, "NoRegisteredProviderFound", `No registered resource provider found for API version '${apiVersion}' for type 'diagnosticSettings'.`);
    }
    const [, parentId, name] = PATH.exec(path)!;
    if (!resourceExists(parentId!)) throw new ArmSandboxError(404, "ResourceNotFound", `The Resource '${parentId!.slice(0, 300)}' was not found.`);
    const forParent = this.settings.get(parentId!.toLowerCase()) ?? new Map<string, JsonObject>();
    if (!name) {
      if (method !== "GET") throw new ArmSandboxError(405, "MethodNotAllowed", `The requested resource does not support http method '${method}'.`);
      return { status: 200, body: { value: [...forParent.values()] }, headers: {} };
    }
    if (method === "GET") {
      const found = forParent.get(name.toLowerCase());
      if (!found) throw new ArmSandboxError(404, "ResourceNotFound", `The diagnostic setting '${name}' doesn't exist.`);
      return { status: 200, body: found, headers: {} };
    }
    if (method !== "PUT") throw new ArmSandboxError(405, "MethodNotAllowed", `The requested resource does not support http method '${method}'.`);
    const properties = isJsonObject(body) && isJsonObject(body.properties) ? body.properties : undefined;
    const hasDestination = properties && ["workspaceId", "storageAccountId", "eventHubAuthorizationRuleId"].some((k) => typeof properties[k] === "string");
    const hasData = properties && ((Array.isArray(properties.logs) && properties.logs.length > 0) || (Array.isArray(properties.metrics) && properties.metrics.length > 0));
    if (!properties || !hasDestination || !hasData) {
      throw new ArmSandboxError(400, "BadRequest", "A diagnostic setting needs a destination and at least one log or metric category.");
    }
    const setting: JsonObject = { id: `${parentId}/providers/microsoft.insights/diagnosticSettings/${name}`, type: "Microsoft.Insights/diagnosticSettings", name, properties };
    forParent.set(name.toLowerCase(), setting);
    this.settings.set(parentId!.toLowerCase(), forParent);
    return { status: 200, body: setting, headers: {} };
  }
}
