import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import azureFunctions, { type HttpResponseInit } from "@azure/functions";
import { afterEach, describe, expect, it } from "vitest";
import { EntraTokenValidator } from "../src/auth/entra-token.js";
import { loadConfig, type HttpAccessConfig } from "../src/config.js";
import { createHttpHandlers, type HttpHandlers } from "../src/handlers/http.js";
import { newInvocationContext } from "../src/handlers/local-context.js";
import type { SandboxPrincipal } from "../src/sandbox/events.js";
import { packageRoot } from "../src/paths.js";
import { openManual } from "../src/runtime.js";
import type { SimulationResult } from "../src/simulate/runner.js";
import { cli } from "./helpers/cli.js";
import { armExample, variant } from "./helpers/fixtures.js";
import { azuriteForFile, startHarness, USER, waitForEvents, type Harness } from "./helpers/pipeline.js";
import { rehome, SUB, WS_ID } from "./helpers/sandbox.js";

// POST/GET/DELETE /api/exemptions through the real handlers, with Entra access tokens minted by the sandbox's
// authority and validated in-process, as in test/http.test.ts.
const { HttpRequest } = azureFunctions;
const ENDPOINT_ID = `${WS_ID}/onlineEndpoints/ep1`;
const API_CLIENT_ID = "6f1c3e55-0d57-4c55-9a5e-6b7a1c0d0a11";
const ACCESS: HttpAccessConfig = { remediateRole: "AmlGuard.Remediate", readRole: "AmlGuard.Read", remediateGroups: [], readGroups: [], exemptRole: "AmlGuard.Exempt", exemptGroups: [], exemptionMaxDays: 30, rateLimitPerMinute: 1000 };
const SECURITY: SandboxPrincipal = { objectId: "5ec5ec00-2222-4000-8000-00000000005e", name: "bob@contoso.example", type: "User" };
const REMEDIATOR: SandboxPrincipal = { objectId: "0e0a7e00-0000-4000-8000-000000000001", name: "ops@contoso.example", type: "User" };
const READER: SandboxPrincipal = { objectId: "4ead0000-0000-4000-8000-000000000002", name: "reader@contoso.example", type: "User" };

const azurite = azuriteForFile();
let h: Harness;
afterEach(async () => {
  await h?.close();
});

const inDays = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);

interface Api {
  handlers: HttpHandlers;
  token(principal: SandboxPrincipal, roles: string[]): Promise<string>;
}

async function setup(): Promise<Api> {
  h = await startHarness(azurite.connectionString, [
    rehome(armExample("workspace-get"), WS_ID),
    rehome(variant(armExample("online-endpoint-get"), (e) => (e.properties.publicNetworkAccess = "Disabled")), ENDPOINT_ID),
  ]);
  h.runtime.manual = await openManual({ connectionString: azurite.connectionString }, [SUB], ACCESS.rateLimitPerMinute, `x${randomBytes(5).toString("hex")}`);
  const validator = new EntraTokenValidator({ tenantId: h.sandbox.authority.tenantId, audiences: [API_CLIENT_ID], authorityHost: h.sandbox.endpoint }, { ca: h.sandbox.ca });
  return {
    handlers: createHttpHandlers(async () => h.runtime, () => ACCESS, () => validator),
    token: (principal, roles) => h.sandbox.authority.mintAccessToken(principal, { audience: API_CLIENT_ID, roles }),
  };
}

const url = (path: string) => `https://amlguard.azurewebsites.net/api/${path}`;
const auth = (token: string) => ({ authorization: `Bearer ${token}` });
const post = (body: unknown, token: string) =>
  new HttpRequest({ method: "POST", url: url("exemptions"), body: { string: typeof body === "string" ? body : JSON.stringify(body) }, headers: { "content-type": "application/json", ...auth(token) } });
