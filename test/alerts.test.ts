import { randomBytes } from "node:crypto";
import { request } from "node:https";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Alert } from "../src/alerts/alert.js";
import { AcsEmailChannel, DeliveryError, SmtpChannel, TeamsChannel } from "../src/alerts/channels.js";
import { renderEmail } from "../src/alerts/email.js";
import { Outbox } from "../src/alerts/outbox.js";
import { AlertDedupe } from "../src/alerts/dedupe.js";
import { AlertRouter } from "../src/alerts/router.js";
import { alertCard, digestCard, escapeMarkdown, MAX_TEAMS_PAYLOAD_BYTES, payloadBytes } from "../src/alerts/teams-card.js";
import type { Logger } from "../src/log.js";
import { AcsEmailSandbox } from "../src/sandbox/acs-email.js";
import { adaptiveCardProblems } from "../src/sandbox/adaptive-card-check.js";
import { startAzuriteTables, type RunningAzurite } from "../src/sandbox/azurite.js";
import { TableStorageProxy } from "../src/sandbox/storage-proxy.js";
import { SmtpSink } from "../src/sandbox/smtp-sink.js";
import { TeamsWorkflowsReceiver } from "../src/sandbox/teams-receiver.js";
import { openTable } from "../src/state/tables.js";

const WS = "/subscriptions/3f2b6c1e-8d4a-4b7e-9c1f-2a5d7e9b0c11/resourceGroups/rg-ml-dev/providers/Microsoft.MachineLearningServices/workspaces/mlw-sandbox-dev";

function alert(overrides: Partial<Alert> = {}): Alert {
  return {
    severity: "high",
    outcome: "remediated",
    resourceId: `${WS}/computes/ci-bob`,
    ruleId: "compute-public-ssh",
    title: "Compute SSH port is open to the internet",
    rationale: "A public SSH port exposes every node to credential stuffing and exploits from the internet.",
    evidence: "sshSettings.sshPublicAccess is Enabled",
    actionTaken: "Stop the compute instance",
    undo: "az ml compute start --name ci-bob",
    nextStep: "Contained, not fixed: recreate it",
    actor: { name: "alice@contoso.example", objectId: "5e5e5e5e-1111-4000-8000-000000000005", principalType: "User" },
    correlationId: "c0ffee00-0000-4000-8000-000000000001",
    at: "2026-11-25T02:00:00.000Z",
    ...overrides,
  };
}

function post(url: string, body: unknown, ca: string): Promise<{ status: number }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: "POST", ca, headers: { "Content-Type": "application/json" } }, (res) => {
      res.resume();
      res.on("end", () => resolve({ status: res.statusCode ?? 0 }));
    });
    req.on("error", reject);
    req.end(JSON.stringify(body));
  });
}

function captureLog(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const put = (level: string) => (message: string, fields?: Record<string, unknown>) => void lines.push(`${level} ${message} ${JSON.stringify(fields ?? {})}`);
  return { lines, info: put("info"), warn: put("warn"), error: put("error") };
}

let azurite: RunningAzurite;
let teams: TeamsWorkflowsReceiver;
let smtp: SmtpSink;
let acs: AcsEmailSandbox;

beforeAll(async () => {
  [azurite, teams, smtp, acs] = await Promise.all([startAzuriteTables(), new TeamsWorkflowsReceiver().start(), new SmtpSink().start(), new AcsEmailSandbox().start()]);
});
afterAll(async () => {
  await Promise.all([azurite.close(), teams.close(), smtp.close(), acs.close()]);
});

async function freshOutbox(clock: { now: number }): Promise<Outbox> {
  return new Outbox(await openTable({ connectionString: azurite.connectionString }, `o${randomBytes(5).toString("hex")}`), { ttlMs: 24 * 3_600_000, now: () => clock.now });
}

