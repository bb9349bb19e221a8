/**
 * Renders the demo's alert gallery in headless Chromium (Debian's chromium package) and checks that every Adaptive
 * Card and email rendered: npm run check:gallery [-- path/to/page.html]. Writes a screenshot next to the page.
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium } from "playwright-core";
import { runDemo } from "../src/demo.js";

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
  await tab.goto(pathToFileURL(page).toString());
  // Page expressions as strings: this script is compiled without DOM types.
  await tab.waitForFunction("document.body.dataset.rendered !== undefined", undefined, { timeout: 10_000 });
  const rendered = Number(await tab.evaluate("document.body.dataset.rendered"));
  const expectedCards = await tab.locator(".card").count();
  const emails = await tab.locator("iframe").count();
  const screenshot = page.replace(/\.html$/, ".png");
  await tab.screenshot({ path: screenshot, fullPage: true });
  process.stdout.write(`${JSON.stringify({ page, renderedCards: rendered, cardContainers: expectedCards, emails, pageErrors: errors, screenshot })}\n`);
  if (errors.length || rendered === 0 || rendered !== expectedCards) process.exitCode = 1;
} finally {
  await browser.close();
}
