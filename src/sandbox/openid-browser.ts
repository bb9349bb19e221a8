import { createHash, randomBytes, randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { SandboxPrincipal } from "./events.js";

/**
 * The browser sign-in of the sandbox's Entra authority: the authorization code flow with PKCE that a single-page
 * application (the approval page, through @azure/msal-browser) runs against Microsoft Entra, at Entra's v2.0 paths.
 *
 * Sources: "Microsoft identity platform and OAuth 2.0 authorization code flow"
 * (learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow: `/{tenant}/oauth2/v2.0/authorize` and
 * `/{tenant}/oauth2/v2.0/token`, parameters, the code's ~10-minute life, the response with `client_info` when asked
 * for, SPA redirect URIs redeemed cross-origin with CORS); RFC 6749 §4.1 (authorization code grant: a code is used
 * once, bound to the client and redirect URI; §4.1.2.1: an unregistered redirect URI is never redirected to); RFC
 * 7636 (PKCE: §4.2 S256 is BASE64URL(SHA256(code_verifier)), §4.6 the server compares); OpenID Connect Core 1.0
 * §3.1.3.7 (ID token `iss`, `sub`, `aud` = client id, `nonce` echoed). Error codes are Entra's (reference-error-codes):
 * AADSTS700016, 50011, 9002325, 9002327, 70008, 54005, 501481, 50149, 501491, 70011.
 *
 * What differs: the sign-in page. Entra asks for credentials (and MFA); here the person picks one of the sandbox's
 * accounts. It stands in for Entra's login UI only: everything after it (the code, PKCE, the token exchange, the
 * tokens) is the protocol as Entra runs it. No refresh tokens are issued (the page signs in again instead), and the
 * sandbox takes only S256 challenges (Entra also takes `plain`; MSAL always sends S256).
 */

/** A single-page application registration: its client id and its SPA-platform redirect URIs. */
export interface SpaRegistration {
  clientId: string;
  redirectUris: string[];
}

/** An API registration: its client id (the `aud` of v2.0 tokens), app id URI, and the delegated scopes it exposes. */
export interface ApiRegistration {
  clientId: string;
  identifierUri: string;
  scopes: string[];
}

/** Someone who can sign in, with the API's app roles and the groups assigned to them. */
export interface SignInAccount {
  principal: SandboxPrincipal;
  roles?: string[];
  groups?: string[];
}

/** What the browser flow needs of the authority: its tenant and its signer. */
export interface TokenIssuer {
  readonly tenantId: string;
  mintAccessToken(principal: SandboxPrincipal, options: { audience: string; roles?: string[]; groups?: string[]; extraClaims?: Record<string, unknown> }): Promise<string>;
  mintIdToken(principal: SandboxPrincipal, options: { clientId: string; nonce?: string }): Promise<string>;
}

interface IssuedCode {
  clientId: string;
  redirectUri: string;
  codeChallenge: string;
  api: ApiRegistration;
  scopes: string[];
  openid: boolean;
  nonce?: string;
  account: SignInAccount;
  issuedAtMs: number;
  redeemed: boolean;
}

/** Entra's authorization codes live about ten minutes (v2-oauth2-auth-code-flow, "Request an access token"). */
export const AUTHORIZATION_CODE_LIFETIME_MS = 10 * 60_000;
const TOKEN_LIFETIME_SECONDS = 3600;
const OIDC_SCOPES = new Set(["openid", "profile", "offline_access", "email"]);
export const BROWSER_PATH = /^\/([^/]+)\/oauth2\/v2\.0\/(authorize|token)$/i;

class FlowError extends Error {
  constructor(
    readonly error: string,
    readonly code: number | undefined,
    message: string,
  ) {
    super(code ? `AADSTS${code}: ${message}` : message);
  }
}

export class SandboxBrowserSignIn {
  private readonly spas = new Map<string, SpaRegistration>();
  private readonly apis: ApiRegistration[] = [];
  private readonly accounts: SignInAccount[] = [];
  private readonly codes = new Map<string, IssuedCode>();
  /** What happened, for tests: codes issued, tokens issued, and each refusal's message. */
  readonly log = { codesIssued: 0, tokensIssued: 0, refusals: [] as string[] };
  /** The clock codes expire by (milliseconds); tests inject one so that expiry needs no waiting. */
  now: () => number = Date.now;

  constructor(private readonly issuer: TokenIssuer) {}

  registerSpa(spa: SpaRegistration): this {
    this.spas.set(spa.clientId.toLowerCase(), spa);
    return this;
  }

  registerApi(api: ApiRegistration): this {
    this.apis.push(api);
    return this;
  }

  addAccount(account: SignInAccount): this {
    this.accounts.push(account);
    return this;
  }

  /** `/{tenant}/oauth2/v2.0/authorize` (GET: the sign-in page; POST: the account picked) or `/token` (POST, OPTIONS). */
  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const [, , endpoint] = BROWSER_PATH.exec(url.pathname)!;
    const method = (req.method ?? "GET").toUpperCase();
    if (endpoint!.toLowerCase() === "token") return this.token(req, res, method);
    if (method !== "GET" && method !== "POST") return send(res, 405, "text/plain; charset=utf-8", "Method not allowed");
    let request: AuthorizeRequest;
    try {
      request = this.authorizeRequest(url.searchParams);
    } catch (error) {
      // RFC 6749 §4.1.2.1: without a known client and registered redirect URI, show the error; never redirect.
      const message = error instanceof FlowError ? error.message : "invalid request";
      this.log.refusals.push(message);
      return send(res, 400, "text/html; charset=utf-8", page("Sign-in error", `<p role="alert">${escapeHtml(message)}</p>`));
    }
    try {
      request.validate();
      if (method === "GET") return send(res, 200, "text/html; charset=utf-8", this.signInPage(url));
      const form = new URLSearchParams((await readText(req)) ?? "");
      const account = this.accounts.find((a) => a.principal.objectId === form.get("account"));
      if (!account) throw new FlowError("access_denied", undefined, "no such account in the sandbox tenant");
      const code = randomBytes(32).toString("base64url");
      this.codes.set(code, { ...request.bound, account, issuedAtMs: this.now(), redeemed: false });
      this.log.codesIssued += 1;
      redirect(res, request.respond({ code, state: request.state, client_info: clientInfo(account.principal, this.issuer.tenantId), session_state: randomUUID() }));
    } catch (error) {
      const flow = error instanceof FlowError ? error : new FlowError("server_error", undefined, "the sandbox could not sign in");
      this.log.refusals.push(flow.message);
      redirect(res, request.respond({ error: flow.error, error_description: flow.message, state: request.state }));
    }
  }

  private authorizeRequest(params: URLSearchParams): AuthorizeRequest {
    const clientId = params.get("client_id") ?? "";
    const spa = this.spas.get(clientId.toLowerCase());
    if (!spa) throw new FlowError("unauthorized_client", 700016, `Application with identifier '${clientId.slice(0, 64)}' was not found in the directory '${this.issuer.tenantId}'.`);
    const redirectUri = params.get("redirect_uri") ?? "";
    if (!spa.redirectUris.includes(redirectUri)) {
      throw new FlowError("invalid_request", 50011, `The redirect URI '${redirectUri.slice(0, 200)}' specified in the request does not match the redirect URIs configured for the application '${spa.clientId}'.`);
    }
    const scopes = (params.get("scope") ?? "").split(/\s+/).filter(Boolean);
    return new AuthorizeRequest(spa, redirectUri, params, scopes, this.apis);
  }

  private signInPage(url: URL): string {
    const action = `${url.pathname}${url.search}`;
    const buttons = this.accounts
      .map((a) => `<li><button type="submit" name="account" value="${escapeHtml(a.principal.objectId)}">${escapeHtml(a.principal.name)}</button></li>`)
      .join("");
    return page(
      "Sign in (sandbox)",
      `<h1>Sign in</h1><p>Sandbox tenant ${escapeHtml(this.issuer.tenantId)}. This page stands in for Microsoft Entra's sign-in: pick an account.</p>` +
        `<form method="post" action="${escapeHtml(action)}"><ul>${buttons}</ul></form>`,
    );
  }

  private async token(req: IncomingMessage, res: ServerResponse, method: string): Promise<void> {
    const origin = typeof req.headers.origin === "string" ? req.headers.origin : undefined;
    const cors: Record<string, string> = origin && this.isSpaOrigin(origin) ? { "Access-Control-Allow-Origin": origin, Vary: "Origin" } : {};
    if (method === "OPTIONS") {
      const requested = String(req.headers["access-control-request-headers"] ?? "");
      return send(res, 204, undefined, undefined, { ...cors, ...(requested ? { "Access-Control-Allow-Headers": requested } : {}), "Access-Control-Allow-Methods": "POST", "Access-Control-Max-Age": "600" });
    }
    if (method !== "POST") return send(res, 405, "text/plain; charset=utf-8", "Method not allowed", cors);
    try {
      const body = new URLSearchParams((await readText(req)) ?? "");
      const answer = await this.redeem(body, origin);
      this.log.tokensIssued += 1;
      send(res, 200, "application/json; charset=utf-8", JSON.stringify(answer), { ...cors, "Cache-Control": "no-store", Pragma: "no-cache" });
    } catch (error) {
      const flow = error instanceof FlowError ? error : new FlowError("server_error", undefined, "the sandbox could not issue a token");
      this.log.refusals.push(flow.message);
      const body = { error: flow.error, error_description: flow.message, error_codes: flow.code ? [flow.code] : [], timestamp: new Date().toISOString(), trace_id: randomUUID(), correlation_id: randomUUID() };
      send(res, 400, "application/json; charset=utf-8", JSON.stringify(body), cors);
    }
  }

  private async redeem(body: URLSearchParams, origin: string | undefined): Promise<Record<string, unknown>> {
    if (body.get("grant_type") !== "authorization_code") throw new FlowError("unsupported_grant_type", undefined, "the sandbox redeems authorization codes only (it issues no refresh tokens)");
    const issued = this.codes.get(body.get("code") ?? "");
    if (!issued) throw new FlowError("invalid_grant", 70000, "The provided value for the 'code' parameter is not valid.");
    // RFC 6749 §4.1.2: a code is used once; any second attempt is refused, whatever it carries.
    if (issued.redeemed) throw new FlowError("invalid_grant", 54005, "OAuth2 Authorization code was already redeemed, please retry with a new valid code.");
    issued.redeemed = true;
    if (this.now() - issued.issuedAtMs > AUTHORIZATION_CODE_LIFETIME_MS) throw new FlowError("invalid_grant", 70008, "The provided authorization code has expired. Send a new interactive authorization request for this user and resource.");
    if ((body.get("client_id") ?? "").toLowerCase() !== issued.clientId.toLowerCase()) throw new FlowError("invalid_grant", 70000, "The code was issued to another client.");
    if (body.get("redirect_uri") !== issued.redirectUri) throw new FlowError("invalid_grant", 70000, "The redirect_uri does not match the one the code was issued for.");
    if (!origin) throw new FlowError("invalid_request", 9002327, "Tokens issued for the 'Single-Page Application' client-type may only be redeemed via cross-origin requests.");
    const verifier = body.get("code_verifier") ?? "";
    // RFC 7636 §4.1: 43 to 128 unreserved characters; §4.6: BASE64URL(SHA256(ASCII(code_verifier))) == code_challenge.
    if (!/^[A-Za-z0-9._~-]{43,128}$/.test(verifier) || createHash("sha256").update(verifier, "ascii").digest("base64url") !== issued.codeChallenge) {
      throw new FlowError("invalid_grant", 501481, "The Code_Verifier does not match the code_challenge supplied in the authorization request.");
    }
    const { principal, roles = [], groups = [] } = issued.account;
    const scp = issued.scopes.map((s) => s.slice(issued.api.identifierUri.length + 1)).join(" ");
    const accessToken = await this.issuer.mintAccessToken(principal, { audience: issued.api.clientId, roles, groups, extraClaims: { azp: issued.clientId, scp } });
    return {
      token_type: "Bearer",
      scope: issued.scopes.join(" "),
      expires_in: TOKEN_LIFETIME_SECONDS,
      ext_expires_in: TOKEN_LIFETIME_SECONDS,
      access_token: accessToken,
      ...(issued.openid ? { id_token: await this.issuer.mintIdToken(principal, { clientId: issued.clientId, ...(issued.nonce ? { nonce: issued.nonce } : {}) }) } : {}),
      client_info: clientInfo(principal, this.issuer.tenantId),
    };
  }

  /** Entra answers cross-origin token requests from the origins of SPA redirect URIs. */
  private isSpaOrigin(origin: string): boolean {
    return [...this.spas.values()].some((spa) => spa.redirectUris.some((uri) => new URL(uri).origin === origin));
  }
}