describe("Adaptive Cards (validated with the adaptivecards package's parser)", () => {
  it.each(["remediated", "dry-run", "needs-action", "failed"] as const)("a %s card is valid and carries everything at a glance", (outcome) => {
    const card = alertCard(alert({ outcome }));
    expect(adaptiveCardProblems(card)).toEqual([]);
    const text = JSON.stringify(card);
    for (const expected of ["HIGH", "Compute SSH port is open to the internet", "credential stuffing", "ci-bob", "mlw-sandbox-dev", "3f2b6c1e", "alice@contoso.example", "Open in Azure portal", "#resource/subscriptions/"]) {
      expect(text).toContain(expected);
    }
    if (outcome === "remediated") expect(text).toContain("az ml compute start");
  });

  it("a burst of 200 alerts is one valid digest card under 28 KB", () => {
    const burst = Array.from({ length: 200 }, (_, i) => alert({ resourceId: `${WS}/computes/ci-${i}`, severity: i % 3 === 0 ? "high" : "medium" }));
    const card = digestCard(burst);
    expect(adaptiveCardProblems(card)).toEqual([]);
    expect(payloadBytes(card)).toBeLessThanOrEqual(MAX_TEAMS_PAYLOAD_BYTES);
    expect(JSON.stringify(card)).toContain("amlguard: 200 alerts");
  });

  it("escapes Markdown in names and claims, so nobody can plant links in a card", () => {
    expect(escapeMarkdown("[click](https://evil.example) *now*")).toBe("\\[click\\](https://evil.example) \\*now\\*");
    const card = JSON.stringify(alertCard(alert({ actor: { name: "[Reset your password](https://evil.example)" } })));
    expect(card).not.toContain("[Reset your password](https://evil.example)");
  });
});

describe("channels against the sandbox receivers", () => {
  it("Teams: a card posted to the Workflows webhook is accepted (202)", async () => {
    const before = teams.received.length;
    await new TeamsChannel(teams.webhookUrl, "low", { ca: teams.ca }).deliver([alert()]);
    expect(teams.received.length).toBe(before + 1);
    expect(teams.received.at(-1)!.card.type).toBe("AdaptiveCard");
  });

  it.each([
    ["no attachments", { type: "message", attachments: [] }, 400],
    ["a non-card attachment", { type: "message", attachments: [{ contentType: "text/plain", content: "hi" }] }, 400],
    ["a card the parser rejects", { type: "message", attachments: [{ contentType: "application/vnd.microsoft.card.adaptive", content: { type: "AdaptiveCard", version: "1.5", body: [], actions: [{ type: "Action.OpenUrl", title: "x" }] } }] }, 400],
    ["a card version Teams cannot render", { type: "message", attachments: [{ contentType: "application/vnd.microsoft.card.adaptive", content: { type: "AdaptiveCard", version: "1.6", body: [] } }] }, 400],
    ["a payload over 28 KB", { type: "message", attachments: [{ contentType: "application/vnd.microsoft.card.adaptive", content: { type: "AdaptiveCard", version: "1.5", body: [{ type: "TextBlock", text: "x".repeat(30_000) }] } }] }, 413],
  ])("the receiver refuses %s, as the real flow would fail on it", async (_label, payload, status) => {
    const response = await post(teams.webhookUrl, payload, teams.ca);
    expect(response.status).toBe(status);
  });

  it("a refused message is a permanent DeliveryError; a wrong signature is 401", async () => {
    const wrongSig = new TeamsChannel(teams.webhookUrl.replace(/sig=[^&]+/, "sig=forged"), "low", { ca: teams.ca });
    await expect(wrongSig.deliver([alert()])).rejects.toMatchObject({ permanent: true, message: expect.stringMatching(/401/) });
  });

  it("SMTP: the email's plain-text and HTML bodies carry the same facts", async () => {
    await new SmtpChannel(smtp.url, "amlguard@contoso.example", ["secops@contoso.example"], "low").deliver([alert()]);
    const mail = smtp.received.at(-1)!;
    expect(mail.to).toEqual(["secops@contoso.example"]);
    expect(mail.subject).toBe("[amlguard] HIGH Remediated by amlguard: Compute SSH port is open to the internet (ci-bob)");
    for (const fact of ["alice@contoso.example (User)", "az ml compute start --name ci-bob", "sshSettings.sshPublicAccess is Enabled", "mlw-sandbox-dev"]) {
      expect(mail.text).toContain(fact);
      expect(mail.html).toContain(fact);
    }
    // Through SMTP and back: the undo is still one whole line of the text part, and code in the HTML part.
    expect(mail.text.split(/\r?\n/)).toContain("az ml compute start --name ci-bob");
    expect(mail.html).toContain("<code>az ml compute start --name ci-bob</code></pre>");
  });

  it("Azure Communication Services email through @azure/communication-email (managed identity token)", async () => {
    await new AcsEmailChannel(acs.endpoint, acs.credential(), "DoNotReply@contoso.example", ["secops@contoso.example"], "low", { ca: acs.ca, pollIntervalMs: 10 }).deliver([alert(), alert({ outcome: "failed" })]);
    expect(acs.received.at(-1)!.subject).toBe("[amlguard] 2 alerts: 1 remediated, 1 failed");
  });

  it("renders one email for many alerts, text and HTML alike", () => {
    const email = renderEmail([alert(), alert({ severity: "low", outcome: "needs-action" })]);
    expect(email.text.split("----")).toHaveLength(2);
    expect(email.html.match(/<h2>/g)).toHaveLength(2);
  });
});

