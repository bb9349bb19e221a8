import { request } from "node:https";
import { createRemoteJWKSet, customFetch, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from "jose";

/** Who may call amlguard's HTTP API: tokens from this tenant, for this API. */
export interface EntraAuthSettings {
  tenantId: string;
  /** Accepted `aud` values: the API's client id (what v2.0 tokens carry) and, if wanted, its app id URI. */
  audiences: string[];
  /** https://login.microsoftonline.com, or a sovereign cloud's or the sandbox's. */
  authorityHost: string;
}

/** The caller, from a validated token only. */
export interface AuthenticatedCaller {
  objectId: string;
  /** The client application (`azp`; `appid` in v1.0 tokens). */
  appId?: string;
  name?: string;
  roles: string[];
  groups: string[];
  /** The token had too many groups to list (`_claim_names.groups`): group-based access cannot be decided from it. */
  groupsOverage: boolean;
}

/** A refused caller: 401 with a WWW-Authenticate challenge (RFC 6750 §3). The message never repeats the token. */
export class CallerAuthenticationError extends Error {
  override name = "CallerAuthenticationError";
  readonly status = 401;
  constructor(
    message: string,
    readonly wwwAuthenticate: string,
  ) {
    super(message);
  }
}

/** The tenant's OpenID configuration or keys could not be read: nobody can be authenticated now (503, not 401). */
export class AuthorityUnavailableError extends Error {
  override name = "AuthorityUnavailableError";
  readonly status = 503;
}

export interface ValidatorOptions {
  /** Extra CA to trust for the authority's HTTPS (the sandbox's self-signed certificate). */
  ca?: string;
  /** Allowed clock difference, seconds (default 60). */
  clockToleranceSeconds?: number;
  /** The validation clock (tests inject one); default now. */
  now?: () => Date;
}

const CLOCK_TOLERANCE_SECONDS = 60;
const FETCH_TIMEOUT_MS = 5000;
/** Entra's tokens are a few kilobytes; groups overflow to `_claim_names` past 200 groups. */
const MAX_AUTHORIZATION_CHARS = 16_384;

/**
 * Validates callers' Microsoft Entra access tokens in-process, as "Protected web API: verify scopes and app roles"
 * and the "Access token claims reference" (learn.microsoft.com/entra/identity-platform/access-token-claims-reference)
 * ask of an API: signature (RS256) against the keys the tenant publishes (`jwks_uri` of its v2.0 OpenID
 * configuration, cached by jose and refetched when a new `kid` appears), `iss` equal to the configuration's issuer,
 * `aud` one of ours, `exp`/`nbf` with a small clock tolerance, `tid` our tenant, `ver` 2.0. Headers set by a front end
 * (`x-ms-client-principal`) are never read: without a valid token there is no caller.
 */
export class EntraTokenValidator {
  private discovery?: Promise<{ issuer: string; keys: JWTVerifyGetKey }>;
  private readonly challenge: string;

  constructor(
    private readonly settings: EntraAuthSettings,
    private readonly options: ValidatorOptions = {},
  ) {
    const authorize = `${settings.authorityHost.replace(/\/+$/, "")}/${settings.tenantId}/oauth2/v2.0/authorize`;
    this.challenge = `Bearer realm="amlguard", authorization_uri="${authorize}"`;
  }

  /** The caller named by `Authorization: Bearer …`, or a CallerAuthenticationError saying why not. */
  async authenticate(authorization: string | null | undefined): Promise<AuthenticatedCaller> {
    if (!authorization) throw new CallerAuthenticationError("No access token: send 'Authorization: Bearer <token>' for amlguard's API.", this.challenge);
    if (authorization.length > MAX_AUTHORIZATION_CHARS) throw this.refuse("the Authorization header is too long");
    const match = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*)$/i.exec(authorization.trim());
    if (!match) throw this.refuse("the Authorization header is not a bearer JSON Web Token");
    const { issuer, keys } = await this.configuration();
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(match[1]!, keys, {
        algorithms: ["RS256"],
        issuer,
        audience: this.settings.audiences,
        clockTolerance: this.options.clockToleranceSeconds ?? CLOCK_TOLERANCE_SECONDS,
        requiredClaims: ["exp", "nbf", "tid", "oid"],
        ...(this.options.now ? { currentDate: this.options.now() } : {}),
      }));
    } catch (error) {
      // Keys that cannot be fetched are nobody's fault in particular: 503 for everyone, not a refusal of this caller.
      // (A failed fetch of the key set surfaces as a non-JOSE error: the token itself was already parsed.)
      if (!(error instanceof errors.JOSEError) || error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid) {
        throw new AuthorityUnavailableError("The tenant's signing keys could not be read; callers cannot be authenticated.");
      }
      throw this.refuse(reasonOf(error));
    }
    if (payload.ver !== "2.0") throw this.refuse(`token version ${String(payload.ver).slice(0, 8)}: amlguard's API app must issue v2.0 tokens (requestedAccessTokenVersion 2)`);
    if (typeof payload.tid !== "string" || payload.tid.toLowerCase() !== this.settings.tenantId.toLowerCase()) throw this.refuse("the token is from another tenant");
    return callerOf(payload);
  }

  /**
   * The caller of an HTTP request, from its Authorization header alone: `x-ms-client-principal` and the other App
   * Service authentication headers can be sent by anyone when nothing stands in front, so they are never read.
   */
  authenticateHeaders(headers: { get(name: string): string | null }): Promise<AuthenticatedCaller> {
    return this.authenticate(headers.get("authorization"));
  }

  private refuse(reason: string): CallerAuthenticationError {
    return new CallerAuthenticationError(`Access token refused: ${reason}.`, `${this.challenge}, error="invalid_token", error_description="${reason.replace(/["\\]/g, "'")}"`);
  }

  /** The tenant's issuer and key set, fetched once; a failed fetch is retried on the next call. */
  private configuration(): Promise<{ issuer: string; keys: JWTVerifyGetKey }> {
    this.discovery ??= this.discover().catch((error: unknown) => {
      this.discovery = undefined;
      throw error;
    });
    return this.discovery;
  }

  private async discover(): Promise<{ issuer: string; keys: JWTVerifyGetKey }> {
    const { authorityHost, tenantId } = this.settings;
    const url = `${authorityHost.replace(/\/+$/, "")}/${tenantId}/v2.0/.well-known/openid-configuration`;
    const response = await httpsGet(url, this.options.ca).catch(() => {
      throw new AuthorityUnavailableError(`The OpenID configuration of tenant ${tenantId} could not be fetched from ${new URL(url).host}; callers cannot be authenticated.`);
    });
    const document = response.ok ? ((await response.json()) as { issuer?: unknown; jwks_uri?: unknown }) : undefined;
    if (typeof document?.issuer !== "string" || typeof document.jwks_uri !== "string" || !document.jwks_uri.startsWith("https://")) {
      throw new AuthorityUnavailableError(`The OpenID configuration of tenant ${tenantId} could not be read (HTTP ${response.status}); callers cannot be authenticated.`);
    }
    // Entra's configuration for a tenant names it; multi-tenant documents carry the {tenantid} placeholder.
    const issuer = document.issuer.replace("{tenantid}", tenantId);
    if (!issuer.toLowerCase().includes(`/${tenantId.toLowerCase()}/`)) throw new AuthorityUnavailableError(`The OpenID configuration's issuer does not name tenant ${tenantId}.`);
    const keys = createRemoteJWKSet(new URL(document.jwks_uri), { [customFetch]: (jwksUrl: string) => httpsGet(jwksUrl, this.options.ca) });
    return { issuer, keys };
  }
}

