import type { HttpResponseInit } from "@azure/functions";

/** What the approval page needs to sign a person in (Entra, authorization code + PKCE) and call amlguard's API. */
export interface ApprovalPageInput {
  proposalId: string;
  config: { tenantId: string; clientId: string; authorityHost: string; apiScope: string; apiBase: string };
}

const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

/**
 * The page a proposal's link opens (GET /api/proposals/{id} from a browser, without a token). This version says that
 * signing in is required and how to decide from a terminal; the browser sign-in replaces its body.
 */
export function approvalPageResponse(input: ApprovalPageInput): HttpResponseInit {
  const id = escapeHtml(input.proposalId);
  const body = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>amlguard proposal ${id}</title></head>
<body><main><h1>amlguard proposal</h1><p>Sign-in is required to review proposal <code>${id}</code>.</p>
<p>From a terminal: <code>amlguard proposals show ${id}</code>, then <code>amlguard proposals approve ${id}</code>.</p></main></body></html>`;
  return {
    status: 200,
    body,
    headers: {
      "Content-Type": "text/html; charset=utf-8",
      "Cache-Control": "no-store",
      "X-Content-Type-Options": "nosniff",
      "Content-Security-Policy": "default-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'",
      "Referrer-Policy": "no-referrer",
    },
  };
}
