/**
 * npm run screenshot:approval [-- --out FILE]: a PNG of the approval page with a proposal shown, made the way the
 * end-to-end test runs it (test/approval-e2e.test.ts): the sandbox, amlguard's real handlers in mode approve, a
 * user's write making a workspace public, then a second person signed in to the page in headless Chromium (Debian's
 * chromium through playwright-core). Default output: docs/screenshots/approval-page.png (the README shows it).
 */
import { mkdir } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { packageRoot } from "../src/paths.js";
import { ALICE, BOB, startApprovalWorld, workspaceId } from "../test/helpers/approval-world.js";
import { launchChromium } from "../test/helpers/chromium.js";

const root = packageRoot();
const at = process.argv.indexOf("--out");
const out = at > 0 && process.argv[at + 1] ? process.argv[at + 1]! : join(root, "docs", "screenshots", "approval-page.png");
const workspace = workspaceId("mlw-fraud-prod");

const env = await startApprovalWorld(["mlw-fraud-prod"]);
const browser = await launchChromium();
try {
  process.stderr.write("a user's write makes the workspace public; amlguard proposes the fix…\n");
  await env.write(ALICE, workspace, { properties: { publicNetworkAccess: "Enabled" } });
  await env.settle();
  const card = env.teams.received.at(-1)?.card as { actions?: Array<{ title: string; url: string }> } | undefined;
  const link = card?.actions?.find((a) => a.title === "Review and approve")?.url;
  if (!link) throw new Error("no Review and approve link in the Teams card");
  process.stderr.write("a second person opens the link and signs in…\n");
  const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1100, height: 900 }, deviceScaleFactor: 1, colorScheme: "light" });
  context.setDefaultTimeout(120_000);
  const page = await context.newPage();
  await page.goto(link);
  await page.getByRole("button", { name: "Sign in with Microsoft Entra" }).click();
  await page.getByRole("button", { name: BOB.name }).click();
  await page.locator("#status", { hasText: "Proposal loaded." }).waitFor();
  await mkdir(dirname(out), { recursive: true });
  await page.screenshot({ path: out, fullPage: true });
  await context.close();
  process.stdout.write(`${relative(process.cwd(), out) || out}\n`);
} finally {
  await browser.close();
  await env.close();
}