const list = (token: string, resourceId?: string) => new HttpRequest({ method: "GET", url: url("exemptions"), query: resourceId ? { resourceId } : {}, headers: auth(token) });
const del = (id: string, token: string) => new HttpRequest({ method: "DELETE", url: url(`exemptions/${id}`), params: { id }, headers: auth(token) });
const ctx = () => newInvocationContext("exemptions");
const body = (response: HttpResponseInit) => response.jsonBody as any;
const request = (over: Record<string, unknown> = {}) => ({ resourceId: ENDPOINT_ID, rules: ["endpoint-public-network-access"], reason: "partner pilot CHG-7", expires: inDays(20), ...over });

describe("POST /api/exemptions", () => {
  it("an AmlGuard.Exempt caller approves: 201 with the stored exemption, the caller from the token as approver, audited", async () => {
    const api = await setup();
    const response = await api.handlers.approveExemption(post({ ...request(), approvedBy: undefined }, await api.token(SECURITY, ["AmlGuard.Exempt"])), ctx());
    expect(response.status).toBe(201);
    expect(body(response)).toMatchObject({ resourceId: ENDPOINT_ID, rules: ["endpoint-public-network-access"], status: "in-force", approvedBy: { objectId: SECURITY.objectId, name: SECURITY.name } });
    expect(body(response).id).toMatch(/^[0-9a-f-]{36}$/);
    expect(await h.runtime.exemptions.get(body(response).id)).toMatchObject({ reason: "partner pilot CHG-7" });
    expect((await h.audit()).some((r) => r.decision === "exemption-approved" && r.actor?.objectId === SECURITY.objectId)).toBe(true);
  });

  it("a caller without AmlGuard.Exempt is refused (403), remediate and read roles included; nothing is stored", async () => {
    const api = await setup();
    for (const token of [await api.token(REMEDIATOR, ["AmlGuard.Remediate"]), await api.token(READER, ["AmlGuard.Read"])]) {
      const response = await api.handlers.approveExemption(post(request(), token), ctx());
      expect([response.status, body(response).error.message]).toEqual([403, "the caller lacks the AmlGuard.Exempt role"]);
    }
    expect(await h.runtime.exemptions.all()).toEqual([]);
  });

  it("the principal who wrote the amlguard-exempt tag may not approve it (403 SelfApprovalRefused)", async () => {
    const api = await setup();
    const current = await h.userArm.get(ENDPOINT_ID);
    const tagged = structuredClone(current.resource) as any;
    tagged.tags = { "amlguard-exempt": `rules=endpoint-public-network-access; reason=partner pilot; expires=${inDays(20)}` };
    await h.userArm.put(ENDPOINT_ID, tagged, { ifMatch: current.etag! });
    await h.deliver((await waitForEvents(h, 1))[0]);
    const response = await api.handlers.approveExemption(post(request(), await api.token(USER, ["AmlGuard.Exempt"])), ctx());
    expect([response.status, body(response).error.code]).toEqual([403, "SelfApprovalRefused"]);
    const other = await api.handlers.approveExemption(post(request(), await api.token(SECURITY, ["AmlGuard.Exempt"])), ctx());
    expect([other.status, body(other).requestedBy?.objectId]).toEqual([201, USER.objectId]);
  });

  it("an expiry beyond AMLGUARD_EXEMPTION_MAX_DAYS is 400, naming the setting", async () => {
    const api = await setup();
    const response = await api.handlers.approveExemption(post(request({ expires: inDays(45) }), await api.token(SECURITY, ["AmlGuard.Exempt"])), ctx());
    expect([response.status, body(response).error.code]).toEqual([400, "InvalidExpiry"]);
    expect(body(response).error.message).toMatch(/at most 30 days \(AMLGUARD_EXEMPTION_MAX_DAYS\)/);
    expect(await h.runtime.exemptions.all()).toEqual([]);
  });

  it("a bad body is 400 in the user's terms (field, value, what it must be), without internals", async () => {
    const api = await setup();
    const token = await api.token(SECURITY, ["AmlGuard.Exempt"]);
    const badDate = await api.handlers.approveExemption(post(request({ expires: "next week" }), token), ctx());
    expect([badDate.status, body(badDate).error]).toEqual([400, { code: "InvalidRequest", message: 'expires: "next week" must be a date, YYYY-MM-DD' }]);
    const extra = await api.handlers.approveExemption(post({ ...request(), approvedBy: "someone-else" }, token), ctx());
    expect([extra.status, body(extra).error.message]).toEqual([400, 'the body: unknown field(s) "approvedBy"']);
    const notJson = await api.handlers.approveExemption(post("{rules: *", token), ctx());
    expect([notJson.status, body(notJson).error.message]).toEqual([400, "the body is not valid JSON"]);
    for (const response of [badDate, extra, notJson]) expect(JSON.stringify(response.jsonBody)).not.toMatch(/ZodError|at .*\.ts|stack/i);
    expect(await h.runtime.exemptions.all()).toEqual([]);
  });
});

