import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { auditTable, findingsTable, table as plainTable } from "../src/cli/format.js";
import { progressReporter } from "../src/cli/progress.js";
import { table, type Column } from "../src/cli/table.js";
import type { Finding } from "../src/rules/index.js";

const identifier = fc.stringMatching(/^[a-z][a-z0-9-]{0,59}$/);
const prose = fc.array(fc.stringMatching(/^[A-Za-z0-9."():-]{1,40}$/), { minLength: 1, maxLength: 8 }).map((words) => words.join(" "));

describe("CLI tables", () => {
  it("never cut an identifier or a word at any terminal width; what is left out is said", () => {
    const columns: Column[] = [
      { header: "SEVERITY", drop: 1 },
      { header: "RULE" },
      { header: "RESOURCE", wrap: "path" },
      { header: "EVIDENCE", wrap: "words", below: 1 },
    ];
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom("HIGH", "MEDIUM"), identifier, fc.array(identifier, { minLength: 1, maxLength: 3 }), prose), { minLength: 1, maxLength: 6 }), fc.integer({ min: 10, max: 220 }), (raw, width) => {
        const rows = raw.map(([severity, rule, path, evidence]) => [severity, rule, path.join("/"), evidence]);
        const out = table(columns, rows, width);
        const lines = out.split("\n");
        for (const [severity, rule, resource, evidence] of rows) {
          // Identifiers whole on one line; path segments and words whole, even when wrapped.
          expect(lines.some((l) => l.includes(rule!))).toBe(true);
          for (const name of resource!.split("/")) expect(out).toContain(name);
          for (const word of evidence!.split(" ")) expect(out).toContain(word);
          if (!out.includes("SEVERITY left out")) expect(out).toContain(severity);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("piped (no width), every row is one whole line: a 35-character rule id is never cut to 34", () => {
    const record = { at: "2026-11-25T10:00:00.000Z", decision: "alerted", trigger: "sweep", ruleId: "workspace-public-access-behind-vnet", resourceId: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/mlw-a-rather-long-workspace-name", message: "rule mode is alert; allowPublicAccessWhenBehindVnet is true" };
    const out = auditTable([record as never], Number.POSITIVE_INFINITY);
    const [header, row] = out.split("\n");
    expect(out.split("\n")).toHaveLength(2);
    expect(header).toMatch(/^TIME\s+DECISION\s+RULE\s+RESOURCE\s+CAUSED BY\s+CHANGE \/ REASON$/);
    expect(row).toContain("workspace-public-access-behind-vnet");
    expect(row).toContain("mlw-a-rather-long-workspace-name");
    expect(row).toContain("rule mode is alert; allowPublicAccessWhenBehindVnet is true");
  });

  it("at 80 columns the findings evidence goes under its row, whole, instead of being cut", () => {
    const finding: Finding = { ruleId: "workspace-public-access-behind-vnet", severity: "high", title: "t", resourceId: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/mlw-sandbox-dev", resourceType: "Microsoft.MachineLearningServices/workspaces", evidence: { summary: "allowPublicAccessWhenBehindVnet is true", observed: {} } } as unknown as Finding;
    const out = findingsTable([finding], 80);
    expect(out.split("\n")).toEqual([
      "SEVERITY  RULE                                 RESOURCE",
      "HIGH      workspace-public-access-behind-vnet  mlw-sandbox-dev",
      "          evidence: allowPublicAccessWhenBehindVnet is true",
    ]);
    for (const line of out.split("\n")) expect(line.length).toBeLessThanOrEqual(80);
    expect(findingsTable([finding], 200).split("\n")[1]).toMatch(/^HIGH\s+workspace-public-access-behind-vnet\s+mlw-sandbox-dev\s+allowPublicAccessWhenBehindVnet is true$/);
  });

  it("drops columns in the documented order, and says so", () => {
    const out = table([{ header: "TIME", drop: 1 }, { header: "ID" }], [["12:00:00", "a-very-long-identifier-that-fills-the-terminal"]], 50);
    expect(out).toContain("(TIME left out to fit the terminal");
    expect(out).toContain("a-very-long-identifier-that-fills-the-terminal");
  });
});

describe("tables from plain headers (commands written against the older signature)", () => {
  it("keep every column whole but the last, which wraps or moves under its row; width caps cut nothing", () => {
    const out = plainTable(["ID", "NOTE"], [["workspace-public-access-behind-vnet", "a note long enough to need wrapping"]], 40, [10]);
    expect(out.split("\n")).toEqual(["ID", "workspace-public-access-behind-vnet", "  note: a note long enough to need", "        wrapping"]);
  });
});

describe("progress on a pipe", () => {
  it("ends with the final counts, never a stale first line (an injected clock: no line a second)", () => {
    const lines: string[] = [];
    let now = 0;
    const progress = progressReporter({ write: (s) => void lines.push(s) }, "scan", () => now);
    progress.update({ resources: 0, findings: 0, detail: "starting" });
    now += 10; // within the second: not written
    progress.update({ resources: 14, findings: 17, detail: "page 1" });
    progress.done();
    expect(lines).toEqual(["scan: 0 resources, 0 findings (starting)\n", "scan: 14 resources, 17 findings (page 1)\n"]);
  });
});
