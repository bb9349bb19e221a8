import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { adaptiveCardProblems } from "../src/sandbox/adaptive-card-check.js";
import { DEMO_BOT, DEMO_USER, runDemo } from "../src/demo.js";

describe("npm start: the demo plays the whole bot on the embedded sandbox", () => {
  it("scans, remediates the user's risky writes through the real handler, honours the exemption, and never loops", async () => {
    const steps: string[] = [];
    const galleryPath = join(mkdtempSync(join(tmpdir(), "amlguard-demo-")), "alerts.html");
    const result = await runDemo({ progress: (s) => steps.push(s) }, { galleryPath });
    expect(steps).toHaveLength(6);
    expect(result.scan.findings.length).toBeGreaterThan(0);
    const byRule = (decision: string): string[] => result.audit.filter((r) => r.decision === decision).map((r) => `${r.ruleId}@${r.resourceId!.split("/").pop()}`).sort();
    expect(byRule("remediated")).toEqual([
      "compute-node-public-ip@ci-bob",
      "compute-node-public-ip@gpu-cluster",
      "compute-public-ssh@ci-bob",
      "compute-public-ssh@gpu-cluster",
      "endpoint-public-network-access@fraud-score",
      "workspace-public-network-access@mlw-fraud-prod",
    ]);
    expect(byRule("exempt")).toEqual(["registry-public-network-access@reg-shared-models"]);
    // The duplicate delivery of the workspace event reads the workspace again and finds it fixed: no second write.
    const workspaceEvent = result.audit.find((r) => r.decision === "remediated" && r.ruleId === "workspace-public-network-access")!.eventId;
    expect(result.audit.filter((r) => r.eventId === workspaceEvent).map((r) => r.decision).sort()).toEqual(["compliant", "remediated"]);
    // Every remediation was caused by the user; nothing the bot's own writes triggered was acted on.
    expect(result.audit.filter((r) => r.decision === "remediated").every((r) => r.actor?.objectId === DEMO_USER.objectId)).toBe(true);
    const fromBot = result.audit.filter((r) => r.actor?.objectId === DEMO_BOT.objectId);
    expect(fromBot.length).toBeGreaterThan(0);
    expect(fromBot.every((r) => ["compliant", "own-write", "ignored"].includes(r.decision))).toBe(true);
    // One alert per write: ci-bob's stop and gpu-cluster's cap each answer two rules.
    expect(result.alerts.filter((a) => a.outcome === "remediated")).toHaveLength(4);
    // The outbox delivered them: one digest card to Teams (all severities), one email (high and above).
    expect(result.received.teamsCards).toHaveLength(1);
    expect(adaptiveCardProblems(result.received.teamsCards[0]!.card)).toEqual([]);
    expect(JSON.stringify(result.received.teamsCards[0]!.card)).toContain(`amlguard: ${result.alerts.length} alerts`);
    expect(result.received.emails).toHaveLength(1);
    expect(result.received.emails[0]!.subject).toMatch(/^\[amlguard\] \d+ alerts/);
    const page = readFileSync(galleryPath, "utf8");
    expect(page).toContain("AdaptiveCards.AdaptiveCard");
    expect(page).toContain(result.received.emails[0]!.subject.replace(/&/g, "&amp;"));
  });
});