describe("GET and DELETE /api/exemptions", () => {
  it("lists exemptions with their status to readers and approvers; revoke is exempt-only, then 409 on a second revoke", async () => {
    const api = await setup();
    const approver = await api.token(SECURITY, ["AmlGuard.Exempt"]);
    const reader = await api.token(READER, ["AmlGuard.Read"]);
    const approved = body(await api.handlers.approveExemption(post(request(), approver), ctx()));

    const listed = await api.handlers.listExemptions(list(reader, ENDPOINT_ID), ctx());
    expect(listed.status).toBe(200);
    expect(body(listed).exemptions).toEqual([expect.objectContaining({ id: approved.id, status: "in-force" })]);
    expect(body(await api.handlers.listExemptions(list(approver), ctx())).exemptions.map((e: any) => e.id)).toEqual([approved.id]);
    expect((await api.handlers.listExemptions(list(await api.token(REMEDIATOR, [])), ctx())).status).toBe(403);

    expect((await api.handlers.revokeExemption(del(approved.id, reader), ctx())).status).toBe(403);
    const revoked = await api.handlers.revokeExemption(del(approved.id, approver), ctx());
    expect([revoked.status, body(revoked).status, body(revoked).revokedBy?.objectId]).toEqual([200, "revoked", SECURITY.objectId]);
    const again = await api.handlers.revokeExemption(del(approved.id, approver), ctx());
    expect([again.status, body(again).error.code]).toEqual([409, "AlreadyRevoked"]);
    expect(body(await api.handlers.listExemptions(list(reader), ctx())).exemptions).toEqual([expect.objectContaining({ id: approved.id, status: "revoked" })]);

    const unknown = await api.handlers.revokeExemption(del("00000000-0000-4000-8000-000000000000", approver), ctx());
    expect([unknown.status, body(unknown).error.code]).toEqual([404, "ExemptionNotFound"]);
    const malformed = await api.handlers.revokeExemption(del("request", approver), ctx());
    expect(malformed.status).toBe(400);
    expect((await h.audit()).filter((r) => r.decision === "exemption-revoked")).toHaveLength(1);
  });
});

