import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "./helpers/chromium.js";
import { ALICE, BOB, startApprovalWorld, workspaceId, type ApprovalWorld } from "./helpers/approval-world.js";

// Issue 16, end to end in headless Chromium against the sandbox and the real handlers: a user's write makes a
// workspace public (rule in mode approve) → a card arrives at the Teams receiver → its "Review and approve" link
// opens the approval page → a second person signs in (authorization code + PKCE through the sandbox's Entra
// authority) and approves → the workspace is private, a follow-up card arrives, the audit trail shows proposer,
// approver and result. And the refusals: the writer approving their own change, an expired proposal, a resource
// changed since the proposal. Every wait is on the page's state; expiry is the scenario clock moving.
const MAIN = workspaceId("mlw-fraud-prod");
const CHANGED = workspaceId("mlw-churn-prod");
const EXPIRED = workspaceId("mlw-risk-prod");
const EXEMPT = workspaceId("mlw-credit-prod");
const EXEMPT_INSTEAD = workspaceId("mlw-vendor-demo");
const PUBLIC = { properties: { publicNetworkAccess: "Enabled" } };

let env: ApprovalWorld;
let browser: Browser;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  env = await startApprovalWorld(["mlw-fraud-prod", "mlw-churn-prod", "mlw-risk-prod", "mlw-credit-prod", "mlw-vendor-demo"]);
  browser = await launchChromium();
});

afterAll(async () => {
  for (const context of contexts) await context.close();
  await browser?.close();
  await env?.close();
});

/** A fresh browser (no session) for one person; the timeout is a hang guard, every wait is on page state. */
async function browserFor(): Promise<Page> {
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  context.setDefaultTimeout(120_000);
  contexts.push(context);
  return context.newPage();
}

/** Opens a proposal's page and signs in as `who` through the sandbox's sign-in page (Entra's, in Azure). */
async function openAs(url: string, who: { name: string }): Promise<Page> {
  const page = await browserFor();
  await page.goto(url);
  await page.getByRole("button", { name: "Sign in with Microsoft Entra" }).click();
  await page.getByRole("button", { name: who.name }).click();
  await page.locator("#status", { hasText: "Proposal loaded." }).waitFor();
  return page;
}

const publicAccess = (id: string) => (env.world.sandbox.arm.resource(id)?.properties as { publicNetworkAccess?: string }).publicNetworkAccess;
const pendingProposal = async (id: string) => (await env.proposals.forResource(id)).map((s) => s.proposal).find((p) => p.status === "pending")!;
const amlguardWritesTo = (id: string) => env.world.sandbox.arm.requests.filter((r) => r.method !== "GET" && r.principalId === env.world.self.objectId && r.path.toLowerCase() === id.toLowerCase());
const cardText = (card: Record<string, unknown>) => JSON.stringify(card);

