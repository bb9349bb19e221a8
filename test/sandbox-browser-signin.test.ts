import { createHash, randomBytes } from "node:crypto";
import { request } from "node:https";
import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EntraTokenValidator } from "../src/auth/entra-token.js";
import { ArmSandbox } from "../src/sandbox/arm-server.js";
import type { SandboxPrincipal } from "../src/sandbox/events.js";
import { AUTHORIZATION_CODE_LIFETIME_MS } from "../src/sandbox/openid-browser.js";

// The sandbox authority's browser flow (src/sandbox/openid-browser.ts) over plain HTTPS: what Entra's authorize and
// token endpoints do for a single-page application with PKCE (RFC 7636), and every refusal the page could meet.
const SPA = "3a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d";
const API = "6f1c3e55-0d57-4c55-9a5e-6b7a1c0d0a11";
const REDIRECT = "https://amlguard.example/api/approval-page/signed-in";
const ORIGIN = "https://amlguard.example";
const BOB: SandboxPrincipal = { objectId: "b0b0b0b0-2222-4000-8000-000000000002", name: "bob@contoso.example", type: "User" };

let sandbox: ArmSandbox;
let clock = 1_000_000;
let tenant: string;

beforeAll(async () => {
  sandbox = await new ArmSandbox().start();
  tenant = sandbox.authority.tenantId;
  sandbox.authority.browser.now = () => clock;
  sandbox.authority.browser
    .registerSpa({ clientId: SPA, redirectUris: [REDIRECT] })
    .registerApi({ clientId: API, identifierUri: `api://${API}`, scopes: ["user_impersonation"] })
    .addAccount({ principal: BOB, roles: ["AmlGuard.Remediate"] });
});

afterAll(async () => {
  await sandbox.close();
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

function call(method: string, path: string, options: { body?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, sandbox.endpoint), { method, ca: sandbox.ca, headers: options.headers ?? {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString("utf8") }));
    });
    req.on("error", reject);
    if (options.body) req.write(options.body);
    req.end();
  });
}

function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString("base64url");
  return { verifier, challenge: createHash("sha256").update(verifier).digest("base64url") };
}

function authorizeQuery(overrides: Record<string, string | undefined> = {}, challenge = pkce().challenge): string {
  const params = { client_id: SPA, redirect_uri: REDIRECT, response_type: "code", response_mode: "fragment", scope: `api://${API}/user_impersonation openid profile offline_access`, code_challenge: challenge, code_challenge_method: "S256", state: "st-1", nonce: "n-1", ...overrides };
  return new URLSearchParams(Object.entries(params).filter((e): e is [string, string] => e[1] !== undefined)).toString();
}

/** Signs BOB in as the page would after he picked his account: the code from the redirect's fragment. */
async function signIn(challenge: string): Promise<{ code: string; fragment: URLSearchParams }> {
  const path = `/${tenant}/oauth2/v2.0/authorize?${authorizeQuery({}, challenge)}`;
  const page = await call("GET", path);
  expect(page.status).toBe(200);
  expect(page.text).toContain("bob@contoso.example");
  const picked = await call("POST", path, { body: `account=${BOB.objectId}`, headers: { "Content-Type": "application/x-www-form-urlencoded" } });
  expect(picked.status).toBe(302);
  const location = String(picked.headers.location);
  expect(location.startsWith(`${REDIRECT}#`)).toBe(true);
  const fragment = new URLSearchParams(location.split("#")[1]);
  return { code: fragment.get("code")!, fragment };
}

function redeem(code: string, verifier: string, overrides: Record<string, string> = {}, headers: Record<string, string> = { Origin: ORIGIN }): Promise<Answer> {
  const body = new URLSearchParams({ grant_type: "authorization_code", client_id: SPA, redirect_uri: REDIRECT, code, code_verifier: verifier, scope: `api://${API}/user_impersonation openid profile offline_access`, ...overrides }).toString();
  return call("POST", `/${tenant}/oauth2/v2.0/token`, { body, headers: { "Content-Type": "application/x-www-form-urlencoded;charset=utf-8", ...headers } });
}

const errorOf = (answer: Answer): { error: string; codes: number[] } => {
  const body = JSON.parse(answer.text) as { error: string; error_codes: number[] };
  return { error: body.error, codes: body.error_codes };
};

