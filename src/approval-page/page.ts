import type { HttpResponseInit } from "@azure/functions";

/** Where the page signs people in and what it asks for: everything the browser needs, nothing secret. */
export interface ApprovalPageConfig {
  /** The Entra tenant (AMLGUARD_AUTH_TENANT_ID). */
  tenantId: string;
  /** The approval page's single-page application registration (AMLGUARD_APPROVAL_CLIENT_ID). */
  clientId: string;
  /** https://login.microsoftonline.com, a sovereign cloud's, or the sandbox's (AMLGUARD_AUTH_AUTHORITY_HOST). */
  authorityHost: string;
  /** The delegated scope of amlguard's API the page asks a token for (approvalApiScope). */
  apiScope: string;
  /** Where amlguard's HTTP API is, as the browser reaches it: "/api" on the Function App itself. */
  apiBase: string;
}

export interface ApprovalPageInput {
  proposalId: string;
  config: ApprovalPageConfig;
}

/** The page's own files and the library it loads, served by the Function App (src/approval-page/assets.ts). */
export const ASSET_ROUTE = "approval-page";
/** The fixed redirect URI registered on the SPA app: MSAL returns from Entra there, then back to the proposal's page. */
export const SIGNED_IN_FILE = "signed-in";

/**
 * Content-Security-Policy of the pages: scripts and styles only from the Function App itself (no inline script, no
 * CDN), API calls to the Function App and the authority's token endpoint, no framing, forms nowhere.
 */
export function contentSecurityPolicy(authorityHost: string): string {
  const authority = new URL(authorityHost).origin;
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    // data: for the empty icon only (no favicon request, no 404 in the console).
    "img-src 'self' data:",
    `connect-src 'self' ${authority}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/**
 * GET /api/proposals/{id} in a browser (no Authorization header, Accept: text/html): the approval page. It holds no
 * proposal data: the page signs the person in (authorization code + PKCE through @azure/msal-browser) and reads the
 * proposal with their token, so what it shows is exactly what the API lets that person see.
 */
export function approvalPageResponse(input: ApprovalPageInput): HttpResponseInit {
  return htmlResponse(input.config, { ...input.config, proposalId: input.proposalId, mode: "proposal" }, PROPOSAL_BODY, "amlguard: review a proposed change");
}

/** GET /api/approval-page/signed-in: where Entra returns the person; MSAL then goes back to the page they came from. */
export function signedInPageResponse(config: ApprovalPageConfig): HttpResponseInit {
  return htmlResponse(config, { ...config, mode: "signed-in" }, SIGNED_IN_BODY, "amlguard: signing in");
}

/** The delegated scope the page asks for: `{app id URI}/user_impersonation` of amlguard's API (README: approval page). */
export function approvalApiScope(audience: string): string {
  const appIdUri = /^(api|https):\/\//i.test(audience) ? audience.replace(/\/+$/, "") : `api://${audience}`;
  return `${appIdUri}/user_impersonation`;
}

