import type { HttpResponseInit } from "@azure/functions";
import type { AmlguardConfig } from "../config.js";
import { approvalApiScope, type ApprovalPageConfig } from "./page.js";

/** amlguard's HTTP API as the page reaches it: the Function App that served the page (host.json's default route prefix). */
export const API_BASE = "/api";

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The page's settings from the app settings: the tenant and authority of AMLGUARD_AUTH_*; the SPA registration
 * AMLGUARD_APPROVAL_CLIENT_ID, or else the API's own registration (its GUID audience: one app with the SPA platform
 * added); the scope `user_impersonation` under the API's app id URI (an `api://` audience, or `api://{client id}`).
 * Undefined when callers cannot be authenticated (no AMLGUARD_AUTH_*) or no client id can be had.
 */
export function approvalPageConfigOf(config: Pick<AmlguardConfig, "auth" | "approvalClientId">): ApprovalPageConfig | undefined {
  const auth = config.auth;
  if (!auth) return undefined;
  const apiClientId = auth.audiences.find((a) => GUID.test(a));
  const clientId = config.approvalClientId ?? apiClientId;
  const appIdUri = auth.audiences.find((a) => /^api:\/\//i.test(a)) ?? apiClientId;
  if (!clientId || !appIdUri) return undefined;
  return { tenantId: auth.tenantId, clientId, authorityHost: auth.authorityHost, apiScope: approvalApiScope(appIdUri), apiBase: API_BASE };
}

/** What a browser gets when the page cannot sign anyone in: which settings to set. */
export function approvalPageUnavailable(): HttpResponseInit {
  return {
    status: 503,
    body: "The approval page is not configured: set AMLGUARD_AUTH_TENANT_ID and AMLGUARD_AUTH_AUDIENCE (and AMLGUARD_APPROVAL_CLIENT_ID for a separate SPA registration). The CLI (amlguard proposals approve ID) works without it.\n",
    headers: { "Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff" },
  };
}