/** An authorize request whose client and redirect URI are known: the rest is checked, and answers go to the redirect URI. */
class AuthorizeRequest {
  readonly state: string | undefined;
  bound!: Omit<IssuedCode, "account" | "issuedAtMs" | "redeemed">;

  constructor(
    private readonly spa: SpaRegistration,
    private readonly redirectUri: string,
    private readonly params: URLSearchParams,
    private readonly scopes: string[],
    private readonly apis: ApiRegistration[],
  ) {
    this.state = params.get("state") ?? undefined;
  }

  validate(): void {
    const { params } = this;
    if (params.get("response_type") !== "code") throw new FlowError("unsupported_response_type", undefined, "the sandbox supports response_type=code only");
    const mode = params.get("response_mode") ?? "query";
    if (mode !== "query" && mode !== "fragment") throw new FlowError("invalid_request", undefined, `response_mode ${mode.slice(0, 20)} is not supported by the sandbox (query or fragment)`);
    const challenge = params.get("code_challenge") ?? "";
    if (!challenge) throw new FlowError("invalid_request", 9002325, "Proof Key for Code Exchange is required for cross-origin authorization code redemption.");
    const method = params.get("code_challenge_method") ?? "plain";
    if (method !== "S256" && method !== "plain") throw new FlowError("invalid_request", 50149, "Invalid Code_Challenge_method parameter.");
    // Entra also takes `plain`; the sandbox does not (RFC 7636 §4.2: S256 is mandatory to implement; MSAL sends S256).
    if (method !== "S256") throw new FlowError("invalid_request", undefined, "the sandbox takes code_challenge_method S256 only");
    if (!/^[A-Za-z0-9_-]{43}$/.test(challenge)) throw new FlowError("invalid_request", 501491, "InvalidCodeChallengeMethodInvalidSize - Invalid size of Code_Challenge parameter.");
    const resourceScopes = this.scopes.filter((s) => !OIDC_SCOPES.has(s));
    const api = this.apis.find((a) => resourceScopes.length > 0 && resourceScopes.every((s) => s.startsWith(`${a.identifierUri}/`) && a.scopes.includes(s.slice(a.identifierUri.length + 1))));
    if (!api) throw new FlowError("invalid_scope", 70011, `The provided value for the input parameter 'scope' is not valid: the sandbox issues tokens for one registered API's exposed scopes.`);
    const nonce = params.get("nonce");
    this.bound = { clientId: this.spa.clientId, redirectUri: this.redirectUri, codeChallenge: challenge, api, scopes: resourceScopes, openid: this.scopes.includes("openid"), ...(nonce ? { nonce } : {}) };
  }

