import { randomBytes } from "node:crypto";
import azureFunctions from "@azure/functions";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import type { HttpAccessConfig } from "../src/config.js";
import { newInvocationContext } from "../src/handlers/local-context.js";
import { generateKeyPair, SignJWT } from "jose";
import { EntraTokenValidator } from "../src/auth/entra-token.js";
import { createHttpHandlers } from "../src/handlers/http.js";
import type { SandboxPrincipal } from "../src/sandbox/events.js";
import { openManual } from "../src/runtime.js";
import { RateLimiter } from "../src/state/throttle.js";
import { openTable } from "../src/state/tables.js";
import { armExample, variant } from "./helpers/fixtures.js";
import { BOT, azuriteForFile, startHarness, type Harness } from "./helpers/pipeline.js";
import { rehome, SUB, WS_ID } from "./helpers/sandbox.js";

const { HttpRequest } = azureFunctions;
const ENDPOINT_ID = `${WS_ID}/onlineEndpoints/ep1`;
const ACCESS: HttpAccessConfig = { remediateRole: "AmlGuard.Remediate", readRole: "AmlGuard.Read", remediateGroups: ["7e570000-0000-4000-8000-0000000000a1"], readGroups: [], rateLimitPerMinute: 1000 };

// Callers present real Entra v2.0 access tokens minted by the sandbox's authority and validated in-process.
const API_CLIENT_ID = "6f1c3e55-0d57-4c55-9a5e-6b7a1c0d0a11";
const BOB: SandboxPrincipal = { objectId: "0e0a7e00-0000-4000-8000-000000000001", name: "bob@contoso.example", type: "User" };
const READER_P: SandboxPrincipal = { objectId: "4ead0000-0000-4000-8000-000000000002", name: "reader@contoso.example", type: "User" };
const NOBODY_P: SandboxPrincipal = { objectId: "40b0d700-0000-4000-8000-000000000003", name: "nobody@contoso.example", type: "User" };
const SEC_P: SandboxPrincipal = { objectId: "96000000-0000-4000-8000-000000000004", name: "sec@contoso.example", type: "User" };
let OPERATOR = "";
let READER = "";
let NOBODY = "";
let GROUP_MEMBER = "";

const azurite = azuriteForFile();
let h: Harness;
afterEach(async () => {
  await h?.close();
});

async function setup(access: HttpAccessConfig = ACCESS) {
  h = await startHarness(azurite.connectionString, [
    rehome(armExample("workspace-get"), WS_ID),
    rehome(variant(armExample("online-endpoint-get"), (e) => (e.properties.publicNetworkAccess = "Enabled")), ENDPOINT_ID),
  ]);
  h.runtime.manual = await openManual({ connectionString: azurite.connectionString }, [SUB], access.rateLimitPerMinute, `h${randomBytes(5).toString("hex")}`);
  const mint = (principal: SandboxPrincipal, claims: { roles?: string[]; groups?: string[] } = {}) => h.sandbox.authority.mintAccessToken(principal, { audience: API_CLIENT_ID, ...claims });
  [OPERATOR, READER, NOBODY, GROUP_MEMBER] = await Promise.all([
    mint(BOB, { roles: ["AmlGuard.Remediate"] }),
    mint(READER_P, { roles: ["AmlGuard.Read"] }),
    mint(NOBODY_P),
    mint(SEC_P, { groups: ["7e570000-0000-4000-8000-0000000000a1"] }),
  ]);
  const validator = new EntraTokenValidator({ tenantId: h.sandbox.authority.tenantId, audiences: [API_CLIENT_ID], authorityHost: h.sandbox.endpoint }, { ca: h.sandbox.ca });
  return createHttpHandlers(async () => h.runtime, () => access, () => validator);
}

function post(body: unknown, token?: string, headers: Record<string, string> = {}) {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  return new HttpRequest({
    method: "POST",
    url: "https://amlguard.azurewebsites.net/api/remediate",
    body: { string: text },
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
  });
}

