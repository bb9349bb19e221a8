import { describe, expect, it } from "vitest";
import type { Alert } from "../src/alerts/alert.js";
import { labelsOf } from "../src/alerts/render.js";
import { inertAlert } from "../src/alerts/inert-alert.js";
import { inertLine, inertText } from "../src/shared/inert.js";

// Text that came from outside reaches people inert: sign-in log rows, tag values, claims and resource names are
// attacker-controlled wherever amlguard audits someone who wants to mislead the reader.
const SUB = "00000000-1111-2222-3333-444444444444";

describe("outside text is inert", () => {
  it("terminal escapes, bidi overrides and line breaks are gone; length is bounded", () => {
    expect(inertLine("ok\u001b[31mRED\u001b[0m\r\n\u202eevil")).toBe("ok [31mRED [0m evil");
    expect(inertLine("x".repeat(50), 10)).toBe(`${"x".repeat(9)}…`);
  });

  it("URLs in free text are defanged so a log row cannot put a link in front of a person", () => {
    expect(inertText("reset at https://login.evil.example/reset?u=1 now")).toBe("reset at hxxps://login[.]evil[.]example/reset?u=1 now");
    expect(inertText("see www.evil.example or javascript:alert(1)")).toBe("see www[.]evil[.]example or javascript[:]alert(1)");
  });

  it("an alert built from a hostile sign-in row keeps one line per field and no link; the undo command still pastes", () => {
    const hostile: Alert = {
      severity: "high",
      outcome: "needs-action",
      resourceId: `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws1`,
      title: "Failed sign-ins from\n\nhttps://phish.example",
      evidence: "principal attacker@evil.example\n\n**Click** [here](https://phish.example/x)",
      undo: "az ml workspace update --name ws1\u001b]8;;https://phish.example\u0007",
      actor: { name: "Mallory\u202e\nAdmin" },
      at: "2026-11-25T00:00:00Z",
    };
    const inert = inertAlert(hostile);
    const hasControl = (value = "") => [...value].some((c) => c.charCodeAt(0) < 0x20 || c === "\u202e");
    for (const value of [inert.title, inert.evidence, inert.undo, inert.actor?.name]) expect(hasControl(value)).toBe(false);
    expect(inert.title).toBe("Failed sign-ins from hxxps://phish[.]example");
    expect(inert.evidence).not.toMatch(/https:\/\//);
    expect(inert.undo).toMatch(/^az ml workspace update --name ws1/);
  });

  it("portal links percent-encode every id segment, so a ')' in a resource group cannot end a Markdown link", () => {
    const link = labelsOf(`/subscriptions/${SUB}/resourceGroups/rg-(prod) x/providers/Microsoft.MachineLearningServices/workspaces/ws1`).portalUrl;
    expect(link).toContain("rg-%28prod%29%20x");
    expect(link).not.toMatch(/[() ]/);
  });
});