  /** The redirect URI with the response in the fragment or query, as response_mode asks. */
  respond(values: Record<string, string | undefined>): string {
    const encoded = new URLSearchParams(Object.entries(values).filter((e): e is [string, string] => e[1] !== undefined)).toString();
    return `${this.redirectUri}${this.params.get("response_mode") === "fragment" ? "#" : this.redirectUri.includes("?") ? "&" : "?"}${encoded}`;
  }
}

/** Entra's `client_info`: base64url JSON of the user's object id and tenant id (MSAL builds the account id from it). */
function clientInfo(principal: SandboxPrincipal, tenantId: string): string {
  return Buffer.from(JSON.stringify({ uid: principal.objectId, utid: tenantId })).toString("base64url");
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body><main>${body}</main></body></html>`;
}

function send(res: ServerResponse, status: number, contentType: string | undefined, body: string | undefined, headers: Record<string, string> = {}): void {
  const payload = body === undefined ? undefined : Buffer.from(body);
  res.writeHead(status, {
    ...headers,
    ...(contentType ? { "Content-Type": contentType } : {}),
    "Content-Length": String(payload?.length ?? 0),
    ...(contentType?.startsWith("text/html") ? { "Content-Security-Policy": "default-src 'none'", "X-Frame-Options": "DENY" } : {}),
  });
  res.end(payload);
}

function redirect(res: ServerResponse, location: string): void {
  res.writeHead(302, { Location: location, "Content-Length": "0", "Cache-Control": "no-store" });
  res.end();
}

async function readText(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 64 * 1024) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}
