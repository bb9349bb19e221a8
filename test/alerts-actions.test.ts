import { afterEach, describe, expect, it } from "vitest";
import type { Alert } from "../src/alerts/alert.js";
import { renderEmail } from "../src/alerts/email.js";
import { inertAlert } from "../src/alerts/inert-alert.js";
import { undoLines } from "../src/alerts/render.js";
import { alertCard, digestCard, MAX_TEAMS_PAYLOAD_BYTES, payloadBytes } from "../src/alerts/teams-card.js";
import type { ArmResource } from "../src/arm/resource.js";
import { cliNames, shellArg } from "../src/remediation/plan.js";
import { ACTIONS } from "../src/remediation/index.js";
import { RULES } from "../src/rules/index.js";
import { openState } from "../src/runtime.js";
import { adaptiveCardProblems } from "../src/sandbox/adaptive-card-check.js";
import { cli } from "./helpers/cli.js";
import { armExample, compliantWorkspaceExample } from "./helpers/fixtures.js";
import { azuriteForFile, startHarness, USER, waitForEvents, type Harness } from "./helpers/pipeline.js";
import { rehome, WS_ID } from "./helpers/sandbox.js";

const CLUSTER_ID = `${WS_ID}/computes/cluster1`;

/** Azure's Workspace Get example made compliant with every workspace rule, and its AmlCompute Get example (public IP, SSH). */
function estate(): ArmResource[] {
  return [
    rehome(
      compliantWorkspaceExample(),
      WS_ID,
    ),
    rehome(armExample("compute-get-amlcompute"), CLUSTER_ID),
  ];
}

