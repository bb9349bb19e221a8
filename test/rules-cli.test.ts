import { describe, expect, it } from "vitest";
import type { Alert } from "../src/alerts/alert.js";
import { renderEmail } from "../src/alerts/email.js";
import { complianceText, factsOf } from "../src/alerts/render.js";
import { alertCard } from "../src/alerts/teams-card.js";
import { catalogue, catalogueTable } from "../src/cli/commands/rules.js";
import { RULES, ruleById } from "../src/rules/index.js";
import { cli } from "./helpers/cli.js";

describe("amlguard rules", () => {
  it("--json lists every rule with severity, categories, compliance ids, action and title", async () => {
    const result = await cli(["rules", "--json"]);
    expect(result.code).toBe(0);
    const entries = JSON.parse(result.stdout) as Array<Record<string, any>>;
    expect(entries.map((e) => e.id).sort()).toEqual(RULES.map((r) => r.id).sort());
    const pna = entries.find((e) => e.id === "workspace-public-network-access")!;
    expect(pna).toMatchObject({ severity: "high", categories: ["internet-exposed"], action: "disable-public-network-access", compliance: { azurePolicy: ["438c38d2-3772-465a-a9cc-7a6666a275ce"], mcsb: ["NS-2"] } });
    expect(entries.find((e) => e.id === "workspace-no-private-link")).toMatchObject({ action: "alert-only", aliases: ["workspace-no-network-isolation"] });
    expect(entries.every((e) => typeof e.remediation.az === "string" && typeof e.remediation.bicep === "string")).toBe(true);
  });

  it("as a table, piped: one row per rule with every id whole", async () => {
    const result = await cli(["rules"]);
    expect(result.code).toBe(0);
    for (const rule of RULES) {
      // The action word follows the rule's intent: compute can only be contained (stopped or capped), not fixed.
      const word = !rule.fix ? "alert" : rule.fix === "contain-compute" ? "contain" : "fix";
      expect(result.stdout).toMatch(new RegExp(`^${rule.id}\\s+${rule.severity.toUpperCase()}\\s+${word}\\s+`, "m"));
      for (const guid of rule.compliance.azurePolicy) expect(result.stdout).toContain(guid);
    }
    expect(result.stdout).toContain(`${RULES.length} rules`);
  });

  it("on a narrow terminal it wraps the last column at spaces and never cuts an id or a GUID", () => {
    for (const columns of [60, 80, 100, 140]) {
      const text = catalogueTable(catalogue(), columns);
      expect(text, `${columns} columns`).not.toContain("…");
      for (const rule of RULES) {
        expect(text).toMatch(new RegExp(`^${rule.id}\\s`, "m"));
        for (const guid of rule.compliance.azurePolicy) expect(text).toMatch(new RegExp(`(^|\\s)${guid}(\\s|$)`, "m"));
        // The title is all there, in order, across its wrapped lines.
        const words = rule.title.split(" ");
        expect(text.replace(/\s+/g, " ")).toContain(words.slice(0, 3).join(" "));
      }
    }
  });
});

describe("alerts carry the rule's compliance ids", () => {
  const rule = ruleById("workspace-no-resource-logs")!;
  const alert: Alert = {
    severity: rule.severity,
    outcome: "needs-action",
    resourceId: "/subscriptions/3f2b6c1e-8d4a-4b7e-9c1f-2a5d7e9b0c11/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws1",
    ruleId: rule.id,
    compliance: rule.compliance,
    title: rule.title,
    evidence: "none of the workspace's 0 diagnostic settings collects resource logs",
    at: "2026-11-25T02:00:00.000Z",
  };

  it("as one fact with whole ids, in the Teams card and both email bodies", () => {
    const text = complianceText(alert.compliance)!;
    expect(text).toBe("Azure Policy afe0c3be-ba3b-4544-ba52-0c99672a8ad6 · MCSB LT-3 · CIS Azure 6.4");
    expect(factsOf(alert)).toContainEqual(["Compliance", text]);
    const card = JSON.stringify(alertCard(alert));
    expect(card).toContain("afe0c3be-ba3b-4544-ba52-0c99672a8ad6");
    const email = renderEmail([alert]);
    expect(email.text).toContain(`Compliance: ${text}`);
    expect(email.html).toContain("afe0c3be-ba3b-4544-ba52-0c99672a8ad6");
  });

  it("an alert without a rule (a spike) has no compliance fact", () => {
    const spike: Alert = { ...alert };
    delete spike.compliance;
    delete spike.ruleId;
    expect(factsOf(spike).map(([k]) => k)).not.toContain("Compliance");
    expect(factsOf(alert).map(([k]) => k)).toContain("Compliance");
  });
});
