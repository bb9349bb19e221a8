import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEndpointClients } from "../src/adapters.js";
import type { ArmResource } from "../src/arm/resource.js";
import { scanAndPrint } from "../src/cli/commands/scan.js";
import { buildReport } from "../src/report/model.js";
import { writeReport } from "../src/report/write.js";
import { startSandbox } from "../src/sandbox/index.js";
import { scanEstate, type EstateSource } from "../src/scan.js";
import { cli } from "./helpers/cli.js";
import { launchChromium } from "./helpers/chromium.js";

const SUB = "3f2b6c1e-8d4a-4b7e-9c1f-2a5d7e9b0c11";
// Markup in outside text: executed, either would set window.__pwned.
const IMG = `<img src=x onerror="window.__pwned='img'">`;
const SCRIPT = `<script>window.__pwned='script'</script>`;
const hostile: ArmResource = {
  id: `/subscriptions/${SUB}/resourceGroups/rg-ml-dev/providers/Microsoft.MachineLearningServices/workspaces/mlw-tagged`,
  type: "Microsoft.MachineLearningServices/workspaces",
  location: "westeurope",
  kind: "Default",
  tags: { owner: IMG, note: SCRIPT },
  properties: { publicNetworkAccess: "Enabled", allowPublicAccessWhenBehindVnet: false },
} as ArmResource;

let dir: string;
let browser: Browser;
let sandboxReport: { path: string; json: { findings: Array<{ resourceId: string; severity: string }> }; code: number };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "amlguard-report-"));
  browser = await launchChromium();
  // The demo estate plus one workspace whose tags carry markup, scanned through Resource Graph as `scan --html --json`.
  const sandbox = await startSandbox();
  try {
    sandbox.arm.seed([hostile]);
    const clients = createEndpointClients({ url: sandbox.arm.endpoint, credential: sandbox.arm.credential(), ca: sandbox.arm.ca });
    let stdout = "";
    const io = { stdout: { write: (s: string) => void (stdout += s) }, stderr: { write: () => undefined }, env: {} };
    const path = join(dir, "sandbox.html");
    const code = await scanAndPrint(io, clients, { via: "graph", subscriptions: sandbox.subscriptionIds }, { json: true, html: path });
    sandboxReport = { path, json: JSON.parse(stdout), code };
  } finally {
    await sandbox.close();
  }
}, 120_000);

afterAll(async () => {
  await browser?.close();
});

/** Opens a report as a person would: every non-file request is recorded and refused, page errors collected. */
async function open(path: string, width = 900): Promise<{ page: Page; external: string[]; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width, height: 900 } });
  const external: string[] = [];
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  page.on("dialog", (dialog) => void dialog.dismiss().then(() => errors.push(`dialog: ${dialog.message()}`)));
  await page.route("**/*", (route) => {
    const url = route.request().url();
    if (url.startsWith("file:")) return route.continue();
    external.push(url);
    return route.abort();
  });
  await page.goto(pathToFileURL(path).toString());
  return { page, external, errors };
}

describe("amlguard scan --html: the posture report in Chromium", () => {
  it("renders the sandbox estate offline: no page error, no request leaves the file, counts add up", async () => {
    expect(sandboxReport.code).toBe(1);
    const { page, external, errors } = await open(sandboxReport.path);
    expect(errors).toEqual([]);
    expect(external).toEqual([]);
    const rows = await page.locator("tbody.finding").count();
    expect(rows).toBe(sandboxReport.json.findings.length);
    expect(rows).toBeGreaterThan(20);
    expect(Number(await page.locator('[data-summary="total"]').innerText())).toBe(rows);
    for (const severity of ["critical", "high", "medium", "low"]) {
      const shown = Number(await page.locator(`[data-summary="${severity}"]`).innerText());
      expect(shown, severity).toBe(await page.locator(`tbody.finding[data-severity="${severity}"]`).count());
      expect(shown, severity).toBe(sandboxReport.json.findings.filter((f) => f.severity === severity).length);
    }
    expect(await page.locator("[data-verdict]").getAttribute("data-verdict")).toBe("findings");
    // Scope and what was not checked: the two diagnostic-settings rules, never silently passing.
    const notChecked = await page.locator("#not-checked").innerText();
    expect(notChecked).toContain("rule workspace-no-resource-logs");
    expect(notChecked).toContain("rule endpoint-no-traffic-logs");
    expect(await page.locator("header").innerText()).toContain(SUB);
    await page.close();
  });

  it("shows every finding's resource id whole, wrapped inside its cell at a narrow width", async () => {
    const { page } = await open(sandboxReport.path, 700);
    // Page expressions as strings: the tests are compiled without DOM types.
    const cells = (await page.evaluate(
      `[...document.querySelectorAll("tbody.finding td.rid")].map((td) => ({ text: td.innerText, overflow: td.scrollWidth - td.clientWidth, right: td.getBoundingClientRect().right }))`,
    )) as Array<{ text: string; overflow: number; right: number }>;
    expect(cells.map((c) => c.text).sort()).toEqual(sandboxReport.json.findings.map((f) => f.resourceId).sort());
    for (const cell of cells) {
      expect(cell.overflow, cell.text).toBeLessThanOrEqual(0);
      expect(cell.right, cell.text).toBeLessThanOrEqual(700);
    }
    await page.close();
  });

  it("shows the undo of amlguard's action and the remediation snippets with each finding", async () => {
    const { page } = await open(sandboxReport.path);
    const finding = page.locator(`tbody.finding[data-rule="workspace-public-network-access"]`).filter({ hasText: "mlw-sandbox-dev" });
    expect(await finding.locator("pre.undo").innerText()).toBe(
      `az ml workspace update --subscription ${SUB} --resource-group rg-ml-dev --name mlw-sandbox-dev --public-network-access Enabled`,
    );
    expect(await finding.locator("pre.az").innerText()).toMatch(/^az ml workspace update .*--public-network-access Disabled$/);
    expect(await finding.locator("pre.bicep").innerText()).toContain("publicNetworkAccess: 'Disabled'");
    // An alert-only rule says so instead of inventing an undo.
    const alertOnly = page.locator(`tbody.finding[data-rule="workspace-public-access-behind-vnet"]`).first();
    expect(await alertOnly.locator("pre.undo").count()).toBe(0);
    expect(await alertOnly.innerText()).toContain("alert only");
    // Compliance coverage lists every rule with its mappings.
    expect(await page.locator("#compliance tr[data-rule]").count()).toBe(18);
    expect(await page.locator('#compliance tr[data-rule="workspace-public-network-access"]').innerText()).toContain("438c38d2-3772-465a-a9cc-7a6666a275ce");
    await page.close();
  });

  it("shows markup in tags, evidence and resource names as text and never runs it", async () => {
    // A resource name from a Resource Graph row ARM would refuse: the report escapes whatever it is given.
    const named: ArmResource = { ...hostile, id: `${hostile.id.replace("mlw-tagged", `mlw-${SCRIPT}${IMG}`)}`, properties: { publicNetworkAccess: IMG } } as ArmResource;
    const source: EstateSource = { via: "graph", errors: [], computeSource: { via: "graph", reason: "test" }, async *pages() { yield [named]; } };
    const result = await scanEstate(source);
    const path = join(dir, "hostile.html");
    await writeReport(path, buildReport(result, { via: "graph", subscriptions: [SUB] }, new Date("2026-11-25T12:00:00Z")));
    for (const report of [sandboxReport.path, path]) {
      const { page, external, errors } = await open(report);
      expect(errors).toEqual([]);
      expect(external).toEqual([]);
      expect(await page.evaluate("window.__pwned")).toBeUndefined();
      expect(await page.evaluate("[document.images.length, document.scripts.length]")).toEqual([0, 0]);
      const text = await page.locator("#findings").innerText();
      expect(text).toContain(IMG);
      if (report === path) expect(text).toContain(`mlw-${SCRIPT}${IMG}`);
      else expect(text).toContain(SCRIPT);
      await page.close();
    }
  });
});