function get(resourceId: string | undefined, token?: string, headers: Record<string, string> = {}) {
  return new HttpRequest({
    method: "GET",
    url: "https://amlguard.azurewebsites.net/api/findings",
    query: resourceId === undefined ? {} : { resourceId },
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
  });
}

const ctx = () => newInvocationContext("remediate");
const valid = { resourceId: ENDPOINT_ID, reason: "CHG-1234 close public scoring" };

describe("HTTP manual remediation: authentication and authorisation", () => {
  it("role matrix: none 401, no role 403, reader reads only, remediator and group member remediate", async () => {
    const handlers = await setup();
    const statuses = async (principal?: string) => [(await handlers.findings(get(ENDPOINT_ID, principal), ctx())).status, (await handlers.remediate(post({ ...valid, dryRun: true }, principal), ctx())).status];
    expect(await statuses(undefined)).toEqual([401, 401]);
    expect(await statuses(NOBODY)).toEqual([403, 403]);
    expect(await statuses(READER)).toEqual([200, 403]);
    expect(await statuses(OPERATOR)).toEqual([200, 200]);
    expect(await statuses(GROUP_MEMBER)).toEqual([200, 200]);
    expect(await statuses("bm90IGpzb24=")).toEqual([401, 401]);
  });

  it("forged, unsigned and expired tokens, and a hand-made x-ms-client-principal alone, are 401 with a challenge", async () => {
    const handlers = await setup();
    const claims = JSON.parse(Buffer.from(OPERATOR.split(".")[1]!, "base64url").toString("utf8"));
    const { privateKey } = await generateKeyPair("RS256");
    const forged = await new SignJWT(claims).setProtectedHeader({ alg: "RS256", typ: "JWT", kid: await h.sandbox.authority.keyId() }).sign(privateKey);
    const unsigned = `${Buffer.from(JSON.stringify({ alg: "none", typ: "JWT" })).toString("base64url")}.${OPERATOR.split(".")[1]}.`;
    const expired = await h.sandbox.authority.mintAccessToken(BOB, { audience: API_CLIENT_ID, roles: ["AmlGuard.Remediate"], issuedAt: Math.floor(Date.now() / 1000) - 7200 });
    const easyAuth = Buffer.from(JSON.stringify({ auth_typ: "aad", claims: [{ typ: "oid", val: BOB.objectId }, { typ: "roles", val: "AmlGuard.Remediate" }] })).toString("base64");
    for (const request of [post(valid, forged), post(valid, unsigned), post(valid, expired), post(valid, undefined, { "x-ms-client-principal": easyAuth, "x-ms-client-principal-id": BOB.objectId })]) {
      const response = await handlers.remediate(request, ctx());
      expect(response.status).toBe(401);
      expect((response.headers as Record<string, string>)["WWW-Authenticate"]).toMatch(/^Bearer realm="amlguard", authorization_uri="https:\/\/localhost:\d+\/[0-9a-f-]+\/oauth2\/v2\.0\/authorize"/);
    }
    expect(h.botWrites()).toBe(0);
    const noRole = await handlers.remediate(post(valid, READER), ctx());
    expect([noRole.status, (noRole.headers as Record<string, string>)["WWW-Authenticate"]]).toEqual([403, 'Bearer error="insufficient_scope", error_description="the AmlGuard.Remediate app role is needed"']);
  });

  it("without AMLGUARD_AUTH_* nobody gets in (503, never an open API)", async () => {
    await setup();
    const handlers = createHttpHandlers(async () => h.runtime, () => ACCESS, () => undefined);
    const response = await handlers.remediate(post(valid, OPERATOR), ctx());
    expect([response.status, (response.jsonBody as any).error.code]).toEqual([503, "NotConfigured"]);
    expect(h.botWrites()).toBe(0);
  });
});