const azurite = azuriteForFile();
let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** The text a card shows in its monospace undo block: each line unescaped, continuations removed, joined. */
function cardUndo(card: unknown): { command: string; lines: string[] } | undefined {
  const containers: Array<{ items: Array<{ text: string; fontType?: string }> }> = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === "object") {
      const element = node as { type?: string; items?: Array<{ text: string; fontType?: string }> };
      if (element.type === "Container" && element.items?.length && element.items.every((i) => i.fontType === "Monospace")) containers.push(element as never);
      Object.values(node).forEach(walk);
    }
  };
  walk(card);
  const [block] = containers;
  if (!block) return undefined;
  const lines = block.items.map((i) => i.text.replace(/\\([\\`*_[\]<>])/g, "$1"));
  return { command: lines.map((l) => l.replace(/ \\$/, "")).join(" "), lines };
}

describe("one alert per action", () => {
  it("a cluster capped for its public IP and its SSH port: one alert listing both findings with their evidence, one undo; one audit row per rule, each with the undo", async () => {
    h = await startHarness(azurite.connectionString, estate());
    // The audit trail in the default tables, where `amlguard audit` reads it.
    h.runtime.audit = (await openState({ connectionString: azurite.connectionString })).audit;
    await h.userArm.patch(CLUSTER_ID, { properties: { properties: { scaleSettings: { maxNodeCount: 4, minNodeCount: 2 } } } });
    await h.deliver((await waitForEvents(h, 1))[0]);

    const remediated = h.alerts.filter((a) => a.outcome === "remediated");
    expect(remediated).toHaveLength(1);
    const alert = remediated[0]!;
    expect(alert.findings?.map((f) => f.ruleId)).toEqual(["compute-node-public-ip", "compute-public-ssh"]);
    expect(alert.findings?.every((f) => f.evidence.length > 0 && f.title.length > 0)).toBe(true);
    expect(alert.title).toBe("Compute nodes have public IP addresses; Compute SSH port is open to the internet");
    expect(alert.undo).toMatch(/^az ml compute update .* --name cluster1 --max-instances 4 --min-instances 2$/);
    // The next step is what is left (recreate), never what amlguard did (cap) nor the rule's own fix text.
    expect(alert.nextStep).toMatch(/^Contained, not fixed: recreate the cluster without node public IPs \(enableNodePublicIp false\) and with the remote login port closed/);
    expect(alert.nextStep).not.toContain(alert.actionTaken!.slice(0, 30));

    // The alert-only finding on the same cluster keeps its own alert.
    expect(h.alerts.filter((a) => a.outcome === "needs-action").map((a) => a.ruleId).sort()).toEqual(["compute-local-auth"]);

    const json = await cli(["audit", "--since", "1h", "--json"], { AMLGUARD_STORAGE_CONNECTION_STRING: azurite.connectionString });
    expect(json.code).toBe(0);
    const rows = (JSON.parse(json.stdout) as Array<{ decision: string; ruleId?: string; resourceId?: string; undo?: string }>).filter((r) => r.resourceId === CLUSTER_ID && r.decision === "remediated");
    expect(rows.map((r) => r.ruleId).sort()).toEqual(["compute-node-public-ip", "compute-public-ssh"]);
    expect(rows.every((r) => r.undo === alert.undo)).toBe(true);
  });

  it("a workspace made private: the next step reviews the change and its author; it never repeats the fix", async () => {
    h = await startHarness(azurite.connectionString, estate());
    await h.userArm.patch(WS_ID, { properties: { publicNetworkAccess: "Enabled" } });
    await h.deliver((await waitForEvents(h, 1))[0]);
    const [alert] = h.alerts;
    expect(alert).toMatchObject({ outcome: "remediated", ruleId: "workspace-public-network-access" });
    expect(alert!.findings).toBeUndefined();
    const rule = RULES.find((r) => r.id === "workspace-public-network-access")!;
    expect(alert!.nextStep).not.toBe(rule.remediation.prose);
    expect(alert!.nextStep).toMatch(new RegExp(`is private now\\. Review the change by ${USER.name.replace(/\./g, "\\.")}: .*exemption`));
  });

  it("every action says what is left after it, and names the resource", () => {
    for (const action of ACTIONS) {
      const text = action.afterwards({ name: "res-1", ruleIds: ["compute-node-public-ip"], causedBy: "alice" });
      expect(text, action.id).toContain("res-1");
      expect(text, action.id).not.toMatch(/^(Set|Disable|Stop|PATCH|PUT)/);
    }
  });
});

const ID = `${WS_ID}/computes/ci-bob`;
const command = `az ml compute start ${cliNames(ID)}`;

function alert(overrides: Partial<Alert> = {}): Alert {
  return {
    severity: "high",
    outcome: "remediated",
    resourceId: ID,
    ruleId: "compute-node-public-ip",
    title: "Compute nodes have public IP addresses; Compute SSH port is open to the internet",
    evidence: "enableNodePublicIp is absent (service default: true); sshSettings.sshPublicAccess is Enabled",
    findings: [
      { ruleId: "compute-node-public-ip", title: "Compute nodes have public IP addresses", severity: "high", evidence: "enableNodePublicIp is absent (service default: true)" },
      { ruleId: "compute-public-ssh", title: "Compute SSH port is open to the internet", severity: "high", evidence: "sshSettings.sshPublicAccess is Enabled" },
    ],
    actionTaken: "Stop the compute instance.",
    undo: command,
    nextStep: "Contained, not fixed: recreate the instance",
    actor: { name: "alice@contoso.example", principalType: "User" },
    at: "2026-11-25T02:00:00.000Z",
    ...overrides,
  };
}

describe("undo commands render as code, whole", () => {
  it("a single card: valid, each finding with its evidence, the undo in monospace lines that join back into the exact command, a link to the resource's own portal page", () => {
    const card = alertCard(alert());
    expect(adaptiveCardProblems(card)).toEqual([]);
    const text = JSON.stringify(card);
    for (const expected of ["Compute SSH port is open to the internet", "sshSettings.sshPublicAccess is Enabled", "enableNodePublicIp is absent"]) expect(text).toContain(expected);
    expect(text).not.toContain('"title":"Undo"'); // not a proportional fact any more
    const undo = cardUndo(card)!;
    expect(undo.command).toBe(command);
    expect(undo.lines[0]).toBe("az ml compute start \\");
    expect(undo.lines.slice(1).every((line) => line.startsWith("--"))).toBe(true);
    const actions = (card as { actions: Array<{ title: string; url: string }> }).actions;
    expect(actions).toContainEqual({ type: "Action.OpenUrl", title: "Open in Azure portal", url: expect.stringMatching(/#resource\/subscriptions\/.*\/computes\/ci-bob\/overview$/) });
  });

  it("a resource group with parentheses is quoted for the shell; quoted values stay whole on their line", () => {
    const odd = `/subscriptions/3f2b6c1e-8d4a-4b7e-9c1f-2a5d7e9b0c11/resourceGroups/rg.ml(prod)/providers/Microsoft.MachineLearningServices/workspaces/ws/computes/ci`;
    const names = cliNames(odd);
    expect(names).toContain("--resource-group 'rg.ml(prod)'");
    expect(shellArg("it's")).toBe(`'it'\\''s'`);
    const lines = undoLines(`az ml compute start ${names}`);
    expect(lines).toContain("--resource-group 'rg.ml(prod)' \\");
  });

  it("email: HTML in a <pre><code> that never wraps, plain text on one line of its own", () => {
    const email = renderEmail([alert()]);
    const escaped = command.replace(/&/g, "&amp;").replace(/'/g, "&#39;");
    expect(email.html).toMatch(new RegExp(`<pre class="undo" style="white-space:pre;overflow-x:auto;[^"]*monospace[^"]*"><code>${escaped.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}</code></pre>`));
    expect(email.text.split("\n")).toContain(command);
    expect(email.text).toContain("- Compute SSH port is open to the internet (compute-public-ssh, high): sshSettings.sshPublicAccess is Enabled");
  });

  it("a digest keeps each entry's evidence, next step and undo while they fit, and links each entry to its resource", () => {
    const few = Array.from({ length: 5 }, (_, i) => alert({ resourceId: `${WS_ID}/computes/ci-${i}`, undo: `az ml compute start ${cliNames(`${WS_ID}/computes/ci-${i}`)}` }));
    const card = digestCard(few);
    expect(adaptiveCardProblems(card)).toEqual([]);
    const text = JSON.stringify(card);
    expect(text).toContain("amlguard: 5 alerts");
    for (let i = 0; i < 5; i++) expect(text).toContain(`/computes/ci-${i}/overview)`);
    expect(text).toContain("Evidence: compute-node-public-ip: enableNodePublicIp is absent");
    expect(text.match(/"fontType":"Monospace"/g)?.length).toBe(5 * undoLines(command).length);
    expect(text).not.toContain("Open Azure portal"); // no button to the portal's home page
  });

  it("a burst of 200 stays under 28 KB: the most severe entries keep their undo, the rest their headline and link, and the card counts what it left out", () => {
    const burst = Array.from({ length: 200 }, (_, i) => alert({ resourceId: `${WS_ID}/computes/c-${i}` }));
    const card = digestCard(burst);
    expect(adaptiveCardProblems(card)).toEqual([]);
    expect(payloadBytes(card)).toBeLessThanOrEqual(MAX_TEAMS_PAYLOAD_BYTES);
    expect(cardUndo(card)?.command).toBe(command);
    const text = JSON.stringify(card);
    const detailed = text.match(/"text":"Undo:"/g)?.length ?? 0;
    const shown = text.match(/"separator":true/g)?.length ?? 0;
    expect(detailed).toBeGreaterThanOrEqual(5);
    expect(text).toContain(`The last ${shown - detailed} entries show only their headline`);
    expect(text).toContain(`…and ${200 - shown} more`);
    expect(digestCard([alert()]).body).toContainEqual(expect.objectContaining({ text: "amlguard: 1 alert" }));
  });

  it("outside text in findings stays inert; an undo with a line break stays one line", () => {
    const inert = inertAlert(
      alert({
        findings: [{ ruleId: "x\u001b[31m", title: "see https://evil.example/now", severity: "high", evidence: "tag says\nForged: line\u202e" }],
        undo: "az ml compute start --name a\necho forged",
      }),
    );
    expect(inert.findings![0]).toMatchObject({ ruleId: "x [31m", title: "see hxxps://evil[.]example/now", evidence: "tag says Forged: line" });
    expect(inert.undo).toBe("az ml compute start --name a echo forged");
    expect(renderEmail([inert]).text.split("\n")).toContain("az ml compute start --name a echo forged");
  });
});