describe("approve from the alert, in the browser", () => {
  it("a write makes a workspace public; the card's link opens the page; the writer is refused; a second person approves; the workspace is private and the follow-up card arrives", async () => {
    await env.write(ALICE, MAIN, PUBLIC);
    await env.settle();
    expect(publicAccess(MAIN)).toBe("Enabled");
    expect(amlguardWritesTo(MAIN)).toEqual([]);

    // The card at the Teams receiver carries the way to decide.
    const card = env.teams.received.map((r) => r.card).find((c) => cardText(c).includes("Approval needed"))!;
    expect(card).toBeDefined();
    const actions = (card.actions ?? []) as Array<{ type: string; title: string; url: string }>;
    const review = actions.find((a) => a.title === "Review and approve")!;
    expect(review.url).toMatch(new RegExp(`^${env.host.origin}/api/proposals/[0-9a-f-]{36}$`));
    const proposalId = review.url.split("/").pop()!;

    // Alice made the change: she may not approve it (four eyes), and the page says why.
    const alicePage = await openAs(review.url, ALICE);
    expect(await alicePage.locator("#requested-by").textContent()).toContain(ALICE.name);
    await alicePage.getByRole("button", { name: "Approve and remediate" }).click();
    await alicePage.locator("#result", { hasText: "Refused (HTTP 403)" }).waitFor();
    expect(await alicePage.locator("#result").textContent()).toContain("you made the change this proposal answers");
    expect(publicAccess(MAIN)).toBe("Enabled");

    // Bob opens the same link, sees the proposal, and approves.
    const bobPage = await openAs(review.url, BOB);
    expect(await bobPage.locator("#proposal-kind").textContent()).toBe("Proposed remediation");
    expect(await bobPage.locator("#resource-id").textContent()).toBe(MAIN);
    expect(await bobPage.locator("#change-rows").textContent()).toContain('"Disabled"');
    expect(await bobPage.locator("#undo").textContent()).toContain("--public-network-access Enabled");
    await bobPage.getByRole("button", { name: "Approve and remediate" }).click();
    await bobPage.locator("#result", { hasText: "Approved by you: remediated." }).waitFor();
    expect(await bobPage.locator("#proposal-status").textContent()).toBe("approved");
    expect(await bobPage.locator("#outcome-text").textContent()).toContain(`by ${BOB.name}`);

    expect(publicAccess(MAIN)).toBe("Disabled");
    expect(amlguardWritesTo(MAIN)).toHaveLength(1);
    const before = env.teams.received.length;
    await env.settle();
    const followUp = env.teams.received.slice(before).map((r) => cardText(r.card));
    expect(followUp.some((text) => /remediated/i.test(text) && text.includes(BOB.name))).toBe(true);

    // The audit trail: amlguard proposed for Alice's write, Bob approved, the write was made.
    const rows = env.world.audit.recorded.filter((e) => e.resourceId?.toLowerCase() === MAIN.toLowerCase());
    const proposed = rows.find((e) => e.decision === "proposed")!;
    expect(proposed.actor?.objectId).toBe(ALICE.objectId);
    expect(proposed.message).toContain(proposalId);
    const approved = rows.find((e) => e.decision === "proposal-approved")!;
    expect(approved.actor?.objectId).toBe(BOB.objectId);
    expect(approved.message).toContain(`for the write by ${ALICE.name}`);
    expect(rows.some((e) => e.decision === "remediated")).toBe(true);
    const stored = (await env.proposals.get(proposalId))!.proposal;
    expect(stored).toMatchObject({ status: "approved", decidedBy: { objectId: BOB.objectId }, result: { decision: "remediated" } });
  });

  it("a resource changed since the proposal is not written: the approval is refused and the page says so", async () => {
    await env.write(ALICE, CHANGED, PUBLIC);
    await env.settle();
    const proposal = await pendingProposal(CHANGED);
    // Another change lands (its event not delivered yet): the state the proposal was made from is gone.
    await env.write(ALICE, CHANGED, { tags: { owner: "team-churn" } }, { deliver: false });
    const page = await openAs(`${env.host.origin}/api/proposals/${proposal.id}`, BOB);
    await page.getByRole("button", { name: "Approve and remediate" }).click();
    await page.locator("#result", { hasText: "Refused (HTTP 409)" }).waitFor();
    expect(await page.locator("#result").textContent()).toContain("the resource changed since the proposal was read");
    expect(await page.locator("#proposal-status").textContent()).toBe("superseded");
    expect(amlguardWritesTo(CHANGED)).toEqual([]);
    expect(publicAccess(CHANGED)).toBe("Enabled");
    await env.settle();
  });

  it("an exemption request is approved on the same page: Approve exemption until …", async () => {
    const tag = "rules=workspace-public-network-access; reason=CHG-77 vendor demo <b>now</b>; expires=2026-12-20";
    await env.write(ALICE, EXEMPT, { tags: { "amlguard-exempt": tag } });
    await env.settle();
    const proposal = (await env.proposals.forResource(EXEMPT)).map((s) => s.proposal).find((p) => p.kind === "exemption" && p.status === "pending")!;
    expect(proposal).toBeDefined();
    const page = await openAs(`${env.host.origin}/api/proposals/${proposal.id}`, BOB);
    expect(await page.locator("#proposal-kind").textContent()).toBe("Exemption request");
    expect(await page.locator("#exemption-rules").textContent()).toBe("workspace-public-network-access");
    expect(await page.locator("#exemption-reason").textContent()).toBe("CHG-77 vendor demo <b>now</b>");
    expect(await page.locator("#change").isHidden()).toBe(true);
    await page.getByRole("button", { name: "Approve exemption until 2026-12-20" }).click();
    await page.locator("#result", { hasText: "Approved by you: exemption-approved." }).waitFor();
    const exemptions = await env.world.runtime.exemptions.forResource(EXEMPT);
    expect(exemptions).toHaveLength(1);
    expect(exemptions[0]).toMatchObject({ approvedBy: { objectId: BOB.objectId } });
  });

  it("the card's Exempt… link opens the page at Exempt instead: dates bounded by AMLGUARD_EXEMPTION_MAX_DAYS, the writer refused, a second person exempts and the proposal is closed unwritten", async () => {
    await env.write(ALICE, EXEMPT_INSTEAD, PUBLIC);
    await env.settle();
    const proposal = await pendingProposal(EXEMPT_INSTEAD);
    const card = env.teams.received.map((r) => r.card).find((c) => cardText(c).includes("Approval needed") && cardText(c).includes(proposal.id))!;
    const actions = (card.actions ?? []) as Array<{ type: string; title: string; url: string }>;
    const link = actions.find((a) => a.title === "Exempt…")!;
    expect(link.url).toBe(`${env.host.origin}/api/proposals/${proposal.id}?intent=exempt`);

    // Alice made the change (and holds no AmlGuard.Exempt): refused, nothing exempted.
    const alicePage = await openAs(link.url, ALICE);
    await alicePage.getByRole("button", { name: "Exempt instead" }).click();
    await alicePage.locator("#result", { hasText: "Give a reason for the exemption" }).waitFor();
    await alicePage.getByLabel("Reason for the exemption (kept in the audit trail)").fill("my own demo");
    await alicePage.getByRole("button", { name: "Exempt instead" }).click();
    await alicePage.locator("#result", { hasText: "Refused (HTTP 403)" }).waitFor();

    // Bob opens the same link: the page is at the form, the dates are the scenario clock's (2026-11-25) and 90 days.
    const page = await openAs(link.url, BOB);
    const until = page.getByLabel("Exempt until (the last day, UTC)");
    await page.locator("#exempt-until:focus").waitFor();
    expect(await page.locator("#exempt-rules").textContent()).toBe("workspace-public-network-access");
    expect([await until.getAttribute("min"), await until.getAttribute("max"), await until.inputValue()]).toEqual(["2026-11-25", "2027-02-22", "2026-12-24"]);
    expect(await page.locator("#exempt-until-help").textContent()).toBe("At most 90 days (AMLGUARD_EXEMPTION_MAX_DAYS): any day from 2026-11-25 to 2027-02-22; 2026-12-24 is suggested.");
    await until.fill("2027-03-01");
    await page.getByLabel("Reason for the exemption (kept in the audit trail)").fill("vendor demo week, CHG-612");
    await page.getByRole("button", { name: "Exempt instead" }).click();
    await page.locator("#result", { hasText: "Choose a day from 2026-11-25 to 2027-02-22" }).waitFor();
    await until.fill("2026-12-04");
    await page.getByRole("button", { name: "Exempt instead" }).click();
    await page.locator("#result", { hasText: "This proposal is closed: nothing will be written." }).waitFor();
    expect(await page.locator("#proposal-status").textContent()).toBe("exempted");
    expect(await page.locator("#exempt").isHidden()).toBe(true);
    expect(await page.locator("#decide").isHidden()).toBe(true);

    const [exemption] = await env.world.runtime.exemptions.forResource(EXEMPT_INSTEAD);
    expect(exemption).toMatchObject({ rules: ["workspace-public-network-access"], reason: "vendor demo week, CHG-612", approvedBy: { objectId: BOB.objectId }, expires: "2026-12-04T23:59:59.999Z" });
    expect((await env.proposals.get(proposal.id))!.proposal).toMatchObject({ status: "exempted", decidedBy: { objectId: BOB.objectId }, result: { exemptionId: exemption!.id } });
    const rows = env.world.audit.recorded.filter((e) => e.resourceId?.toLowerCase() === EXEMPT_INSTEAD.toLowerCase());
    expect(rows.find((e) => e.decision === "exemption-approved")?.actor?.objectId).toBe(BOB.objectId);
    expect(rows.find((e) => e.decision === "proposal-exempted")?.message).toContain(`proposal ${proposal.id} exempted instead: exemption ${exemption!.id}`);
    expect(amlguardWritesTo(EXEMPT_INSTEAD)).toEqual([]);
    expect(publicAccess(EXEMPT_INSTEAD)).toBe("Enabled");
  });

  it("an expired proposal is refused and nothing is written", async () => {
    await env.write(ALICE, EXPIRED, PUBLIC);
    await env.settle();
    const proposal = await pendingProposal(EXPIRED);
    const page = await openAs(`${env.host.origin}/api/proposals/${proposal.id}`, BOB);
    // The scenario clock passes the proposal's expiry (24 hours by default) while the page is open.
    env.clock.advance(Date.parse(proposal.expiresAt) - env.clock.nowMs() + 1);
    await page.getByRole("button", { name: "Approve and remediate" }).click();
    await page.locator("#result", { hasText: "Refused (HTTP 410)" }).waitFor();
    expect(await page.locator("#result").textContent()).toContain("expired");
    expect(amlguardWritesTo(EXPIRED)).toEqual([]);
    expect(publicAccess(EXPIRED)).toBe("Enabled");
    expect((await env.proposals.get(proposal.id))!.proposal.status).toBe("expired");
  });
});