describe("outbox: nothing lost, nothing twice", () => {
  it("200 alerts queued in a burst go out as one digest message", async () => {
    const clock = { now: Date.now() };
    const outbox = await freshOutbox(clock);
    for (let i = 0; i < 200; i++) await outbox.enqueue("teams", alert({ resourceId: `${WS}/computes/c${i}` }));
    const before = teams.received.length;
    const report = await outbox.dispatch([new TeamsChannel(teams.webhookUrl, "low", { ca: teams.ca })], captureLog());
    expect(report).toMatchObject({ delivered: 200, messages: 1, failed: 0 });
    expect(teams.received.length).toBe(before + 1);
    expect(await outbox.undelivered()).toEqual([]);
  });

  it("Teams down for an hour: retried with backoff, delivered after recovery, never lost", async () => {
    const clock = { now: Date.now() };
    const outbox = await freshOutbox(clock);
    const channel = new TeamsChannel(teams.webhookUrl, "low", { ca: teams.ca });
    const log = captureLog();
    for (let i = 0; i < 5; i++) await outbox.enqueue("teams", alert({ resourceId: `${WS}/computes/down${i}` }));
    teams.faults.add({ kind: "server-error", statusCode: 503 });
    const attempts: number[] = [];
    for (let minute = 0; minute < 60; minute++) {
      const report = await outbox.dispatch([channel], log);
      if (report.failed) attempts.push(minute);
      clock.now += 60_000;
    }
    // Exponential backoff: far fewer attempts than timer ticks.
    expect(attempts.length).toBeGreaterThan(2);
    expect(attempts.length).toBeLessThan(12);
    expect((await outbox.undelivered()).filter((e) => e.status === "pending")).toHaveLength(5);
    teams.faults.clear();
    clock.now += 16 * 60_000;
    const report = await outbox.dispatch([channel], log);
    expect(report.delivered).toBe(5);
    expect(await outbox.undelivered()).toEqual([]);
  });

  it("honours 429 Retry-After", async () => {
    const clock = { now: Date.now() };
    const outbox = await freshOutbox(clock);
    await outbox.enqueue("teams", alert());
    teams.faults.add({ kind: "throttle", retryAfterSeconds: 300, times: 1 });
    await outbox.dispatch([new TeamsChannel(teams.webhookUrl, "low", { ca: teams.ca })], captureLog());
    const [entry] = await outbox.undelivered();
    expect(Date.parse(entry!.nextAttemptAt) - clock.now).toBeGreaterThanOrEqual(300_000);
  });

  it("two dispatchers at once (two instances' timers) send each alert once", async () => {
    const clock = { now: Date.now() };
    const outbox = await freshOutbox(clock);
    for (let i = 0; i < 2; i++) await outbox.enqueue("teams", alert({ resourceId: `${WS}/computes/twin${i}` }));
    const channel = new TeamsChannel(teams.webhookUrl, "low", { ca: teams.ca });
    const before = teams.received.length;
    const reports = await Promise.all([outbox.dispatch([channel], captureLog()), outbox.dispatch([channel], captureLog())]);
    expect(reports.reduce((n, r) => n + r.delivered, 0)).toBe(2);
    expect(teams.received.length).toBe(before + 2);
  });

  it("an alert refused by the channel is kept as rejected, and one past its TTL as expired, both listed", async () => {
    const clock = { now: Date.now() };
    const outbox = await freshOutbox(clock);
    await outbox.enqueue("teams", alert());
    const forged = new TeamsChannel(teams.webhookUrl.replace(/sig=[^&]+/, "sig=forged"), "low", { ca: teams.ca });
    await outbox.dispatch([forged], captureLog());
    await outbox.enqueue("teams", alert({ resourceId: `${WS}/computes/late` }));
    clock.now += 25 * 3_600_000;
    await outbox.dispatch([forged], captureLog());
    expect((await outbox.undelivered()).map((e) => e.status).sort()).toEqual(["expired", "rejected"]);
  });
});

