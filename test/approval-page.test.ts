import azureFunctions, { type HttpRequest, type HttpResponseInit } from "@azure/functions";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { approvalApiScope, approvalPageResponse, contentSecurityPolicy, type ApprovalPageConfig } from "../src/approval-page/page.js";
import { EntraTokenValidator, type AuthenticatedCaller } from "../src/auth/entra-token.js";
import { createApprovalPageHandlers } from "../src/handlers/approval-page.js";
import { newInvocationContext } from "../src/handlers/local-context.js";
import { ArmSandbox } from "../src/sandbox/arm-server.js";
import type { SandboxPrincipal } from "../src/sandbox/events.js";
import { launchChromium } from "./helpers/chromium.js";
import { startFunctionsHost, type LocalFunctionsHost } from "./helpers/functions-host.js";

// The approval page on its own, in headless Chromium: it signs the person in through the sandbox's Entra authority
// (authorization code + PKCE by @azure/msal-browser, served by the Function App), calls the API with the access token,
// and renders what the API answers as text. The API here is a recording double (the real one is in
// test/approval-e2e.test.ts): it validates the token with amlguard's validator and answers a proposal whose outside
// text is hostile.
const { HttpRequest: Request } = azureFunctions;
const SPA = "3a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d";
const API = "6f1c3e55-0d57-4c55-9a5e-6b7a1c0d0a11";
const PROPOSAL_ID = "0d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6";
const BOB: SandboxPrincipal = { objectId: "b0b0b0b0-2222-4000-8000-000000000002", name: "bob@contoso.example", type: "User" };
const HOSTILE = `<img src=x onerror="document.title='pwned'">`;

const proposal = {
  id: PROPOSAL_ID,
  kind: "remediation",
  resourceId: "/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws-<b>bold</b>",
  status: "pending",
  decidable: true,
  ruleIds: ["workspace-public-network-access"],
  findings: [{ ruleId: "workspace-public-network-access", title: "Workspace reachable from the public internet", severity: "high", evidence: `publicNetworkAccess is Enabled ${HOSTILE}` }],
  action: { id: "workspace-disable-public-network-access", description: "PATCH publicNetworkAccess: Disabled", before: { publicNetworkAccess: "Enabled" }, after: { publicNetworkAccess: "Disabled" }, undo: "az ml workspace update --name ws --public-network-access Enabled" },
  observed: { etag: '"0x8D1"', values: { publicNetworkAccess: "Enabled" } },
  requestedBy: { objectId: "a11ce000-1111-4000-8000-000000000001", name: `alice ${HOSTILE}`, principalType: "User" },
  createdAt: "2026-11-25T09:00:00.000Z",
  expiresAt: "2026-11-26T09:00:00.000Z",
  cli: { approve: `amlguard proposals approve ${PROPOSAL_ID}` },
};

let sandbox: ArmSandbox;
let host: LocalFunctionsHost;
let browser: Browser;
let validator: EntraTokenValidator;
const callers: Array<{ route: string; caller: AuthenticatedCaller }> = [];

function pageConfig(): ApprovalPageConfig {
  return { tenantId: sandbox.authority.tenantId, clientId: SPA, authorityHost: sandbox.endpoint, apiScope: approvalApiScope(API), apiBase: "/api" };
}

/** The recording double of the proposals API: the page for a browser, otherwise a validated caller or 401. */
async function proposalsApi(request: HttpRequest, route: string): Promise<HttpResponseInit> {
  if (route === "get" && !request.headers.get("authorization") && /text\/html/.test(request.headers.get("accept") ?? "")) {
    return approvalPageResponse({ proposalId: request.params.id!, config: pageConfig() });
  }
  let caller: AuthenticatedCaller;
  try {
    caller = await validator.authenticateHeaders(request.headers);
  } catch {
    return { status: 401, jsonBody: { error: { code: "Unauthenticated", message: "no valid token" } } };
  }
  callers.push({ route, caller });
  if (route === "get") return { status: 200, jsonBody: proposal };
  const decided = { ...proposal, status: "approved", decidable: false, decidedBy: { objectId: caller.objectId, name: caller.name }, decidedAt: "2026-11-25T10:00:00.000Z" };
  return { status: 200, jsonBody: { proposal: decided, result: { decision: "remediated", message: "publicNetworkAccess is now Disabled", undo: proposal.action.undo } } };
}

beforeAll(async () => {
  sandbox = await new ArmSandbox().start();
  validator = new EntraTokenValidator({ tenantId: sandbox.authority.tenantId, audiences: [API], authorityHost: sandbox.endpoint }, { ca: sandbox.ca });
  const assets = createApprovalPageHandlers(pageConfig);
  host = await startFunctionsHost([
    { name: "approvalPage", methods: ["GET"], route: "approval-page/{file}", handler: assets.file },
    { name: "proposals-get", methods: ["GET"], route: "proposals/{id}", handler: (request) => proposalsApi(request, "get") },
    { name: "proposals-approve", methods: ["POST"], route: "proposals/{id}/approve", handler: (request) => proposalsApi(request, "approve") },
  ]);
  sandbox.authority.browser
    .registerSpa({ clientId: SPA, redirectUris: [`${host.origin}/api/approval-page/signed-in`] })
    .registerApi({ clientId: API, identifierUri: `api://${API}`, scopes: ["user_impersonation"] })
    .addAccount({ principal: BOB, roles: ["AmlGuard.Remediate"] });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await host?.close();
  await sandbox?.close();
});

