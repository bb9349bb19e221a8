import azureFunctions, { type HttpResponseInit } from "@azure/functions";
import type { HttpHandlers } from "../handlers/http.js";
import type { SandboxAuthority } from "../sandbox/openid.js";
import { newInvocationContext } from "../handlers/local-context.js";
import type { HttpStep } from "./schema.js";
import { SIMULATED_BASE_URL } from "./world.js";

// @azure/functions is CommonJS; Node's ESM loader sees only some of its named exports.
const { HttpRequest } = azureFunctions;

/** A principal of the scenario, resolved: amlguard's own identity when `self`. */
export interface SimPrincipal {
  key: string;
  objectId: string;
  appId?: string;
  name: string;
  type: "User" | "ServicePrincipal";
  roles: string[];
  groups: string[];
  self: boolean;
}

/**
 * The HTTP API's routes the harness can call, each bound to the real handler (as functions/manual.ts registers them);
 * `{name}` is a route parameter, as in the Functions host's route templates.
 */
export const HTTP_ROUTES = [
  { method: "POST", path: "/api/remediate", handler: "remediate" },
  { method: "GET", path: "/api/findings", handler: "findings" },
  { method: "POST", path: "/api/exemptions", handler: "approveExemption" },
  { method: "GET", path: "/api/exemptions", handler: "listExemptions" },
  { method: "DELETE", path: "/api/exemptions/{id}", handler: "revokeExemption" },
  { method: "GET", path: "/api/proposals", handler: "listProposals" },
  { method: "GET", path: "/api/proposals/{id}", handler: "getProposal" },
  { method: "POST", path: "/api/proposals/{id}/approve", handler: "approveProposal" },
  { method: "POST", path: "/api/proposals/{id}/reject", handler: "rejectProposal" },
] as const satisfies ReadonlyArray<{ method: string; path: string; handler: keyof HttpHandlers }>;

/** The route serving a method and path, with its parameters; undefined when amlguard serves none. */
export function routeFor(method: string, path: string): { route: (typeof HTTP_ROUTES)[number]; params: Record<string, string> } | undefined {
  for (const route of HTTP_ROUTES) {
    if (route.method !== method) continue;
    const names: string[] = [];
    const pattern = route.path.replace(/\{(\w+)\}/g, (_, name: string) => (names.push(name), "([^/]+)"));
    const match = new RegExp(`^${pattern}$`).exec(path);
    if (match) return { route, params: Object.fromEntries(names.map((name, i) => [name, match[i + 1]!])) };
  }
  return undefined;
}

/**
 * How an `http` step's caller proves who it is: the headers a real client of amlguard's API would send for that
 * principal. Today the API reads App Service authentication's `x-ms-client-principal`, so that is what a valid caller
 * carries. When in-process token validation lands, `credentialFor` mints a signed access token from the sandbox's
 * OpenID authority (`Authorization: Bearer …`) and this is the one place that changes (`callerCredentials`).
 */
export interface CallerCredentials {
  readonly kind: "app-service-header" | "entra-access-token";
  credentialFor(principal: SimPrincipal): Promise<Record<string, string>>;
}

/** App Service authentication's principal header, as Easy Auth injects it (base64 JSON claims). */
export function clientPrincipalHeader(principal: SimPrincipal): Record<string, string> {
  const claims: Array<[string, string]> = [
    ["http://schemas.microsoft.com/identity/claims/objectidentifier", principal.objectId],
    ["name", principal.name],
    ...principal.roles.map((role): [string, string] => ["roles", role]),
    ...principal.groups.map((group): [string, string] => ["groups", group]),
    ...(principal.appId ? [["appid", principal.appId] as [string, string]] : []),
  ];
  const json = { auth_typ: "aad", name_typ: "name", role_typ: "roles", claims: claims.map(([typ, val]) => ({ typ, val })) };
  return { "x-ms-client-principal": Buffer.from(JSON.stringify(json)).toString("base64") };
}

/** The credential a valid caller presents: an Entra access token minted by the sandbox's authority for the principal. */
export function callerCredentials(authority: SandboxAuthority, audience: string): CallerCredentials {
  return {
    kind: "entra-access-token",
    credentialFor: async (principal) => {
      const token = await authority.mintAccessToken(
        { objectId: principal.objectId, name: principal.name, type: principal.type, ...(principal.appId ? { appId: principal.appId } : {}) },
        { audience, roles: principal.roles, groups: principal.groups },
      );
      return { authorization: `Bearer ${token}` };
    },
  };
}

export interface HttpResult {
  status: number;
  body: unknown;
}

/** Calls the real handler with an @azure/functions HttpRequest, as the Functions host would. */
export async function callHttp(handlers: HttpHandlers, step: HttpStep["http"], caller: SimPrincipal | undefined, credentials: CallerCredentials): Promise<HttpResult> {
  const found = routeFor(step.method, step.path);
  if (!found) throw new Error(`no route ${step.method} ${step.path}`);
  const { route, params } = found;
  const auth = !caller || step.credential === "none" ? {} : step.credential === "header-only" ? clientPrincipalHeader(caller) : await credentials.credentialFor(caller);
  const hasBody = step.body !== undefined;
  const request = new HttpRequest({
    method: step.method,
    url: `${SIMULATED_BASE_URL}${step.path}`,
    query: step.query ?? {},
    params,
    headers: { ...(hasBody ? { "content-type": "application/json" } : {}), ...(step.accept ? { accept: step.accept } : {}), ...auth },
    ...(hasBody ? { body: { string: typeof step.body === "string" ? step.body : JSON.stringify(step.body) } } : {}),
  });
  const response: HttpResponseInit = await handlers[route.handler](request, newInvocationContext(route.handler));
  return { status: response.status ?? 200, body: response.jsonBody ?? (typeof response.body === "string" ? response.body : null) };
}