describe("HTTP manual remediation: results and audit", () => {
  it("remediates, returns the result per finding with a correlation id, and audits the caller and reason", async () => {
    const handlers = await setup();
    const response = await handlers.remediate(post(valid, OPERATOR), ctx());
    expect(response.status).toBe(200);
    const body = response.jsonBody as any;
    expect(body.correlationId).toMatch(/^[0-9a-f-]{36}$/);
    expect(body.findings.find((f: any) => f.ruleId === "endpoint-public-network-access")).toMatchObject({ decision: "remediated", before: { "properties.publicNetworkAccess": "Enabled" }, after: { "properties.publicNetworkAccess": "Disabled" } });
    expect((h.sandbox.resource(ENDPOINT_ID) as any).properties.publicNetworkAccess).toBe("Disabled");
    const row = (await h.audit()).find((r) => r.decision === "remediated")!;
    expect(row).toMatchObject({ trigger: "http:bob@contoso.example", reason: "CHG-1234 close public scoring", actor: { name: "bob@contoso.example" } });
  });

  it("dry-run plans and writes nothing; findings evaluates only", async () => {
    const handlers = await setup();
    const dry = await handlers.remediate(post({ ...valid, dryRun: true, rules: ["endpoint-public-network-access"] }, OPERATOR), ctx());
    expect((dry.jsonBody as any).findings).toEqual([expect.objectContaining({ ruleId: "endpoint-public-network-access", decision: "dry-run", after: { "properties.publicNetworkAccess": "Disabled" } })]);
    const findings = await handlers.findings(get(ENDPOINT_ID, READER), ctx());
    expect((findings.jsonBody as any).findings.map((f: any) => f.ruleId)).toContain("endpoint-public-network-access");
    expect(h.botWrites()).toBe(0);
  });
});

describe("HTTP manual remediation: bad input is refused clearly and changes nothing", () => {
  it.each([
    ["wrong content type", () => post(valid, OPERATOR, { "content-type": "text/plain" }), 415],
    ["oversized body (declared)", () => post(valid, OPERATOR, { "content-length": "999999" }), 413],
    ["oversized body", () => post({ ...valid, reason: "x".repeat(20_000) }, OPERATOR), 413],
    ["invalid JSON", () => post("{nope", OPERATOR), 400],
    ["unknown field", () => post({ ...valid, force: true }, OPERATOR), 400],
    ["no reason", () => post({ resourceId: ENDPOINT_ID }, OPERATOR), 400],
    ["unknown rule", () => post({ ...valid, rules: ["drop-all-tables"] }, OPERATOR), 400],
    ["encoded slashes", () => post({ ...valid, resourceId: `${WS_ID}%2FonlineEndpoints%2Fep1` }, OPERATOR), 400],
    ["dot segments", () => post({ ...valid, resourceId: `${WS_ID}/onlineEndpoints/../../../../Microsoft.Storage/storageAccounts/x` }, OPERATOR), 400],
    ["extra segments", () => post({ ...valid, resourceId: `${ENDPOINT_ID}/deployments/blue/extra` }, OPERATOR), 400],
    ["another provider", () => post({ ...valid, resourceId: ENDPOINT_ID.replace("Microsoft.MachineLearningServices", "Microsoft.KeyVault") }, OPERATOR), 400],
    ["a subscription out of scope", () => post({ ...valid, resourceId: ENDPOINT_ID.replace(SUB, "99999999-1111-2222-3333-444444444444") }, OPERATOR), 403],
    ["a resource that does not exist", () => post({ ...valid, resourceId: ENDPOINT_ID.replace("ep1", "nope") }, OPERATOR), 404],
  ])("%s", async (_label, make, status) => {
    const handlers = await setup();
    const response = await handlers.remediate(make(), ctx());
    expect(response.status).toBe(status);
    const body = response.jsonBody as any;
    expect(body.error.message.length).toBeGreaterThan(5);
    expect(JSON.stringify(body)).not.toMatch(/\n\s+at |node_modules|Error:/);
    expect(h.botWrites()).toBe(0);
  });

  it("rate-limits each principal (429 with Retry-After), shared through Table Storage", async () => {
    const handlers = await setup({ ...ACCESS, rateLimitPerMinute: 3 });
    // The limiter's clock stays in one minute: on a busy machine the requests could otherwise straddle two windows.
    const table = await openTable({ connectionString: azurite.connectionString }, `r${randomBytes(5).toString("hex")}`);
    h.runtime.manual = { ...h.runtime.manual!, rateLimiter: new RateLimiter(table, 3, () => Date.parse("2026-11-25T12:00:10Z")) };
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await handlers.findings(get(ENDPOINT_ID, READER), ctx())).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const limited = await handlers.findings(get(ENDPOINT_ID, READER), ctx());
    expect(Number((limited.headers as Record<string, string>)["Retry-After"])).toBe(50);
    expect((await handlers.findings(get(ENDPOINT_ID, OPERATOR), ctx())).status).toBe(200);
  });

  it("two identical requests at once act once", async () => {
    const handlers = await setup();
    // The request that claims first holds its ARM read until the other has been answered: they overlap by
    // construction, not because a delay happened to be long enough on this machine.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const arm = h.runtime.arm;
    const get = arm.get.bind(arm);
    arm.get = async (...args) => {
      await held;
      return get(...args);
    };
    const both = [handlers.remediate(post(valid, OPERATOR), ctx()), handlers.remediate(post(valid, OPERATOR), ctx())];
    expect((await Promise.race(both)).status).toBe(409);
    release();
    const responses = await Promise.all(both);
    expect(responses.map((r) => r.status).sort()).toEqual([200, 409]);
    expect(h.sandbox.requests.filter((r) => r.method === "PUT" && r.principalId === BOT.objectId)).toHaveLength(1);
  });
});

