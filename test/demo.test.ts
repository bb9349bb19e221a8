import { ChainedTokenCredential, CredentialUnavailableError } from "@azure/identity";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { OutboxEntry } from "../src/alerts/outbox.js";
import { SEVERITY_ORDER } from "../src/shared/types.js";
import type { AuditRecord } from "../src/state/audit.js";
import { adaptiveCardProblems } from "../src/sandbox/adaptive-card-check.js";
import { DEMO_BOT, DEMO_USER, runDemo } from "../src/demo.js";
import { alertAccount } from "../src/demo/story.js";
import { storyInput } from "../src/cli/demo-story.js";
import { checkConnectionString } from "../src/state/connection-string.js";
import { cli } from "./helpers/cli.js";

const tempDir = (): string => mkdtempSync(join(tmpdir(), "amlguard-demo-"));
const name = (id: string | undefined): string => (id ?? "").split("/").pop()!;
const sha = (path: string): string => createHash("sha256").update(readFileSync(path)).digest("hex");

/** The numbers of a "total = a x + b y + …" line. */
function terms(line: string): { total: number; parts: Map<string, number> } {
  const [left, right] = line.split(" = ");
  const parts = new Map<string, number>();
  for (const part of right!.split(" + ")) {
    const match = /^(\d+) (\S+)/.exec(part.trim());
    parts.set(match![2]!, Number(match![1]));
  }
  return { total: Number(/(\d+)/.exec(left!)![1]), parts };
}

