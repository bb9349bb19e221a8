import { request } from "node:https";
import { generateKeyPair, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuthorityUnavailableError, CallerAuthenticationError, EntraTokenValidator, validatorFor, type EntraAuthSettings } from "../src/auth/entra-token.js";
import { ConfigError, loadConfig } from "../src/config.js";
import { ArmSandbox } from "../src/sandbox/arm-server.js";
import type { SandboxPrincipal } from "../src/sandbox/events.js";
import { entraIssuer } from "../src/sandbox/openid.js";

// Callers are authenticated by their Entra access token, validated in-process against the tenant's published keys
// (src/auth/entra-token.ts); the sandbox's authority (src/sandbox/openid.ts) issues real RS256 tokens, so these tests
// go through the same validation path as production. Times come from an injected clock.
const API_CLIENT_ID = "6f1c3e55-0d57-4c55-9a5e-6b7a1c0d0a11";
const NOW = new Date("2026-11-25T12:00:00Z");
const NOW_S = NOW.getTime() / 1000;
const ALICE: SandboxPrincipal = { objectId: "5e5e5e5e-1111-4000-8000-000000000005", name: "alice@contoso.example", type: "User" };
const PIPELINE: SandboxPrincipal = { objectId: "11111111-2222-4333-8444-555555555555", appId: "99999999-8888-4777-8666-555555555555", name: "ci-pipeline", type: "ServicePrincipal" };

let sandbox: ArmSandbox;
let settings: EntraAuthSettings;
let validator: EntraTokenValidator;

beforeAll(async () => {
  sandbox = await new ArmSandbox().start();
  settings = { tenantId: sandbox.authority.tenantId, audiences: [API_CLIENT_ID], authorityHost: sandbox.endpoint };
  validator = new EntraTokenValidator(settings, { ca: sandbox.ca, now: () => NOW });
});

afterAll(async () => {
  await sandbox.close();
});

function get(path: string): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    request(new URL(path, sandbox.endpoint), { ca: sandbox.ca }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString("utf8")) }));
    })
      .on("error", reject)
      .end();
  });
}

const mint = (principal: SandboxPrincipal, options: Partial<Parameters<ArmSandbox["authority"]["mintAccessToken"]>[1]> = {}): Promise<string> =>
  sandbox.authority.mintAccessToken(principal, { audience: API_CLIENT_ID, issuedAt: NOW_S - 60, ...options });

async function refusal(authorization: string | undefined): Promise<CallerAuthenticationError> {
  const error = await validator.authenticate(authorization).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CallerAuthenticationError);
  return error as CallerAuthenticationError;
}

describe("the sandbox's Entra authority (OpenID configuration, keys, tokens)", () => {
  it("serves the v2.0 OpenID configuration and key set at Entra's paths", async () => {
    const tenant = sandbox.authority.tenantId;
    const config = await get(`/${tenant}/v2.0/.well-known/openid-configuration`);
    expect(config.status).toBe(200);
    expect(config.body).toMatchObject({ issuer: entraIssuer(tenant), jwks_uri: `${sandbox.endpoint}/${tenant}/discovery/v2.0/keys`, id_token_signing_alg_values_supported: ["RS256"] });
    const keys = await get(`/${tenant}/discovery/v2.0/keys`);
    expect(keys.body.keys).toHaveLength(1);
    expect(keys.body.keys[0]).toMatchObject({ kty: "RSA", use: "sig", kid: await sandbox.authority.keyId(), e: "AQAB" });
    expect(keys.body.keys[0]).not.toHaveProperty("d");
    const unknown = await get(`/00000000-0000-4000-8000-000000000bad/v2.0/.well-known/openid-configuration`);
    expect([unknown.status, unknown.body.error]).toEqual([400, "invalid_tenant"]);
    expect(unknown.body.error_description).toMatch(/^AADSTS90002: Tenant '00000000-0000-4000-8000-000000000bad' not found/);
  });

  it("mints v2.0 access tokens with the claims Entra puts in them", async () => {
    const token = await mint(ALICE, { roles: ["AmlGuard.Remediate"], groups: ["a0a0a0a0-0000-4000-8000-000000000001"] });
    const [header, payload] = token.split(".").slice(0, 2).map((part) => JSON.parse(Buffer.from(part, "base64url").toString("utf8")));
    const keyId = await sandbox.authority.keyId();
    expect(header).toEqual({ typ: "JWT", alg: "RS256", kid: keyId, x5t: keyId });
    expect(payload).toMatchObject({
      aud: API_CLIENT_ID,
      iss: entraIssuer(sandbox.authority.tenantId),
      oid: ALICE.objectId,
      tid: sandbox.authority.tenantId,
      name: ALICE.name,
      preferred_username: ALICE.name,
      roles: ["AmlGuard.Remediate"],
      groups: ["a0a0a0a0-0000-4000-8000-000000000001"],
      ver: "2.0",
      iat: NOW_S - 60,
      nbf: NOW_S - 60,
      exp: NOW_S + 3540,
    });
    expect(typeof payload.azp).toBe("string");
  });
});