describe("HTTP manual remediation: fuzzing (fast-check)", () => {
  it("thousands of forged ids and bodies: zero 5xx, zero stack traces, zero calls outside scope", async () => {
    const handlers = await setup();
    const segment = fc.oneof(fc.constantFrom("workspaces", "computes", "onlineEndpoints", "deployments", "registries", "..", ".", "%2F", "Microsoft.MachineLearningServices", "providers", SUB, "resourceGroups", "rg-test", "ws1", "ep1"), fc.string({ maxLength: 12 }));
    const forgedId = fc.oneof(
      fc.array(segment, { maxLength: 14 }).map((parts) => `/${parts.join("/")}`),
      fc.array(segment, { maxLength: 4 }).map((parts) => `${WS_ID}/${parts.join("/")}`),
      fc.string({ maxLength: 300 }),
    );
    const body = fc.oneof(
      fc.record({ resourceId: forgedId, reason: fc.string({ maxLength: 40 }), dryRun: fc.boolean(), rules: fc.option(fc.array(fc.string(), { maxLength: 3 }), { nil: undefined }) }, { requiredKeys: ["resourceId"] }),
      fc.jsonValue({ maxDepth: 3 }),
      fc.string({ maxLength: 200 }),
    );
    const before = h.sandbox.requests.length;
    await fc.assert(
      fc.asyncProperty(body, async (candidate) => {
        const text = typeof candidate === "string" ? candidate : JSON.stringify(candidate);
        const response = await handlers.remediate(post(text, OPERATOR), ctx());
        const raw = JSON.stringify(response.jsonBody);
        return response.status! < 500 && !/\n\s+at |node_modules/.test(raw);
      }),
      { numRuns: 2000 },
    );
    await fc.assert(
      fc.asyncProperty(forgedId, async (id) => {
        const response = await handlers.findings(get(id, READER), ctx());
        return response.status! < 500;
      }),
      { numRuns: 1000 },
    );
    const touched = h.sandbox.requests.slice(before);
    expect(touched.every((r) => r.path.toLowerCase().startsWith(`/subscriptions/${SUB}/`))).toBe(true);
    // A fuzzed body may name a real resource with a valid reason: then it is remediated, and only there.
    expect(touched.filter((r) => r.method !== "GET").every((r) => r.path.startsWith(WS_ID))).toBe(true);
  }, 1_800_000); // a hang guard: 3,000 requests take about 1 minute on a quiet machine, 10 under heavy contention
});
