/**
 * Renders the demo's alert gallery in headless Chromium (Debian's chromium package) and checks it
 * (scripts/gallery-checks.ts): every Adaptive Card rendered, single and digest cards both present, every undo command
 * monospace, unbroken and exact, in cards and emails. npm run check:gallery [-- path/to/page.html]. Writes a
 * screenshot of the page next to it, and one of a remediated single card and of the digest card
 * (<page>-single-card.png, <page>-digest-card.png).
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium } from "playwright-core";
import { runDemo } from "../src/demo.js";
import { galleryProblems, inspectGallery } from "./gallery-checks.js";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
if (!existsSync(CHROMIUM)) {
  process.stderr.write(`check-gallery: no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)\n`);
  process.exit(2);
}
const given = process.argv[2];
const page = given ? resolve(given) : (await runDemo({ progress: (s) => void process.stderr.write(`${s}\n`) })).galleryPath;
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
try {
  const tab = await browser.newPage({ viewport: { width: 1000, height: 1400 } });
  const errors: string[] = [];
  tab.on("pageerror", (error) => errors.push(error.message));
  const report = await inspectGallery(tab, pathToFileURL(page).toString());
  const problems = galleryProblems(report, errors);
  const screenshot = page.replace(/\.html$/, ".png");
  await tab.screenshot({ path: screenshot, fullPage: true });
  // One card of each kind on its own, for the README: a remediated single card (a contained compute, whose one action
  // answers two findings, when the page has one) and the digest.
  const singles = tab.locator('.card[data-kind="single"]');
  const contained = singles.filter({ hasText: "Contained, not fixed" }).first();
  const cards = {
    single: (await contained.count()) ? contained : singles.filter({ hasText: "Remediated by amlguard" }).first(),
    digest: tab.locator('.card[data-kind="digest"]').first(),
  };
  const cardShots: Record<string, string> = {};
  for (const [kind, locator] of Object.entries(cards)) {
    if ((await locator.count()) === 0) continue;
    cardShots[kind] = page.replace(/\.html$/, `-${kind}-card.png`);
    await locator.screenshot({ path: cardShots[kind] });
  }
  const { cardContainers, renderedCards, kinds, emails } = report;
  process.stdout.write(`${JSON.stringify({ page, renderedCards, cardContainers, kinds, undoBlocks: report.undoBlocks.length, emails, emailUndo: report.emailUndo.length, problems, screenshot, cardShots })}\n`);
  if (problems.length) process.exitCode = 1;
} finally {
  await browser.close();
}