describe("the approval page in headless Chromium", () => {
  it("signs the person in with PKCE through the sandbox authority, shows the proposal as text, and posts the decision with their token", async () => {
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    // A hang guard only: every wait is on the page's state, never on time.
    context.setDefaultTimeout(120_000);
    const page = await context.newPage();
    const origins = new Set<string>();
    const problems: string[] = [];
    page.on("request", (request) => origins.add(new URL(request.url()).origin));
    page.on("console", (message) => void (message.type() === "error" && problems.push(message.text())));
    page.on("pageerror", (error) => problems.push(error.message));

    await page.goto(`${host.origin}/api/proposals/${PROPOSAL_ID}`);
    await page.getByRole("button", { name: "Sign in with Microsoft Entra" }).click();
    // The sandbox's sign-in page (standing in for Entra's): pick Bob.
    await page.getByRole("button", { name: BOB.name }).click();
    await page.locator("#proposal-kind", { hasText: "Proposed remediation" }).waitFor();
    expect(new URL(page.url()).pathname).toBe(`/api/proposals/${PROPOSAL_ID}`);
    expect(await page.locator("#account-name").textContent()).toBe(BOB.name);

    // Outside text is text: the hostile markup is shown, never parsed.
    expect(await page.locator("#findings").textContent()).toContain(HOSTILE);
    expect(await page.locator("#requested-by").textContent()).toContain(HOSTILE);
    expect(await page.locator("#resource-id").textContent()).toContain("ws-<b>bold</b>");
    expect(await page.locator("main img, main b").count()).toBe(0);
    expect(await page.title()).not.toBe("pwned");
    expect(await page.locator("#undo").textContent()).toBe(proposal.action.undo);
    // The undo command is one line that scrolls, never wrapped inside a flag (a copy-paste hazard); page code as a
    // string, since the tests compile without DOM types.
    expect(await page.evaluate("getComputedStyle(document.querySelector('#undo').parentElement).whiteSpace")).toBe("pre");
    expect(await page.locator("#change-rows").textContent()).toContain('"Disabled"');

    await page.getByRole("button", { name: "Approve and remediate" }).click();
    await page.locator("#result", { hasText: "Approved by you: remediated." }).waitFor();
    expect(await page.locator("#result").textContent()).toContain(`Undo: ${proposal.action.undo}`);
    expect(await page.locator("#proposal-status").textContent()).toBe("approved");
    expect(await page.locator("#decide").isHidden()).toBe(true);

    // The API saw Bob's token for amlguard's API, issued to the page's SPA registration, with his app role.
    expect(callers.map((c) => c.route)).toEqual(["get", "approve"]);
    for (const { caller } of callers) expect(caller).toMatchObject({ objectId: BOB.objectId, appId: SPA, roles: ["AmlGuard.Remediate"] });
    // Nothing was loaded from anywhere but the Function App and the authority; no CSP violation, no script error.
    expect([...origins].sort()).toEqual([host.origin, sandbox.endpoint].sort());
    expect(problems).toEqual([]);
    await context.close();
  });

  it("serves only its allow-list, under a policy that allows no inline script", async () => {
    const call = async (file: string) => assetsCall(file);
    expect((await call("approval.js")).status).toBe(200);
    expect((await call("msal-browser.min.js")).headers).toMatchObject({ "Content-Type": "text/javascript; charset=utf-8" });
    for (const file of ["..%2Fpackage.json", "package.json", "index.html"]) expect((await call(file)).status).toBe(404);
    const signedIn = await assetsCall("signed-in");
    expect([signedIn.status, signedIn.headers]).toEqual([200, expect.objectContaining({ "Content-Security-Policy": contentSecurityPolicy(sandbox.endpoint) })]);
    const broken = createApprovalPageHandlers(() => {
      throw new Error("invalid configuration: AMLGUARD_APPROVAL_CLIENT_ID: must be a GUID");
    });
    const refused = await broken.file(new Request({ method: "GET", url: "https://amlguard.invalid/api/approval-page/signed-in", params: { file: "signed-in" } }), newInvocationContext("approvalPage"));
    expect([refused.status, String(refused.body)]).toEqual([503, expect.stringContaining("settings are invalid")]);
    const policy = contentSecurityPolicy(sandbox.endpoint);
    expect(policy).toContain("script-src 'self'");
    expect(policy).not.toMatch(/unsafe-inline|unsafe-eval/);
    const html = String(approvalPageResponse({ proposalId: PROPOSAL_ID, config: { ...pageConfig(), clientId: "</script><script>alert(1)</script>" } }).body);
    expect(html).not.toContain("</script><script>");
    expect(html.match(/<script\b[^>]*>/g)!.every((tag) => /type="application\/json"|src=/.test(tag))).toBe(true);
  });
});

async function assetsCall(file: string): Promise<HttpResponseInit> {
  const request = new Request({ method: "GET", url: `https://amlguard.invalid/api/approval-page/${file}`, params: { file: decodeURIComponent(file) } });
  return createApprovalPageHandlers(pageConfig).file(request, newInvocationContext("approvalPage"));
}
