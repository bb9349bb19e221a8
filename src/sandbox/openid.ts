import { createHash, randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from "jose";
import type { JsonObject } from "../arm/resource.js";
import { SANDBOX_TENANT_ID, type SandboxPrincipal } from "./events.js";
import { BROWSER_PATH, SandboxBrowserSignIn } from "./openid-browser.js";

/** The issuer Entra puts in v2.0 access tokens and in its v2.0 OpenID configuration (`{tenant}` is the tenant id). */
export function entraIssuer(tenantId: string): string {
  return `https://login.microsoftonline.com/${tenantId}/v2.0`;
}

/**
 * The client a user's token names (`azp`) when the principal has no app id of its own: Azure CLI's public client id,
 * as for `az account get-access-token --resource <amlguard's API>`.
 */
export const SANDBOX_CLIENT_APP_ID = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";

interface SigningKey {
  privateKey: CryptoKey;
  keyId: string;
  publicJwk: JWK & { issuer: string };
}

/** What a minted token says beyond who the principal is. */
export interface MintOptions {
  /** The `aud` claim: amlguard's API (its client id; v2.0 tokens carry the client id). */
  audience: string;
  roles?: string[];
  groups?: string[];
  /** Seconds since the epoch the token is issued at (default now); tests set it to make expired tokens. */
  issuedAt?: number;
  /** Lifetime in seconds (default 3600; Entra's access tokens live 60–90 minutes). */
  lifetimeSeconds?: number;
  /** Claims to override or add, for tests of refusals (wrong tid, ver 1.0...). */
  extraClaims?: Record<string, unknown>;
}

/**
 * A local Microsoft Entra authority for one tenant: the v2.0 OpenID configuration and key set (JWKS) at Entra's
 * paths, and RS256 access tokens for sandbox principals signed with a key made on first use (nothing is committed).
 *
 * Paths and documents follow "OpenID Connect on the Microsoft identity platform"
 * (learn.microsoft.com/entra/identity-platform/v2-protocols-oidc: `/{tenant}/v2.0/.well-known/openid-configuration`,
 * `jwks_uri` `/{tenant}/discovery/v2.0/keys`, issuer `https://login.microsoftonline.com/{tenant}/v2.0`); the claims
 * follow the "Access token claims reference" (learn.microsoft.com/entra/identity-platform/access-token-claims-reference:
 * header `typ`, `alg` RS256, `kid`; payload `aud`, `iss`, `iat`, `nbf`, `exp`, `azp`, `azpacr`, `name`,
 * `preferred_username`, `oid`, `sub`, `tid`, `roles`, `groups`, `scp`, `idtyp`, `ver` "2.0"). The issuer is Entra's
 * public one even though the documents are served from the sandbox: tokens look exactly like Entra's, and the
 * validator takes the issuer from the configuration it fetched, as it does against Entra.
 */
export class SandboxAuthority {
  /** How often each document was served (tests prove the validator caches them). */
  readonly served = { configuration: 0, keys: 0 };
  private signing?: Promise<SigningKey>;
  /** The browser sign-in (authorization code + PKCE for single-page apps): openid-browser.ts. */
  readonly browser: SandboxBrowserSignIn;

  constructor(readonly tenantId: string = SANDBOX_TENANT_ID) {
    this.browser = new SandboxBrowserSignIn(this);
  }

  /**
   * The signing key, made on first use: an RSA-2048 key costs from 50 ms to a second of CPU, which sandboxes that never
   * authenticate a caller (most tests, the demo, chaos runs) should not pay at start.
   */
  private key(): Promise<SigningKey> {
    this.signing ??= (async () => {
      const { privateKey, publicKey } = await generateKeyPair("RS256", { modulusLength: 2048 });
      const jwk = await exportJWK(publicKey);
      // Entra's key ids are the certificate thumbprint (base64url); the public key's SHA-1 stands in for it.
      const keyId = createHash("sha1").update(`${jwk.n}.${jwk.e}`).digest("base64url");
      return { privateKey, keyId, publicJwk: { kty: "RSA", use: "sig", kid: keyId, x5t: keyId, n: jwk.n!, e: jwk.e!, issuer: entraIssuer(this.tenantId) } };
    })();
    return this.signing;
  }

  /** The `kid` tokens are signed under (the JWKS's only key). */
  async keyId(): Promise<string> {
    return (await this.key()).keyId;
  }

  get issuer(): string {
    return entraIssuer(this.tenantId);
  }

  /** `/{tenant}/v2.0/.well-known/openid-configuration`, `/{tenant}/discovery/v2.0/keys`, or `/{tenant}/oauth2/v2.0/authorize|token`. */
  matches(path: string): boolean {
    return /^\/[^/]+\/(v2\.0\/\.well-known\/openid-configuration|discovery\/v2\.0\/keys)$/i.test(path) || BROWSER_PATH.test(path);
  }

  /**
   * Answers a request `matches` accepted. The discovery documents carry `Access-Control-Allow-Origin: *`, as Entra's
   * do: MSAL.js fetches the OpenID configuration from the browser (msal-common Authority.ts), which only works
   * cross-origin because Entra allows it.
   */
  async serve(req: IncomingMessage, res: ServerResponse, host: string): Promise<void> {
    const url = new URL(req.url ?? "/", "https://localhost");
    const [, tenant] = /^\/([^/]+)\//.exec(url.pathname)!;
    if (BROWSER_PATH.test(url.pathname) && tenant!.toLowerCase() === this.tenantId.toLowerCase()) return this.browser.handle(req, res, url);
    const method = (req.method ?? "GET").toUpperCase();
    const { status, body } = method === "GET" || BROWSER_PATH.test(url.pathname) ? await this.document(url.pathname, host) : { status: 405, body: { error: "invalid_request" } };
    const text = JSON.stringify(body);
    res.writeHead(status, { "Content-Type": "application/json; charset=utf-8", "Content-Length": Buffer.byteLength(text), "Cache-Control": "max-age=86400, private", "Access-Control-Allow-Origin": "*" });
    res.end(text);
  }

  /** The document at `path`, or Entra's AADSTS90002 for another tenant. `host` is where the sandbox listens. */
  async document(path: string, host: string): Promise<{ status: number; body: JsonObject }> {
    const [, tenant, rest] = /^\/([^/]+)\/(.+)$/.exec(path)!;
    if (tenant!.toLowerCase() !== this.tenantId.toLowerCase()) {
      return {
        status: 400,
        body: {
          error: "invalid_tenant",
          error_description: `AADSTS90002: Tenant '${tenant!.slice(0, 64)}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`,
          error_codes: [90002],
          timestamp: new Date().toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z"),
          trace_id: randomUUID(),
          correlation_id: randomUUID(),
        },
      };
    }
    if (rest!.toLowerCase().startsWith("discovery/")) {
      this.served.keys += 1;
      return { status: 200, body: { keys: [{ ...(await this.key()).publicJwk }] } };
    }
    this.served.configuration += 1;
    const base = `${host}/${this.tenantId}`;
    return {
      status: 200,
      body: {
        token_endpoint: `${base}/oauth2/v2.0/token`,
        token_endpoint_auth_methods_supported: ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        jwks_uri: `${base}/discovery/v2.0/keys`,
        response_modes_supported: ["query", "fragment", "form_post"],
        subject_types_supported: ["pairwise"],
        id_token_signing_alg_values_supported: ["RS256"],
        response_types_supported: ["code", "id_token", "code id_token", "id_token token"],
        scopes_supported: ["openid", "profile", "email", "offline_access"],
        issuer: this.issuer,
        request_uri_parameter_supported: false,
        authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
        device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
        end_session_endpoint: `${base}/oauth2/v2.0/logout`,
        claims_supported: ["sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username", "name", "tid", "ver", "at_hash", "c_hash", "email"],
        tenant_region_scope: "EU",
        cloud_instance_name: "microsoftonline.com",
        cloud_graph_host_name: "graph.windows.net",
        msgraph_host: "graph.microsoft.com",
      },
    };
  }

  /**
   * A signed v2.0 ID token for a user signed in to `clientId` (OpenID Connect Core 1.0 §2 and Entra's "ID token
   * claims reference": `aud` the client, `nonce` echoed from the authorization request, `oid`, `tid`, `sub`).
   */
  async mintIdToken(principal: SandboxPrincipal, options: { clientId: string; nonce?: string }): Promise<string> {
    const issuedAt = Math.floor(Date.now() / 1000);
    const claims = {
      aud: options.clientId,
      iss: this.issuer,
      iat: issuedAt,
      nbf: issuedAt,
      exp: issuedAt + 3600,
      name: principal.name,
      preferred_username: principal.name,
      oid: principal.objectId,
      sub: createHash("sha256").update(`${principal.objectId}|${options.clientId}`).digest("base64url").slice(0, 43),
      tid: this.tenantId,
      ver: "2.0",
      ...(options.nonce ? { nonce: options.nonce } : {}),
    };
    const { privateKey, keyId } = await this.key();
    return new SignJWT(claims).setProtectedHeader({ typ: "JWT", alg: "RS256", kid: keyId }).sign(privateKey);
  }

  /** A signed v2.0 access token for `principal`, as Entra would issue it for amlguard's API. */
  async mintAccessToken(principal: SandboxPrincipal, options: MintOptions): Promise<string> {
    const issuedAt = options.issuedAt ?? Math.floor(Date.now() / 1000);
    const isApp = principal.type === "ServicePrincipal";
    const claims: Record<string, unknown> = {
      aud: options.audience,
      iss: this.issuer,
      iat: issuedAt,
      nbf: issuedAt,
      exp: issuedAt + (options.lifetimeSeconds ?? 3600),
      azp: principal.appId ?? SANDBOX_CLIENT_APP_ID,
      azpacr: isApp ? "1" : "0",
      oid: principal.objectId,
      // `sub` is pairwise per application; a hash of the object and audience stands in for it.
      sub: createHash("sha256").update(`${principal.objectId}|${options.audience}`).digest("base64url").slice(0, 43),
      tid: this.tenantId,
      uti: randomUUID().replace(/-/g, "").slice(0, 22),
      ver: "2.0",
      ...(isApp ? { idtyp: "app" } : { name: principal.name, preferred_username: principal.name, scp: "user_impersonation" }),
      ...(options.roles && options.roles.length > 0 ? { roles: options.roles } : {}),
      ...(options.groups && options.groups.length > 0 ? { groups: options.groups } : {}),
      ...options.extraClaims,
    };
    const { privateKey, keyId } = await this.key();
    return new SignJWT(claims).setProtectedHeader({ typ: "JWT", alg: "RS256", kid: keyId, x5t: keyId }).sign(privateKey);
  }
}