describe("npm start without subscriptions: the demo as one story, its state kept for the CLI", () => {
  it("prints the modes, every change's consequences, the sweep, and a summary that adds up to the audit trail it keeps", async () => {
    const cwd = tempDir();
    const run = await cli(["start"], {}, { cwd });
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/\[8\/8\]/);
    const out = run.stdout;
    // Modes: the default, every override with why, and the app settings that set them.
    expect(out).toMatch(/Default mode: alert \(also the deployed default/);
    expect(out).toMatch(/remediate \(5 rules; set for this demo: high severity, reversible/);
    expect(out).toMatch(/off \(1 rule; set for this demo/);
    expect(out).toMatch(/AMLGUARD_RULE_MODES=workspace-public-network-access=remediate,/);
    expect(out).toMatch(/email, minimum severity high: /);
    // Words, not "registries"/"a AmlCompute" after a count of one.
    expect(out).toMatch(/\b1 registry\b/);
    expect(out).not.toMatch(/\b1 registries\b|\ba AmlCompute\b|\(s\)/);
    // The sweep answers "why is mlw-sandbox-dev still public": no event touched it; the sweep remediated it.
    expect(out).toMatch(/untouched \(\d+\): no event touched it[^\n]*\n[^\n]*workspace-public-network-access on mlw-sandbox-dev/);
    expect(out).toMatch(/5\. The daily sweep[\s\S]*remediated: workspace-public-network-access on mlw-sandbox-dev: publicNetworkAccess: "Enabled" -> "Disabled"/);

    // The audit trail the demo kept, read back by the CLI: the summary's rows are exactly these.
    const audit = await cli(["audit", "--sandbox", "--json"], {}, { cwd });
    expect(audit.code).toBe(0);
    const rows = JSON.parse(audit.stdout) as AuditRecord[];
    const rowLine = terms(out.split("\n").find((l) => / audit rows = /.test(l))!.trim());
    expect(rowLine.total).toBe(rows.length);
    const byDecision = new Map<string, number>();
    for (const r of rows) byDecision.set(r.decision, (byDecision.get(r.decision) ?? 0) + 1);
    expect(rowLine.parts).toEqual(byDecision);
    expect(rows.filter((r) => r.trigger === "sweep" && r.decision === "remediated").map((r) => name(r.resourceId)).sort()).toEqual(["churn-score", "hub-genai", "mlw-sandbox-dev"]);
    // Deliveries: the parts add up to the whole.
    const deliveries = terms(out.split("\n").find((l) => / deliveries to the Event Grid handler = /.test(l))!.trim());
    expect([...deliveries.parts.values()].reduce((a, b) => a + b, 0)).toBe(deliveries.total);
    expect(deliveries.parts.get("remediated")).toBeGreaterThan(0);

    // The alerts the relay refused wait in the kept outbox, as the story says.
    const pending = await cli(["alerts", "pending", "--sandbox", "--json"], {}, { cwd });
    expect(pending.code).toBe(0);
    const waiting = JSON.parse(pending.stdout) as OutboxEntry[];
    expect(waiting.length).toBeGreaterThan(0);
    expect(waiting.every((e) => e.channel === "email" && e.status === "pending" && SEVERITY_ORDER.indexOf(e.alert.severity) <= SEVERITY_ORDER.indexOf("high"))).toBe(true);
    expect(out).toMatch(new RegExp(`email: \\d+ delivered \\+ ${waiting.length} waiting \\+ \\d+ suppressed \\+ \\d+ below high`));

    // The estate as the demo left it: mlw-sandbox-dev is private now; its alert-only finding is still there.
    const scan = await cli(["scan", "--sandbox", "--json"], {}, { cwd });
    const findings = (JSON.parse(scan.stdout) as { findings: Array<{ ruleId: string; resourceId: string }> }).findings.map((f) => `${f.ruleId}@${name(f.resourceId)}`);
    expect(scan.stderr).toMatch(/the estate as the last demo left it/);
    expect(findings).not.toContain("workspace-public-network-access@mlw-sandbox-dev");
    expect(findings).toContain("workspace-public-access-behind-vnet@mlw-sandbox-dev");

    // Reading changed nothing kept; the next commands are printed.
    const tables = join(cwd, ".amlguard", "sandbox", "tables.json");
    const before = sha(tables);
    await cli(["audit", "--sandbox"], {}, { cwd });
    expect(sha(tables)).toBe(before);
    for (const command of ["npx amlguard audit --sandbox", "npx amlguard alerts pending --sandbox", "npx amlguard scan --sandbox", "npx amlguard demo --serve"]) expect(out).toContain(command);
  });

  it("accounts for every delivery and alert: each delivery's rows are in the audit trail, per channel, alerts raised = queued + suppressed + below its minimum", async () => {
    const cwd = tempDir();
    const galleryPath = join(cwd, "alerts.html");
    const result = await runDemo({ progress: () => undefined }, { cwd, galleryPath });
    const events = result.audit.filter((r) => r.trigger === "event-grid");
    const byRule = (rows: AuditRecord[], decision: string): string[] => rows.filter((r) => r.decision === decision).map((r) => `${r.ruleId}@${name(r.resourceId)}`).sort();
    expect(byRule(events, "remediated")).toEqual([
      "compute-node-public-ip@ci-bob",
      "compute-node-public-ip@gpu-cluster",
      "compute-public-ssh@ci-bob",
      "compute-public-ssh@gpu-cluster",
      "endpoint-public-network-access@fraud-score",
      "workspace-public-network-access@mlw-fraud-prod",
    ]);
    expect(byRule(events, "exempt")).toEqual(["registry-public-network-access@reg-shared-models"]);
    expect(byRule(events, "off")).toEqual(["compute-instance-idle-shutdown@ci-bob"]);
    // Every event row belongs to exactly one delivery, and every delivery's rows are in the trail.
    const key = (r: AuditRecord): string => JSON.stringify(r);
    const delivered = result.deliveries.flatMap((d) => d.rows.map(key));
    expect(delivered.sort()).toEqual(events.map(key).sort());
    // The redelivery reads the workspace again, finds it fixed, and writes nothing.
    const redelivery = result.deliveries.find((d) => d.cause === "redelivery")!;
    expect(redelivery.rows.map((r) => r.decision)).toEqual(["compliant"]);
    // Remediations by events were caused by the user; the bot's own writes were never acted on.
    expect(events.filter((r) => r.decision === "remediated").every((r) => r.actor?.objectId === DEMO_USER.objectId)).toBe(true);
    const fromBot = events.filter((r) => r.actor?.objectId === DEMO_BOT.objectId);
    expect(fromBot.length).toBeGreaterThan(0);
    expect(fromBot.every((r) => ["compliant", "own-write"].includes(r.decision))).toBe(true);

    // Alerts: per channel, raised = queued + suppressed by the dedupe window + below its minimum; queued = delivered + waiting.
    const account = alertAccount(storyInput(result));
    expect(account.raised).toBe(result.alerts.length);
    for (const channel of account.channels) {
      expect(channel.queued + channel.suppressed + channel.belowMinimum).toBe(account.raised);
      expect(channel.delivered + channel.notDelivered).toBe(channel.queued);
    }
    const email = account.channels.find((c) => c.name === "email")!;
    expect(email.belowMinimum).toBeGreaterThan(0);
    expect(email.messages).toBe(result.received.emails.length);
    expect(account.channels.find((c) => c.name === "teams")!.messages).toBe(result.received.teamsCards.length);
    for (const { card } of result.received.teamsCards) expect(adaptiveCardProblems(card)).toEqual([]);
    const page = readFileSync(galleryPath, "utf8");
    expect(page).toContain("AdaptiveCards.AdaptiveCard");
    expect(page).toContain(result.received.emails[0]!.subject.replace(/&/g, "&amp;"));
    // The kept estate is what ARM held at the end.
    const estate = JSON.parse(readFileSync(join(cwd, ".amlguard", "sandbox", "estate.json"), "utf8")) as { resources: Array<{ id: string; properties: Record<string, unknown> }> };
    expect(estate.resources.find((r) => r.id.endsWith("/mlw-sandbox-dev"))!.properties.publicNetworkAccess).toBe("Disabled");
  });

  it("--sandbox before any demo ran here says what to run, exit 2", async () => {
    const cwd = tempDir();
    for (const args of [["audit", "--sandbox"], ["alerts", "pending", "--sandbox"]]) {
      const result = await cli(args, {}, { cwd });
      expect([result.code, result.stdout]).toEqual([2, ""]);
      expect(result.stderr).toMatch(/^amlguard: no demo state in \.amlguard\/sandbox here: run npm start \(or amlguard demo\)/);
    }
  });
});

describe("npm start picks its path", () => {
  it("runs `amlguard start`; with AMLGUARD_SUBSCRIPTION_IDS it scans those (no demo), and a failed sign-in is no all-clear", async () => {
    const scripts = (JSON.parse(readFileSync(join(import.meta.dirname, "..", "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;
    expect(scripts.start).toBe("node dist/src/cli/main.js start");
    const cwd = tempDir();
    const signedOut = new ChainedTokenCredential({ getToken: async () => { throw new CredentialUnavailableError("EnvironmentCredential is unavailable."); } });
    const result = await cli(["start"], { AMLGUARD_SUBSCRIPTION_IDS: "3f2b6c1e-8d4a-4b7e-9c1f-2a5d7e9b0c11" }, { credential: signedOut, cwd });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/could not be read: the result is incomplete, not an all-clear/);
    expect(existsSync(join(cwd, ".amlguard"))).toBe(false);
  });
});

describe("a malformed storage connection string", () => {
  it.each([
    ["garbage", /is malformed: expected Name=value pairs/],
    ["AccountName=foo;AccountKey=abcd", /has an AccountKey but no DefaultEndpointsProtocol/],
    ["DefaultEndpointsProtocol=https;AccountName=foo;AccountKey=abcd", /needs TableEndpoint, or EndpointSuffix/],
    ["DefaultEndpointsProtocol=https;AccountName=foo;AccountKey=ab!cd;EndpointSuffix=core.windows.net", /AccountKey that is not base64/],
    ["DefaultEndpointsProtocol=http;AccountName=a;AccountKey=abcd;TableEndpoint=notaurl", /TableEndpoint that is not a URL/],
    ["SharedAccessSignature=sv=1&sig=2;TableEndpoint=https://localhost", /TableEndpoint that names no account/],
    ["SharedAccessSignature=sv=1&sig=2", /needs AccountName or TableEndpoint/],
  ])("%s: a sentence naming the setting, never a TypeError or the value", async (connectionString, message) => {
    expect(() => checkConnectionString(connectionString)).toThrow(message);
    const result = await cli(["audit"], { AzureWebJobsStorage: connectionString });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^amlguard: the storage connection string \(AMLGUARD_STORAGE_CONNECTION_STRING or AzureWebJobsStorage\)/);
    expect(result.stderr).not.toMatch(/TypeError|abcd|sig=2/);
  });

  it.each([
    "UseDevelopmentStorage=true",
    "DefaultEndpointsProtocol=https;AccountName=foo;AccountKey=abcd;EndpointSuffix=core.windows.net",
    "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=abcd;TableEndpoint=http://127.0.0.1:10002/devstoreaccount1;",
    "TableEndpoint=https://foo.table.core.windows.net;SharedAccessSignature=sv=2020-08-04&sig=x",
  ])("%s is accepted", (connectionString) => {
    expect(() => checkConnectionString(connectionString)).not.toThrow();
  });
});