function htmlResponse(config: ApprovalPageConfig, pageConfig: Record<string, string>, body: string, title: string): HttpResponseInit {
  const base = config.apiBase.replace(/\/+$/, "");
  const asset = (file: string) => escapeAttribute(`${base}/${ASSET_ROUTE}/${file}`);
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${title}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${asset("approval.css")}">
<script type="application/json" id="amlguard-config">${jsonForScriptBlock(pageConfig)}</script>
<script src="${asset("msal-browser.min.js")}" defer></script>
<script src="${asset("approval.js")}" defer></script>
</head>
<body>
${body}
</body>
</html>
`;
  return {
    status: 200,
    body: html,
    headers: {
      "Content-Type": "text/html; charset=utf-8",
      "Content-Security-Policy": contentSecurityPolicy(config.authorityHost),
      "Cache-Control": "no-store",
      "X-Content-Type-Options": "nosniff",
      "Referrer-Policy": "no-referrer",
      "X-Frame-Options": "DENY",
    },
  };
}

/** JSON inside <script type="application/json">: `<` escaped so that no value can close the element. */
function jsonForScriptBlock(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c").replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029");
}

function escapeAttribute(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const SIGNED_IN_BODY = `<main>
<h1>Signing you in</h1>
<p id="status" role="status" aria-live="polite">Completing the sign-in…</p>
<noscript><p>This page needs JavaScript to sign you in.</p></noscript>
</main>`;

/** The page's structure; approval.js fills it with text only (textContent), never HTML. */
const PROPOSAL_BODY = `<header>
<p class="product">amlguard</p>
<h1>Review a change amlguard proposes</h1>
<p id="account" class="account" hidden>Signed in as <span id="account-name"></span>. <button type="button" id="switch-account" class="link">Use another account</button></p>
</header>
<main>
<noscript><p>This page needs JavaScript: it signs you in with Microsoft Entra and asks amlguard's API for the proposal.</p></noscript>
<p id="status" role="status" aria-live="polite">Loading…</p>
<section id="sign-in" aria-labelledby="sign-in-heading" hidden>
<h2 id="sign-in-heading">Sign in</h2>
<p>Sign in with your organisation's account to see the proposal. Only a person with the right role, other than the one whose change it answers, can approve it.</p>
<button type="button" id="sign-in-button">Sign in with Microsoft Entra</button>
</section>
<section id="proposal" aria-labelledby="proposal-heading" hidden>
<h2 id="proposal-heading"><span id="proposal-kind"></span> <span id="proposal-status" class="badge"></span></h2>
<dl class="facts">
<dt>Resource</dt><dd><code id="resource-id" class="wrap"></code></dd>
<dt>Triggered by</dt><dd id="requested-by"></dd>
<dt>Proposed</dt><dd id="created-at"></dd>
<dt>Expires</dt><dd id="expires-at"></dd>
<dt>Observed state</dt><dd><code id="observed-etag" class="wrap"></code></dd>
</dl>
<h3>Findings</h3>
<ul id="findings" class="findings"></ul>
<div id="change" hidden>
<h3>Planned change</h3>
<p id="action-description"></p>
<table class="change">
<caption class="visually-hidden">Each property the change writes, before and after</caption>
<thead><tr><th scope="col">Property</th><th scope="col">Now</th><th scope="col">After approval</th></tr></thead>
<tbody id="change-rows"></tbody>
</table>
<h3 id="undo-heading">Undo</h3>
<pre aria-labelledby="undo-heading"><code id="undo"></code></pre>
</div>
<div id="exemption" hidden>
<h3>Exemption asked for</h3>
<dl class="facts">
<dt>Rules</dt><dd id="exemption-rules"></dd>
<dt>Reason given</dt><dd id="exemption-reason"></dd>
<dt>Until</dt><dd id="exemption-expires"></dd>
</dl>
</div>
<div id="outcome" hidden>
<h3>Decision</h3>
<p id="outcome-text"></p>
</div>
<p class="cli">From a terminal: <code id="cli-approve"></code></p>
</section>
<section id="decide" aria-labelledby="decide-heading" hidden>
<h2 id="decide-heading">Decide</h2>
<div class="actions">
<button type="button" id="approve-button" class="primary"></button>
</div>
<form id="reject-form" novalidate>
<label for="reject-reason">Reason for rejecting (kept in the audit trail)</label>
<textarea id="reject-reason" name="reason" rows="2" maxlength="500" aria-describedby="reject-help"></textarea>
<p id="reject-help" class="help">Required to reject; up to 500 characters.</p>
<button type="submit" id="reject-button">Reject</button>
</form>
</section>
<section id="exempt" aria-labelledby="exempt-heading" hidden>
<h2 id="exempt-heading">Exempt instead…</h2>
<p>Instead of the fix, exempt this resource from <span id="exempt-rules"></span> until a date you choose: amlguard leaves these findings alone until then, and this proposal is closed with nothing written. Needs the AmlGuard.Exempt role; the person who made the change may not exempt it.</p>
<form id="exempt-form" novalidate>
<label for="exempt-until">Exempt until (the last day, UTC)</label>
<input type="date" id="exempt-until" name="until" required aria-describedby="exempt-until-help">
<p id="exempt-until-help" class="help"></p>
<label for="exempt-reason">Reason for the exemption (kept in the audit trail)</label>
<textarea id="exempt-reason" name="reason" rows="2" maxlength="500" aria-describedby="exempt-reason-help"></textarea>
<p id="exempt-reason-help" class="help">Required: 3 to 500 characters.</p>
<button type="submit" id="exempt-button">Exempt instead</button>
</form>
</section>
<section aria-labelledby="result-heading">
<h2 id="result-heading" class="visually-hidden">Result</h2>
<div id="result" role="alert" aria-live="assertive"></div>
</section>
</main>`;