describe("the sandbox authority's browser sign-in (authorization code + PKCE)", () => {
  it("issues a code bound to the client, redirect URI and challenge, and exchanges it once for tokens amlguard's validator accepts", async () => {
    const { verifier, challenge } = pkce();
    const { code, fragment } = await signIn(challenge);
    expect(fragment.get("state")).toBe("st-1");
    expect(JSON.parse(Buffer.from(fragment.get("client_info")!, "base64url").toString())).toEqual({ uid: BOB.objectId, utid: tenant });

    const answer = await redeem(code, verifier);
    expect(answer.status).toBe(200);
    expect(answer.headers["access-control-allow-origin"]).toBe(ORIGIN);
    expect(answer.headers["cache-control"]).toBe("no-store");
    const tokens = JSON.parse(answer.text) as Record<string, string>;
    expect(tokens).toMatchObject({ token_type: "Bearer", scope: `api://${API}/user_impersonation`, expires_in: 3600 });
    expect(decodeJwt(tokens.id_token!)).toMatchObject({ aud: SPA, nonce: "n-1", oid: BOB.objectId, tid: tenant, name: BOB.name });
    expect(decodeJwt(tokens.access_token!)).toMatchObject({ aud: API, azp: SPA, scp: "user_impersonation", roles: ["AmlGuard.Remediate"] });

    const validator = new EntraTokenValidator({ tenantId: tenant, audiences: [API], authorityHost: sandbox.endpoint }, { ca: sandbox.ca });
    await expect(validator.authenticate(`Bearer ${tokens.access_token}`)).resolves.toMatchObject({ objectId: BOB.objectId, appId: SPA, roles: ["AmlGuard.Remediate"] });

    // RFC 6749 §4.1.2: a second redemption is refused.
    const again = await redeem(code, verifier);
    expect(again.status).toBe(400);
    expect(errorOf(again)).toEqual({ error: "invalid_grant", codes: [54005] });
  });

  it("refuses a verifier that does not hash to the challenge, and the code is spent by the attempt", async () => {
    const { verifier, challenge } = pkce();
    const { code } = await signIn(challenge);
    const wrong = await redeem(code, pkce().verifier);
    expect(errorOf(wrong)).toEqual({ error: "invalid_grant", codes: [501481] });
    expect(errorOf(await redeem(code, verifier)).codes).toEqual([54005]);
  });

  it("refuses a code past its lifetime on the injected clock, another client or redirect URI, and a redemption without Origin", async () => {
    const { verifier, challenge } = pkce();
    const expired = await signIn(challenge);
    clock += AUTHORIZATION_CODE_LIFETIME_MS + 1;
    expect(errorOf(await redeem(expired.code, verifier)).codes).toEqual([70008]);

    const other = await signIn(challenge);
    expect(errorOf(await redeem(other.code, verifier, { client_id: "00000000-0000-4000-8000-000000000bad" })).error).toBe("invalid_grant");
    const moved = await signIn(challenge);
    expect(errorOf(await redeem(moved.code, verifier, { redirect_uri: "https://evil.example/cb" })).error).toBe("invalid_grant");
    // Entra redeems SPA codes only cross-origin (AADSTS9002327): a server holding a stolen code gets nothing.
    const serverSide = await signIn(challenge);
    const refused = await redeem(serverSide.code, verifier, {}, {});
    expect(errorOf(refused).codes).toEqual([9002327]);
    expect(refused.headers["access-control-allow-origin"]).toBeUndefined();
  });

  it("shows an error page, never a redirect, for an unknown client or an unregistered redirect URI", async () => {
    const unknown = await call("GET", `/${tenant}/oauth2/v2.0/authorize?${authorizeQuery({ client_id: "00000000-0000-4000-8000-000000000bad" })}`);
    expect(unknown.status).toBe(400);
    expect(unknown.text).toContain("AADSTS700016");
    const mismatch = await call("GET", `/${tenant}/oauth2/v2.0/authorize?${authorizeQuery({ redirect_uri: "https://evil.example/cb" })}`);
    expect(mismatch.status).toBe(400);
    expect(mismatch.text).toContain("AADSTS50011");
    expect(mismatch.headers.location).toBeUndefined();
  });

  it("answers other mistakes at the redirect URI: no PKCE, plain PKCE, a scope no API exposes", async () => {
    const cases: Array<[Record<string, string | undefined>, string]> = [
      [{ code_challenge: undefined, code_challenge_method: undefined }, "AADSTS9002325"],
      [{ code_challenge_method: "plain" }, "S256"],
      [{ code_challenge_method: "S512" }, "AADSTS50149"],
      [{ code_challenge: "too-short" }, "AADSTS501491"],
      [{ scope: "api://someone-else/user_impersonation openid" }, "AADSTS70011"],
    ];
    for (const [overrides, expected] of cases) {
      const answer = await call("POST", `/${tenant}/oauth2/v2.0/authorize?${authorizeQuery(overrides)}`, { body: `account=${BOB.objectId}`, headers: { "Content-Type": "application/x-www-form-urlencoded" } });
      expect(answer.status).toBe(302);
      const fragment = new URLSearchParams(String(answer.headers.location).split("#")[1]);
      expect(fragment.get("code")).toBeNull();
      expect(fragment.get("state")).toBe("st-1");
      expect(fragment.get("error_description")).toContain(expected);
    }
  });

  it("lets the SPA's origin through CORS (preflight and discovery), and nobody else", async () => {
    const preflight = await call("OPTIONS", `/${tenant}/oauth2/v2.0/token`, { headers: { Origin: ORIGIN, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type" } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers["access-control-allow-origin"]).toBe(ORIGIN);
    const stranger = await call("OPTIONS", `/${tenant}/oauth2/v2.0/token`, { headers: { Origin: "https://evil.example", "Access-Control-Request-Method": "POST" } });
    expect(stranger.headers["access-control-allow-origin"]).toBeUndefined();
    const discovery = await call("GET", `/${tenant}/v2.0/.well-known/openid-configuration`, { headers: { Origin: ORIGIN } });
    expect(discovery.headers["access-control-allow-origin"]).toBe("*");
    expect(JSON.parse(discovery.text)).toMatchObject({ authorization_endpoint: `${sandbox.endpoint}/${tenant}/oauth2/v2.0/authorize`, token_endpoint: `${sandbox.endpoint}/${tenant}/oauth2/v2.0/token` });
  });
});