describe("amlguard exemptions", () => {
  it("list on an empty store says so (exit 0; JSON an empty array), and rejects a --resource that is not an ML resource id", async () => {
    // The harness's tables carry a random prefix: the unprefixed tables the CLI reads are empty.
    const env = { AMLGUARD_STORAGE_CONNECTION_STRING: azurite.connectionString };
    expect(await cli(["exemptions", "list"], env)).toEqual({ code: 0, stdout: "No exemptions.\n", stderr: "" });
    expect(await cli(["exemptions", "list", "--resource", ENDPOINT_ID, "--json"], env)).toMatchObject({ code: 0, stdout: "[]\n" });
    const bad = await cli(["exemptions", "list", "--resource", "/subscriptions/x/resourceGroups/rg"], env);
    expect([bad.code, bad.stderr]).toEqual([2, expect.stringMatching(/^amlguard: --resource: /)]);
  });

  it("approve, list and revoke through the core, as the signed-in identity proven by its token; a second revoke is refused (exit 2)", async () => {
    const api = await setup();
    const env = {
      AMLGUARD_STORAGE_CONNECTION_STRING: azurite.connectionString,
      AMLGUARD_SUBSCRIPTION_IDS: SUB,
      AMLGUARD_EXEMPTION_MAX_DAYS: "30",
      AMLGUARD_AUTH_TENANT_ID: h.sandbox.authority.tenantId,
      AMLGUARD_AUTH_AUDIENCE: API_CLIENT_ID,
      AMLGUARD_AUTH_AUTHORITY_HOST: h.sandbox.endpoint,
    };
    // What `az login` as bob would hand the CLI: a token for amlguard's API carrying bob's app roles.
    const signedIn = (principal: SandboxPrincipal, roles: string[]) => ({ credential: { getToken: async () => ({ token: await api.token(principal, roles), expiresOnTimestamp: Date.now() + 3_600_000 }) }, authorityCa: h.sandbox.ca });
    const bob = signedIn(SECURITY, ["AmlGuard.Exempt"]);
    const args = ["exemptions", "approve", ENDPOINT_ID, "--rules", "endpoint-public-network-access", "--until", inDays(20), "--reason", "pilot CHG-9"];
    const far = await cli([...args.slice(0, 6), inDays(40), ...args.slice(7)], env, bob);
    expect([far.code, far.stderr]).toEqual([2, expect.stringMatching(/at most 30 days \(AMLGUARD_EXEMPTION_MAX_DAYS\)/)]);
    const reader = await cli(args, env, signedIn(READER, ["AmlGuard.Read"]));
    expect([reader.code, reader.stderr]).toEqual([2, "amlguard: exemptions approve needs the AmlGuard.Exempt role on amlguard's API; reader@contoso.example does not hold it\n"]);
    const approved = await cli([...args, "--json"], env, bob);
    expect(approved.code).toBe(0);
    const { id, approvedBy } = JSON.parse(approved.stdout) as { id: string; approvedBy: { objectId: string; name: string } };
    // The approver recorded is the token's principal, not the operating system's user.
    expect(approvedBy).toMatchObject({ objectId: SECURITY.objectId, name: SECURITY.name });
    const table = await cli(["exemptions", "list"], env);
    expect(table.stdout).toContain(id);
    expect(table.stdout).toContain(ENDPOINT_ID);
    expect(table.stdout).toMatch(/in-force/);
    expect((await cli(["exemptions", "revoke", id], env, bob)).code).toBe(0);
    const again = await cli(["exemptions", "revoke", id], env, bob);
    expect([again.code, again.stderr]).toEqual([2, expect.stringMatching(/^amlguard: revoked already, at /)]);
    expect(JSON.parse((await cli(["exemptions", "list", "--json"], env)).stdout)).toEqual([expect.objectContaining({ id, status: "revoked" })]);
  });

  it("approve without the API's auth settings is refused in the user's terms, and nothing is stored", async () => {
    const env = { AMLGUARD_STORAGE_CONNECTION_STRING: azurite.connectionString, AMLGUARD_SUBSCRIPTION_IDS: SUB };
    const credential = { getToken: async () => ({ token: "never sent: there is no API to prove it to", expiresOnTimestamp: Date.now() + 3_600_000 }) };
    const before = (await cli(["exemptions", "list", "--json"], env)).stdout;
    const result = await cli(["exemptions", "approve", ENDPOINT_ID, "--rules", "endpoint-public-network-access", "--until", inDays(20), "--reason", "pilot"], env, { credential });
    expect([result.code, result.stderr]).toEqual([2, expect.stringMatching(/^amlguard: exemptions approve needs AMLGUARD_AUTH_TENANT_ID and AMLGUARD_AUTH_AUDIENCE: the decider is the signed-in identity/)]);
    expect((await cli(["exemptions", "list", "--json"], env)).stdout).toBe(before);
  });

  it("approve with a bad --until is refused in the flag's terms before anything is opened (exit 2)", async () => {
    const result = await cli(["exemptions", "approve", ENDPOINT_ID, "--rules", "endpoint-public-network-access", "--until", "31/12/2026", "--reason", "pilot CHG-9"], {});
    expect(result).toEqual({ code: 2, stdout: "", stderr: 'amlguard: --until: "31/12/2026" must be a date, YYYY-MM-DD\n' });
    const revoke = await cli(["exemptions", "revoke", "not-an-id"], {});
    expect([revoke.code, revoke.stderr]).toEqual([2, expect.stringMatching(/is not an exemption id/)]);
  });
});

