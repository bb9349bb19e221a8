/**
 * The README's pictures, rendered in headless Chromium (Debian's chromium package): npm run screenshots.
 *  - docs/screenshots/posture-report.png: the top of `amlguard scan --sandbox --html` (scope, counts, verdict,
 *    severity summary, what was not checked); posture-report-finding.png: one finding with evidence and undo.
 *  - docs/screenshots/alert-card.png: one single-alert Adaptive Card, an alert the demo's pipeline raised, rendered by
 *    the gallery's renderer (the adaptivecards library, as `npm run check:gallery` does).
 * Everything is offline: the pages fetch nothing, and any request that is not a file is refused.
 */
import { existsSync, mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium, type Page } from "playwright-core";
import { createEndpointClients } from "../src/adapters.js";
import { alertCard } from "../src/alerts/teams-card.js";
import { scanAndPrint } from "../src/cli/commands/scan.js";
import { runDemo } from "../src/demo.js";
import { writeGallery } from "../src/sandbox/gallery.js";
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

// 2. One alert the demo's pipeline raised: a remediation with its undo command (the most a card carries).
process.stderr.write("screenshots: running the demo for a real alert\n");
const demo = await runDemo({ progress: () => undefined }, { galleryPath: join(work, "demo-alerts.html") });
const alert =
  demo.alerts.find((a) => a.outcome === "remediated" && a.undo && a.ruleId === "workspace-public-network-access") ??
  demo.alerts.find((a) => a.outcome === "remediated" && a.undo) ??
  demo.alerts[0];
if (!alert) throw new Error("the demo raised no alert to render");
const cardPage = join(work, "alert-card.html");
await writeGallery(cardPage, [{ at: alert.at, card: alertCard(alert) }], []);

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

  const card = await open(cardPage, 800, 1200);
  // Page expressions as strings: this script is compiled without DOM types.
  await card.page.waitForFunction("document.body.dataset.rendered !== undefined", undefined, { timeout: 10_000 });
  if (Number(await card.page.evaluate("document.body.dataset.rendered")) !== 1) throw new Error("the alert card did not render");
  await card.page.locator(".card").first().screenshot({ path: join(OUT, "alert-card.png") });
  written.push("alert-card.png");
  const errors = [...report.errors, ...card.errors];
  if (errors.length) throw new Error(`page errors: ${errors.join("; ")}`);
} finally {
  await browser.close();
}
process.stdout.write(`${JSON.stringify({ written: written.map((name) => `docs/screenshots/${name}`), alert: { outcome: alert.outcome, ruleId: alert.ruleId } })}\n`);
