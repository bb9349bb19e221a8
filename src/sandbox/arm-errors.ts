import type { JsonObject } from "../arm/resource.js";

/** An error the ARM sandbox answers with, in ARM's `{error:{code,message}}` envelope. */
export class ArmSandboxError extends Error {
  details?: JsonObject[];
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
    /** Azure ML's front end adds an innerError with the specific cause under a generic "UserError". */
    readonly innerCode?: string,
  ) {
    super(message);
  }

  body(): JsonObject {
    const error: JsonObject = { code: this.code, message: this.message };
    if (this.innerCode) error.innerError = { code: this.innerCode };
    if (this.details) error.details = this.details;
    return { error };
  }
}

// Messages below are ARM's own wording, as seen in its responses and in
// https://learn.microsoft.com/azure/azure-resource-manager/troubleshooting/common-deployment-errors.
export const armErrors = {
  missingApiVersion: () =>
    new ArmSandboxError(400, "MissingApiVersionParameter", "The api-version query parameter (?api-version=) is required for all requests."),
  invalidApiVersion: (version: string, supported: readonly string[]) =>
    new ArmSandboxError(400, "InvalidApiVersionParameter", `The api-version '${version.slice(0, 40)}' is invalid. The supported versions are '${supported.join(",")}'.`),
  unsupportedApiVersion: (version: string, type: string, supported: readonly string[]) =>
    new ArmSandboxError(
      400,
      "NoRegisteredProviderFound",
      `No registered resource provider found for location 'global' and API version '${version}' for type '${type}'. The supported api-versions are '${supported.join(", ")}'.`,
    ),
  missingAuthorization: () =>
    new ArmSandboxError(401, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.", {
      "WWW-Authenticate": 'Bearer authorization_uri="https://login.microsoftonline.com/common", error="invalid_token", error_description="The authentication failed because of missing \'Authorization\' header."',
    }),
  invalidToken: () =>
    new ArmSandboxError(401, "InvalidAuthenticationToken", "The access token is invalid.", {
      "WWW-Authenticate": 'Bearer authorization_uri="https://login.microsoftonline.com/common", error="invalid_token", error_description="The access token is invalid."',
    }),
  subscriptionNotFound: (subscriptionId: string) =>
    new ArmSandboxError(404, "SubscriptionNotFound", `The subscription '${subscriptionId}' could not be found.`),
  resourceGroupNotFound: (name: string) =>
    new ArmSandboxError(404, "ResourceGroupNotFound", `Resource group '${name}' could not be found.`),
  resourceNotFound: (type: string, name: string, resourceGroup: string) =>
    new ArmSandboxError(
      404,
      "ResourceNotFound",
      `The Resource '${type}/${name}' under resource group '${resourceGroup}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`,
    ),
  parentNotFound: (operation: string, type: string, parentId: string) =>
    new ArmSandboxError(
      404,
      "ParentResourceNotFound",
      `Failed to perform '${operation}' on resource(s) of type '${type}', because the parent resource '${parentId}' could not be found.`,
    ),
  invalidLocation: (name: string, existing: string, resourceGroup: string, requested: string) =>
    new ArmSandboxError(
      400,
      "InvalidResourceLocation",
      `The resource '${name}' already exists in location '${existing}' in resource group '${resourceGroup}'. A resource with the same name cannot be created in location '${requested}'. Please select a new resource name.`,
    ),
  preconditionFailed: () =>
    new ArmSandboxError(412, "PreconditionFailed", "The condition specified using HTTP conditional header(s) is not met."),
  invalidJson: () => new ArmSandboxError(400, "InvalidRequestContent", "The request content was invalid and could not be deserialized."),
  tooLarge: () => new ArmSandboxError(413, "RequestEntityTooLarge", "The request content size exceeds the maximum allowed."),
  methodNotAllowed: (method: string) =>
    new ArmSandboxError(405, "MethodNotAllowed", `The requested resource does not support http method '${method}'.`),
  noRoute: (path: string) =>
    new ArmSandboxError(404, "InvalidResourceType", `The resource type could not be found for path '${path.slice(0, 200)}'.`),
  /** Azure ML's front end reports validation failures as UserError with the cause in innerError. */
  userError: (message: string, innerCode = "BadArgument") => new ArmSandboxError(400, "UserError", message, {}, innerCode),
  throttled: (retryAfterSeconds: number) =>
    new ArmSandboxError(
      429,
      "TooManyRequests",
      "The request is being throttled as the limit has been reached for operation type - Write_ObservationWindow_00:05:00.",
      { "Retry-After": String(retryAfterSeconds) },
    ),
  /**
   * ARM's own throttling (token bucket per subscription, principal and operation type): 429 with the code and
   * wording ARM answers (SubscriptionRequestsThrottled, e.g. MicrosoftDocs/azure-docs#105248) and Retry-After.
   */
  subscriptionThrottled: (operation: "write" | "delete", subscriptionId: string, principalId: string, retryAfterSeconds: number, headers: Record<string, string> = {}) =>
    new ArmSandboxError(
      429,
      "SubscriptionRequestsThrottled",
      `Number of '${operation}' requests for subscription '${subscriptionId}' actor '${principalId}' exceeded. Please try again after '${retryAfterSeconds}' seconds after additional tokens are available. Refer to https://aka.ms/arm-throttling`,
      { "Retry-After": String(retryAfterSeconds), ...headers },
    ),
  /**
   * Azure RBAC's refusal (common deployment errors above: AuthorizationFailed, 403): the message names the client,
   * its object id, the action and the scope.
   */
  authorizationFailed: (caller: { objectId: string; name: string }, method: string, path: string) =>
    new ArmSandboxError(
      403,
      "AuthorizationFailed",
      `The client '${caller.name}' with object id '${caller.objectId}' does not have authorization to perform action '${armAction(method, path)}' over scope '${path.slice(0, 400)}' or the scope is invalid. If access was recently granted, please refresh your credentials.`,
    ),
  serverError: (statusCode: 500 | 503) =>
    new ArmSandboxError(
      statusCode,
      statusCode === 503 ? "ServiceUnavailable" : "InternalServerError",
      statusCode === 503 ? "The service is temporarily unavailable. Please retry." : "An internal server error occurred. Please retry.",
    ),
};

/** The RBAC action a request needs: `{namespace}/{type}/…/{read|write|delete}`, or `{…}/{action}/action` for a POST. */
export function armAction(method: string, path: string): string {
  const segments = path.split("/").filter(Boolean);
  const at = segments.map((segment) => segment.toLowerCase()).lastIndexOf("providers");
  if (at < 0 || at + 2 >= segments.length) return `Microsoft.Resources/subscriptions/${method === "GET" ? "read" : "write"}`;
  const [namespace, ...rest] = segments.slice(at + 1);
  const types = rest.filter((_, index) => index % 2 === 0);
  const verb = { GET: "read", PUT: "write", PATCH: "write", DELETE: "delete" }[method.toUpperCase()];
  if (verb) return [namespace, ...types, verb].join("/");
  const action = rest.length % 2 === 1 ? types.pop() : "action";
  return [namespace, ...types, action, "action"].join("/");
}
