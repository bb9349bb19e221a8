import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser } from "playwright-core";
import type { Alert } from "../src/alerts/alert.js";
import { renderEmail } from "../src/alerts/email.js";
import { digestCard } from "../src/alerts/teams-card.js";
import { cliNames } from "../src/remediation/plan.js";
import { writeGallery } from "../src/sandbox/gallery.js";
import { galleryProblems, inspectGallery } from "../scripts/gallery-checks.js";
import { launchChromium } from "./helpers/chromium.js";

const WS = "/subscriptions/3f2b6c1e-8d4a-4b7e-9c1f-2a5d7e9b0c11/resourceGroups/rg-ml-dev/providers/Microsoft.MachineLearningServices/workspaces/mlw-sandbox-dev";

function alert(name: string, overrides: Partial<Alert> = {}): Alert {
  const id = `${WS}/computes/${name}`;
  return {
    severity: "high",
    outcome: "remediated",
    resourceId: id,
    ruleId: "compute-node-public-ip",
    title: "Compute nodes have public IP addresses",
    evidence: "enableNodePublicIp is absent (service default: true)",
    actionTaken: "Stop the compute instance.",
    // A long command: a proportional, wrapping renderer would break it inside a flag.
    undo: `az ml compute update ${cliNames(id)} --max-instances 8 --min-instances 4`,
    nextStep: "Contained, not fixed: recreate the cluster without node public IPs.",
    actor: { name: "alice@contoso.example", principalType: "User" },
    at: "2026-11-25T02:00:00.000Z",
    ...overrides,
  };
}

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

describe("the alert gallery in headless Chromium (what check:gallery runs on the demo's page)", () => {
  it("renders single and digest cards; every undo is monospace, unwrapped and exact, in cards and emails", async () => {
    const alerts = [alert("gpu-cluster-with-a-long-name-0001"), alert("gpu-2"), alert("ci-3", { severity: "medium", outcome: "needs-action", undo: undefined, actionTaken: undefined })];
    const path = join(mkdtempSync(join(tmpdir(), "amlguard-gallery-")), "alerts.html");
    const digest = renderEmail(alerts);
    await writeGallery(path, [{ at: "", card: digestCard(alerts) }], [{ at: "", from: "amlguard@contoso.example", to: ["secops@contoso.example"], ...digest }], alerts);
    const tab = await browser.newPage({ viewport: { width: 1000, height: 1400 } });
    const errors: string[] = [];
    tab.on("pageerror", (error) => errors.push(error.message));
    const report = await inspectGallery(tab, pathToFileURL(path).toString());
    expect(galleryProblems(report, errors)).toEqual([]);
    expect(report.kinds).toEqual({ single: 3, digest: 1 });
    expect(report.renderedCards).toBe(4);
    // Two remediated alerts: their undo in the digest and in their single cards; every block joins back exactly.
    const expected = alerts.flatMap((a) => (a.undo ? [a.undo] : []));
    expect(report.undoBlocks.map((b) => b.command).sort()).toEqual([...expected, ...expected].sort());
    expect(report.undoBlocks.every((b) => b.monospace && b.wrappedLines === 0 && b.lines === 7 && b.pasteable)).toBe(true);
    // Emails: the digest (two undo blocks) and the single example (one).
    expect(report.emailUndo.map((e) => e.command).sort()).toEqual([...expected, expected[0]!].sort());
    expect(report.emailUndo.every((e) => e.whiteSpace === "pre" && e.monospace)).toBe(true);
    await tab.close();
  });

  it("in a narrow card a line may wrap on screen, but what a person copies is still the exact command, one flag a line", async () => {
    const alerts = [alert("gpu-cluster-with-a-long-name-0001"), alert("gpu-2"), alert("gpu-3")];
    const path = join(mkdtempSync(join(tmpdir(), "amlguard-gallery-")), "alerts.html");
    await writeGallery(path, [{ at: "", card: digestCard(alerts) }], [], alerts);
    const tab = await browser.newPage({ viewport: { width: 420, height: 900 } });
    const report = await inspectGallery(tab, pathToFileURL(path).toString());
    expect(report.undoBlocks).toHaveLength(6);
    for (const block of report.undoBlocks) {
      expect(block.pasteable).toBe(true);
      expect(alerts.map((a) => a.undo)).toContain(block.command);
      expect(block.copied.split("\n").filter((l) => l.trim())).toHaveLength(7);
    }
    await tab.close();
  });

  it("the check fails a page that lacks a kind or breaks an undo", () => {
    const base = { cardContainers: 2, renderedCards: 2, kinds: { single: 1, digest: 1 }, emails: 0, emailUndo: [], expectedUndo: ["az ml compute start --name x"] };
    expect(galleryProblems({ ...base, undoBlocks: [{ command: "az ml compute start --name x", copied: "az ml compute start \\\n--name x", pasteable: true, lines: 2, monospace: true, wrappedLines: 0 }] })).toEqual([]);
    expect(galleryProblems({ ...base, kinds: { single: 0, digest: 2 }, undoBlocks: [{ command: "az ml compute start --", copied: "az ml compute start --\nname x", pasteable: false, lines: 2, monospace: false, wrappedLines: 1 }] })).toEqual([
      "no single-alert card",
      "undo not monospace: az ml compute start --",
      "undo copies as several commands (a line break without a continuation): az ml compute start --\nname x",
      "undo wrapped inside a line (1 of 2): az ml compute start --",
      "undo in a card is not a command amlguard gave: az ml compute start --",
    ]);
  });
});