describe("exemption settings", () => {
  it("AMLGUARD_EXEMPTION_MAX_DAYS defaults to 90 and must be 1..366; AMLGUARD_HTTP_EXEMPT_ROLE defaults to AmlGuard.Exempt", () => {
    expect(loadConfig({}).http).toMatchObject({ exemptRole: "AmlGuard.Exempt", exemptGroups: [], exemptionMaxDays: 90 });
    expect(loadConfig({ AMLGUARD_EXEMPTION_MAX_DAYS: "366", AMLGUARD_HTTP_EXEMPT_ROLE: "Sec.Exempt" }).http).toMatchObject({ exemptRole: "Sec.Exempt", exemptionMaxDays: 366 });
    for (const days of ["0", "367", "ninety"]) expect(() => loadConfig({ AMLGUARD_EXEMPTION_MAX_DAYS: days })).toThrow(/AMLGUARD_EXEMPTION_MAX_DAYS/);
    expect(() => loadConfig({ AMLGUARD_HTTP_EXEMPT_GROUPS: "admins" })).toThrow(/AMLGUARD_HTTP_EXEMPT_GROUPS \(item 1\): "admins" must be group object ids/);
  });
});

describe("amlguard simulate: http steps on /api/exemptions", () => {
  it("an approval through POST /api/exemptions is honoured, and GET lists it in force", async () => {
    // The shipped exemption-approved scenario, with bob's approval sent over HTTP instead of as an exemptions step.
    const scenario = JSON.parse(readFileSync(join(packageRoot(), "scenarios", "exemption-approved.json"), "utf8"));
    const approve = scenario.steps[1].exemptions.approve;
    scenario.steps[1] = { as: "bob", http: { method: "POST", path: "/api/exemptions", body: approve } };
    scenario.steps.push({ as: "bob", http: { method: "GET", path: "/api/exemptions", query: { resourceId: approve.resourceId } } });
    const path = join(mkdtempSync(join(tmpdir(), "amlguard-exemptions-")), "approved-over-http.json");
    writeFileSync(path, JSON.stringify(scenario));
    const run = await cli(["simulate", path, "--json"]);
    expect([run.code, run.stderr]).toEqual([0, ""]);
    const { steps } = JSON.parse(run.stdout) as SimulationResult;
    expect(steps[1]!.http).toMatchObject({ status: 201, body: { status: "in-force", approvedBy: { name: "bob@contoso.example" }, requestedBy: { name: "alice@contoso.example" } } });
    expect(steps[2]!.decisions.filter((d) => d.ruleId === "workspace-public-network-access").map((d) => d.decision)).toEqual(["exempt"]);
    expect(steps[2]!.writes).toEqual([]);
    expect(steps[3]!.http).toMatchObject({ status: 200, body: { exemptions: [{ status: "in-force", reason: "partner demo CHG-77" }] } });
  }, 120_000); // a hang guard: the run starts a sandbox and Azurite on a busy machine
});