const validators = new Map<string, EntraTokenValidator>();

/**
 * One validator per tenant, audience set, authority and CA for the process, so the OpenID configuration and the
 * keys are fetched once per worker, not once per request.
 */
export function validatorFor(settings: EntraAuthSettings, options: Pick<ValidatorOptions, "ca"> = {}): EntraTokenValidator {
  const key = JSON.stringify([settings.authorityHost, settings.tenantId.toLowerCase(), [...settings.audiences].sort(), options.ca ?? ""]);
  let validator = validators.get(key);
  if (!validator) validators.set(key, (validator = new EntraTokenValidator(settings, options)));
  return validator;
}

function callerOf(payload: JWTPayload): AuthenticatedCaller {
  const strings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : []);
  const text = (value: unknown): string | undefined => (typeof value === "string" && value ? value : undefined);
  const claimNames = payload._claim_names;
  const appId = text(payload.azp) ?? text(payload.appid);
  const name = text(payload.name) ?? text(payload.preferred_username);
  return {
    objectId: String(payload.oid),
    ...(appId ? { appId } : {}),
    ...(name ? { name } : {}),
    roles: strings(payload.roles),
    groups: strings(payload.groups),
    groupsOverage: typeof claimNames === "object" && claimNames !== null && "groups" in claimNames,
  };
}

/** jose's refusal in the caller's terms (never the token or its claims' values). */
function reasonOf(error: unknown): string {
  if (error instanceof errors.JWTExpired) return "the token has expired";
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === "nbf") return "the token is not valid yet";
    if (error.claim === "aud") return "the token is for another audience";
    if (error.claim === "iss") return "the token is from another issuer";
    return `the token's '${error.claim.slice(0, 40)}' claim is missing or wrong`;
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return "the token is not signed with RS256";
  if (error instanceof errors.JWSSignatureVerificationFailed) return "the token's signature does not verify";
  if (error instanceof errors.JWKSNoMatchingKey) return "the token is signed with a key the tenant does not publish";
  if (error instanceof errors.JOSEError) return "the token is malformed";
  return "the token could not be validated";
}

/** A GET over node:https (so an extra CA can be trusted), answered as a fetch Response. */
function httpsGet(url: string, ca: string | undefined): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: "GET", headers: { Accept: "application/json" }, timeout: FETCH_TIMEOUT_MS, ...(ca ? { ca } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve(new Response(Buffer.concat(chunks), { status: res.statusCode ?? 502, headers: { "content-type": String(res.headers["content-type"] ?? "application/json") } })));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`No answer from ${new URL(url).host} in ${FETCH_TIMEOUT_MS} ms.`)));
    req.on("error", reject);
    req.end();
  });
}