describe("amlguard scan --html: paths and empty scopes", () => {
  it("refuses a path it cannot write before scanning: exit 2, nothing written", async () => {
    const missing = join(dir, "no-such-folder", "r.html");
    for (const [path, message] of [
      [missing, "does not exist"],
      [dir, "is a folder"],
    ] as const) {
      const result = await cli(["scan", "--sandbox", "--html", path]);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(message);
      expect(result.stdout).toBe("");
    }
    expect(existsSync(missing)).toBe(false);
  });

  it("says 'nothing was checked' for an unmatched scope, never all clear (exit 3)", async () => {
    const path = join(dir, "empty.html");
    const result = await cli(["scan", "--sandbox", "--resource-group", "does-not-exist", "--html", path]);
    expect(result.code).toBe(3);
    const html = readFileSync(path, "utf8");
    expect(html).toContain('data-verdict="nothing-checked"');
    expect(html).toContain("This is not an all-clear");
    expect(html).not.toMatch(/No findings on/);
  });
});

describe("the posture report's content (no browser)", () => {
  const empty = { workspace: 0, compute: 0, onlineEndpoint: 0, onlineDeployment: 0, registry: 0 };

  it("a scope part that could not be read makes the report incomplete, never compliant, and says which part", () => {
    const report = buildReport(
      { findings: [], resourceCounts: { ...empty, workspace: 3 }, violating: [], errors: [{ scope: `/subscriptions/${SUB}`, message: "AuthorizationFailed: no read access" }], computeSource: { via: "graph", reason: "not checked: the Resource Graph query failed" } },
      { via: "graph", subscriptions: [SUB] },
      new Date("2026-11-25T12:00:00Z"),
    );
    expect(report.verdict.kind).toBe("incomplete");
    expect(report.verdict.text).toContain("not an all-clear");
    expect(report.notChecked).toEqual(expect.arrayContaining([{ what: `/subscriptions/${SUB}`, why: "could not be read: AuthorizationFailed: no read access" }, { what: "computes", why: "not checked: the Resource Graph query failed" }]));
    expect(report.notChecked.map((n) => n.what)).toEqual(expect.arrayContaining(["registries", "online endpoints"]));
  });

  it("groups by workspace (registries belong to none) and maps findings to controls", async () => {
    const result = await scanEstate({ via: "graph", errors: [], computeSource: { via: "graph", reason: "test" }, async *pages() { yield [hostile]; } });
    const report = buildReport(result, { via: "graph", subscriptions: [], managementGroup: "mg-ml" }, new Date("2026-11-25T12:00:00Z"));
    expect(report.byWorkspace).toEqual([{ key: hostile.id, count: report.findings.length, resources: 1 }]);
    expect(report.bySubscription).toEqual([{ key: SUB, count: report.findings.length, resources: 1 }]);
    const html = (await import("../src/report/html.js")).renderReportHtml(report);
    expect(html).toContain("mg-ml");
    expect(html).not.toContain("<img");
    expect(html).not.toMatch(/<script/i);
  });
});