describe("in-process caller authentication (EntraTokenValidator)", () => {
  it("accepts a valid user token and returns the caller from its claims", async () => {
    const caller = await validator.authenticate(`Bearer ${await mint(ALICE, { roles: ["AmlGuard.Remediate", "AmlGuard.Read"], groups: ["a0a0a0a0-0000-4000-8000-000000000001"] })}`);
    expect(caller).toMatchObject({ objectId: ALICE.objectId, name: ALICE.name, roles: ["AmlGuard.Remediate", "AmlGuard.Read"], groups: ["a0a0a0a0-0000-4000-8000-000000000001"], groupsOverage: false });
    expect(caller.appId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("accepts an application's token (no name; azp is its app id) and reports a groups overage", async () => {
    const token = await mint(PIPELINE, { roles: ["AmlGuard.Read"], extraClaims: { _claim_names: { groups: "src1" }, _claim_sources: { src1: { endpoint: "https://graph.microsoft.com/v1.0/x" } } } });
    const caller = await validator.authenticate(`Bearer ${token}`);
    expect(caller).toEqual({ objectId: PIPELINE.objectId, appId: PIPELINE.appId, name: undefined, roles: ["AmlGuard.Read"], groups: [], groupsOverage: true });
  });

  it("reads the tenant's configuration and keys once for many callers (cached)", async () => {
    const fresh = new EntraTokenValidator(settings, { ca: sandbox.ca, now: () => NOW });
    const before = { ...sandbox.authority.served };
    for (let i = 0; i < 5; i++) await fresh.authenticate(`Bearer ${await mint(ALICE)}`);
    expect(sandbox.authority.served.configuration - before.configuration).toBe(1);
    expect(sandbox.authority.served.keys - before.keys).toBe(1);
  });

  it("one validator per tenant, audiences and authority for the process", () => {
    const first = validatorFor(settings, { ca: sandbox.ca });
    expect(validatorFor({ ...settings, audiences: [...settings.audiences] }, { ca: sandbox.ca })).toBe(first);
    expect(validatorFor({ ...settings, audiences: ["api://other"] }, { ca: sandbox.ca })).not.toBe(first);
  });

  it("refuses a missing token, and App Service's x-ms-client-principal header alone", async () => {
    const missing = await refusal(undefined);
    expect(missing.status).toBe(401);
    expect(missing.message).toMatch(/No access token/);
    expect(missing.wwwAuthenticate).toBe(`Bearer realm="amlguard", authorization_uri="${sandbox.endpoint}/${settings.tenantId}/oauth2/v2.0/authorize"`);
    const principal = Buffer.from(JSON.stringify({ auth_typ: "aad", claims: [{ typ: "roles", val: "AmlGuard.Remediate" }], name_typ: "name", role_typ: "roles" })).toString("base64");
    const headers = new Headers({ "x-ms-client-principal": principal, "x-ms-client-principal-id": ALICE.objectId, "x-ms-client-principal-name": ALICE.name });
    await expect(validator.authenticateHeaders(headers)).rejects.toBeInstanceOf(CallerAuthenticationError);
    await expect(validator.authenticate("Basic YWxpY2U6cGFzcw==")).rejects.toThrow(/not a bearer JSON Web Token/);
    await expect(validator.authenticate(`Bearer ${"a".repeat(20_000)}.b.c`)).rejects.toThrow(/too long/);
  });

  it("refuses a token signed with another key, under the tenant's key id or another", async () => {
    const { privateKey } = await generateKeyPair("RS256");
    const claims = JSON.parse(Buffer.from((await mint(ALICE, { roles: ["AmlGuard.Remediate"] })).split(".")[1]!, "base64url").toString("utf8"));
    const sameKid = await new SignJWT(claims).setProtectedHeader({ alg: "RS256", typ: "JWT", kid: await sandbox.authority.keyId() }).sign(privateKey);
    expect((await refusal(`Bearer ${sameKid}`)).message).toBe("Access token refused: the token's signature does not verify.");
    const otherKid = await new SignJWT(claims).setProtectedHeader({ alg: "RS256", typ: "JWT", kid: "attacker-key" }).sign(privateKey);
    expect((await refusal(`Bearer ${otherKid}`)).message).toMatch(/key the tenant does not publish/);
  });

  it("refuses an unsigned token (alg none) and an HMAC one", async () => {
    const claims = Buffer.from((await mint(ALICE, { roles: ["AmlGuard.Remediate"] })).split(".")[1]!, "base64url").toString("utf8");
    const none = `${Buffer.from(JSON.stringify({ alg: "none", typ: "JWT" })).toString("base64url")}.${Buffer.from(claims).toString("base64url")}.`;
    const refused = await refusal(`Bearer ${none}`);
    expect(refused.message).toMatch(/not signed with RS256/);
    expect(refused.wwwAuthenticate).toMatch(/error="invalid_token", error_description="the token is not signed with RS256"$/);
    const hmac = await new SignJWT(JSON.parse(claims)).setProtectedHeader({ alg: "HS256", kid: await sandbox.authority.keyId() }).sign(new TextEncoder().encode("x".repeat(32)));
    expect((await refusal(`Bearer ${hmac}`)).message).toMatch(/not signed with RS256/);
  });

  it("refuses expired and not-yet-valid tokens, beyond a minute of clock skew", async () => {
    expect((await refusal(`Bearer ${await mint(ALICE, { issuedAt: NOW_S - 3600 - 61, lifetimeSeconds: 3600 })}`)).message).toMatch(/has expired/);
    expect((await refusal(`Bearer ${await mint(ALICE, { issuedAt: NOW_S + 120 })}`)).message).toMatch(/not valid yet/);
    // Within the tolerance both are accepted.
    await expect(validator.authenticate(`Bearer ${await mint(ALICE, { issuedAt: NOW_S - 3600 - 30, lifetimeSeconds: 3600 })}`)).resolves.toMatchObject({ objectId: ALICE.objectId });
    await expect(validator.authenticate(`Bearer ${await mint(ALICE, { issuedAt: NOW_S + 30 })}`)).resolves.toMatchObject({ objectId: ALICE.objectId });
  });

  it("refuses another audience, another issuer, another tenant, and a v1.0 token", async () => {
    expect((await refusal(`Bearer ${await mint(ALICE, { audience: "https://management.azure.com" })}`)).message).toMatch(/another audience/);
    const otherTenant = "0e0e0e0e-0000-4000-8000-00000000beef";
    expect((await refusal(`Bearer ${await mint(ALICE, { extraClaims: { iss: entraIssuer(otherTenant) } })}`)).message).toMatch(/another issuer/);
    expect((await refusal(`Bearer ${await mint(ALICE, { extraClaims: { iss: `https://sts.windows.net/${settings.tenantId}/` } })}`)).message).toMatch(/another issuer/);
    expect((await refusal(`Bearer ${await mint(ALICE, { extraClaims: { tid: otherTenant } })}`)).message).toMatch(/another tenant/);
    expect((await refusal(`Bearer ${await mint(ALICE, { extraClaims: { ver: "1.0" } })}`)).message).toMatch(/v2\.0 tokens/);
    expect((await refusal(`Bearer ${await mint(ALICE, { extraClaims: { oid: undefined } })}`)).message).toMatch(/'oid' claim/);
  });

  it("refusals never repeat the token or its claims", async () => {
    const token = await mint(ALICE, { audience: "api://someone-else" });
    const refused = await refusal(`Bearer ${token}`);
    for (const text of [refused.message, refused.wwwAuthenticate]) {
      expect(text).not.toContain(token.split(".")[1]!);
      expect(text).not.toContain("someone-else");
      expect(text).not.toContain(ALICE.name);
    }
  });

  it("an unreadable authority is 503 for everyone, not a refusal of the caller, and is retried", async () => {
    const wrongTenant = new EntraTokenValidator({ ...settings, tenantId: "00000000-0000-4000-8000-000000000bad" }, { ca: sandbox.ca, now: () => NOW });
    const token = `Bearer ${await mint(ALICE)}`;
    await expect(wrongTenant.authenticate(token)).rejects.toBeInstanceOf(AuthorityUnavailableError);
    await expect(wrongTenant.authenticate(token)).rejects.toMatchObject({ status: 503 });
    const untrusted = new EntraTokenValidator(settings, { now: () => NOW }); // the sandbox's CA not trusted
    await expect(untrusted.authenticate(token)).rejects.toBeInstanceOf(AuthorityUnavailableError);
  });
});

describe("auth settings (AMLGUARD_AUTH_*)", () => {
  it("the sandbox's settings load as Azure's would and make a working validator", async () => {
    const config = loadConfig(sandbox.authSettings(API_CLIENT_ID));
    expect(config.auth).toEqual({ tenantId: sandbox.authority.tenantId, audiences: [API_CLIENT_ID], authorityHost: sandbox.endpoint });
    const fromConfig = new EntraTokenValidator(config.auth!, { ca: sandbox.ca, now: () => NOW });
    await expect(fromConfig.authenticate(`Bearer ${await mint(ALICE)}`)).resolves.toMatchObject({ objectId: ALICE.objectId });
  });

  it("defaults the authority to Entra's public cloud and accepts a client id and an app id URI", () => {
    const config = loadConfig({ AMLGUARD_AUTH_TENANT_ID: settings.tenantId, AMLGUARD_AUTH_AUDIENCE: `${API_CLIENT_ID}, api://amlguard` });
    expect(config.auth).toEqual({ tenantId: settings.tenantId, audiences: [API_CLIENT_ID, "api://amlguard"], authorityHost: "https://login.microsoftonline.com" });
    expect(loadConfig({}).auth).toBeUndefined();
  });

  it("bad settings are refused with a message naming the setting", () => {
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ AMLGUARD_AUTH_TENANT_ID: settings.tenantId }, /AMLGUARD_AUTH_TENANT_ID and AMLGUARD_AUTH_AUDIENCE go together/],
      [{ AMLGUARD_AUTH_AUDIENCE: API_CLIENT_ID }, /go together/],
      [{ AMLGUARD_AUTH_TENANT_ID: "contoso", AMLGUARD_AUTH_AUDIENCE: API_CLIENT_ID }, /AMLGUARD_AUTH_TENANT_ID: .*must be a GUID/],
      [{ AMLGUARD_AUTH_TENANT_ID: settings.tenantId, AMLGUARD_AUTH_AUDIENCE: "amlguard" }, /AMLGUARD_AUTH_AUDIENCE.*must be the API app's client id/],
      [{ AMLGUARD_AUTH_TENANT_ID: settings.tenantId, AMLGUARD_AUTH_AUDIENCE: API_CLIENT_ID, AMLGUARD_AUTH_AUTHORITY_HOST: "http://login.example" }, /AMLGUARD_AUTH_AUTHORITY_HOST: .*must be https/],
    ];
    for (const [env, message] of cases) {
      expect(() => loadConfig(env)).toThrow(ConfigError);
      expect(() => loadConfig(env)).toThrow(message);
    }
  });
});
