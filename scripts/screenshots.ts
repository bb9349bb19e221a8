/**
 * The README's pictures, rendered in headless Chromium (Debian's chromium package): npm run screenshots.
 *  - docs/screenshots/posture-report.png: the top of `amlguard scan --sandbox --html` (scope, counts, verdict,
 *    severity summary, what was not checked); posture-report-finding.png: one finding with evidence and undo.
 *  - docs/screenshots/alert-card.png: one single-alert Adaptive Card from the alert gallery the demo writes (the
 *    adaptivecards library renders it, as `npm run check:gallery` does): a remediation, with its undo command.
 * Everything is offline: the pages fetch nothing, and any request that is not a file is refused.
 */
import { existsSync, mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium, type Page } from "playwright-core";
import { createEndpointClients } from "../src/adapters.js";
import { scanAndPrint } from "../src/cli/commands/scan.js";
import { runDemo } from "../src/demo.js";
import { startSandbox } from "../src/sandbox/index.js";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
if (!existsSync(CHROMIUM)) {
  process.stderr.write(`screenshots: no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)\n`);
  process.exit(2);
}
const OUT = resolve("docs/screenshots");
mkdirSync(OUT, { recursive: true });
const work = mkdtempSync(join(tmpdir(), "amlguard-screenshots-"));
const quiet = { write: () => undefined };

// 1. The posture report of the sandbox estate, exactly as `amlguard scan --sandbox --html` writes it.
const reportPath = join(work, "posture-report.html");
const sandbox = await startSandbox();
try {
  const clients = createEndpointClients({ url: sandbox.arm.endpoint, credential: sandbox.arm.credential(), ca: sandbox.arm.ca });
  await scanAndPrint({ stdout: quiet, stderr: quiet, env: {} }, clients, { via: "graph", subscriptions: sandbox.subscriptionIds }, { html: reportPath });
} finally {
  await sandbox.close();
}

// 2. The alert gallery the demo writes (each alert as its single card, and the digest the receiver got).
process.stderr.write("screenshots: running the demo for its alert gallery\n");
const demo = await runDemo({ progress: () => undefined }, { galleryPath: join(work, "demo-alerts.html") });

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
async function open(path: string, width: number, height: number): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width, height }, deviceScaleFactor: 1 });
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  await page.route("**/*", (route) => (route.request().url().startsWith("file:") ? route.continue() : (errors.push(`external request: ${route.request().url()}`), route.abort())));
  await page.goto(pathToFileURL(path).toString());
  return { page, errors };
}
const written: string[] = [];
try {
  const report = await open(reportPath, 1200, 1500);
  await report.page.screenshot({ path: join(OUT, "posture-report.png") });
  // The findings table with one finding left in it: a public workspace, with evidence, remediation and undo.
  await report.page.evaluate(
    `(() => { const keep = document.querySelector('tbody.finding[data-rule="workspace-public-network-access"]'); for (const body of document.querySelectorAll("tbody.finding")) if (body !== keep) body.remove(); })()`,
  );
  await report.page.locator("table.findings").screenshot({ path: join(OUT, "posture-report-finding.png") });
  written.push("posture-report.png", "posture-report-finding.png");

  const card = await open(demo.galleryPath, 900, 1400);
  // Page expressions as strings: this script is compiled without DOM types.
  await card.page.waitForFunction("document.body.dataset.rendered !== undefined", undefined, { timeout: 10_000 });
  // A single card of a public workspace the demo's pipeline remediated: evidence, what was done, the undo, next step.
  const singles = card.page.locator('.card[data-kind="single"]').filter({ hasText: "Remediated by amlguard" });
  const workspace = singles.filter({ hasText: "workspace-public-network-access" }).first();
  const chosen = (await workspace.count()) ? workspace : singles.first();
  if ((await chosen.count()) === 0) throw new Error("the demo's gallery has no single remediated card");
  await chosen.screenshot({ path: join(OUT, "alert-card.png") });
  written.push("alert-card.png");
  const errors = [...report.errors, ...card.errors];
  if (errors.length) throw new Error(`page errors: ${errors.join("; ")}`);
} finally {
  await browser.close();
}
process.stdout.write(`${JSON.stringify({ written: written.map((name) => `docs/screenshots/${name}`) })}\n`);