describe("routing and dedupe", () => {
  it("routes by each channel's minimum severity and drops repeats within the window", async () => {
    const clock = { now: Date.now() };
    const outbox = await freshOutbox(clock);
    const dedupe = new AlertDedupe(60 * 60_000, () => clock.now);
    const teamsChannel = new TeamsChannel(teams.webhookUrl, "medium", { ca: teams.ca });
    const email = new SmtpChannel(smtp.url, "amlguard@contoso.example", ["secops@contoso.example"], "high");
    const router = new AlertRouter([teamsChannel, email], outbox, dedupe, captureLog());
    await router.send(alert({ severity: "high" }));
    await router.send(alert({ severity: "high" })); // same resource, rule, outcome, evidence: suppressed
    await router.send(alert({ severity: "low", resourceId: `${WS}/computes/low` }));
    await router.send(alert({ severity: "medium", resourceId: `${WS}/computes/medium` }));
    const queued = await outbox.undelivered();
    expect(queued.map((e) => `${e.channel}:${e.alert.severity}`).sort()).toEqual(["email:high", "teams:high", "teams:medium"]);
    clock.now += 61 * 60_000;
    await router.send(alert({ severity: "high" }));
    expect((await outbox.undelivered()).length).toBe(5);
  });
});

describe("dedupe marks written with the alert they stand for (one Table transaction per channel)", () => {
  it("of concurrent twins, one alert is queued per channel; after the window, one again; each first queueing is one storage call", async () => {
    const proxy = await new TableStorageProxy(azurite.connectionString).start();
    try {
      const clock = { now: Date.now() };
      const name = `o${randomBytes(5).toString("hex")}`;
      const outbox = new Outbox(await openTable({ connectionString: proxy.connectionString }, name), { ttlMs: 24 * 3_600_000, now: () => clock.now });
      const dedupe = new AlertDedupe(60 * 60_000, () => clock.now);
      const callsFrom = (from: number) => proxy.calls.slice(from).filter((c) => c.table === name).map((c) => c.operation);

      let from = proxy.calls.length;
      expect(await outbox.enqueue("teams", alert(), dedupe)).toBe(true);
      expect(callsFrom(from)).toEqual(["batch"]);
      from = proxy.calls.length;
      expect(await outbox.enqueue("teams", alert(), dedupe)).toBe(false);
      expect(callsFrom(from)).toEqual(["batch", "get"]);
      // Another channel has its own mark.
      expect(await outbox.enqueue("email", alert(), dedupe)).toBe(true);

      const twins = async () => (await Promise.all(Array.from({ length: 6 }, () => outbox.enqueue("teams", alert({ resourceId: `${WS}/computes/twin` }), dedupe)))).filter(Boolean).length;
      expect(await twins()).toBe(1);
      clock.now += 59 * 60_000;
      expect(await twins()).toBe(0);
      clock.now += 2 * 60_000;
      expect(await twins()).toBe(1);

      const queued = (await outbox.all()).map((e) => `${e.channel}:${e.alert.resourceId.split("/").pop()}`).sort();
      expect(queued).toEqual(["email:ci-bob", "teams:ci-bob", "teams:twin", "teams:twin"]);
      expect((await outbox.undelivered()).length).toBe(4);
    } finally {
      await proxy.close();
    }
  });

  it("an alert carrying Unicode line separators (outside text in its dedupe key) is queued and read back unchanged", async () => {
    const clock = { now: Date.now() };
    const outbox = await freshOutbox(clock);
    const separated = alert({ dedupeKey: "exemption-request|reason: approved\u2028Approved by security\u2029" });
    expect(await outbox.enqueue("teams", separated, new AlertDedupe(60 * 60_000, () => clock.now))).toBe(true);
    expect((await outbox.all()).map((e) => e.alert)).toEqual([separated]);
  });

  it("a mark is never written without its alert: an alert the table refuses leaves no mark behind", async () => {
    const clock = { now: Date.now() };
    const outbox = await freshOutbox(clock);
    const dedupe = new AlertDedupe(60 * 60_000, () => clock.now);
    // Table Storage refuses a string property over 64 KiB (learn.microsoft.com/rest/api/storageservices/understanding-the-table-service-data-model).
    const tooLarge = alert({ evidence: "sshSettings.sshPublicAccess is Enabled", rationale: "x".repeat(70_000) });
    await expect(outbox.enqueue("teams", tooLarge, dedupe)).rejects.toThrow();
    expect(await outbox.all()).toEqual([]);
    // Same dedupe key (resource, rule, outcome, evidence): not suppressed, since nothing was queued.
    expect(await outbox.enqueue("teams", alert(), dedupe)).toBe(true);
    expect((await outbox.all()).length).toBe(1);
  });
});

describe("secrets", () => {
  it("the webhook signature never appears in logs, errors, outbox rows or alerts", async () => {
    const signature = new URL(teams.webhookUrl).searchParams.get("sig")!;
    const clock = { now: Date.now() };
    const outbox = await freshOutbox(clock);
    const log = captureLog();
    const channel = new TeamsChannel(teams.webhookUrl, "low", { ca: teams.ca });
    await outbox.enqueue("teams", alert());
    teams.faults.add({ kind: "server-error", statusCode: 500, times: 1 });
    await outbox.dispatch([channel], log);
    teams.faults.add({ kind: "drop", times: 1 });
    clock.now += 3_600_000;
    await outbox.dispatch([channel], log);
    const unreachable = new TeamsChannel(teams.webhookUrl.replace(/localhost:\d+/, "localhost:1"), "low", { ca: teams.ca });
    const error = await unreachable.deliver([alert()]).catch((e: unknown) => e as DeliveryError);
    const everything = [...log.lines, JSON.stringify(await outbox.undelivered()), (error as Error).message, JSON.stringify(alertCard(alert()))].join("\n");
    expect(everything).toContain("<redacted>");
    expect(everything).not.toContain(signature);
    expect(everything).not.toContain(encodeURIComponent(signature));
  });
});
