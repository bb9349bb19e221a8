import { randomBytes } from "node:crypto";
import azureFunctions from "@azure/functions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DeliveryError, SmtpChannel, TeamsChannel } from "../src/alerts/channels.js";
import { AlertRouter } from "../src/alerts/router.js";
import { EntraTokenValidator } from "../src/auth/entra-token.js";
import { createHttpHandlers } from "../src/handlers/http.js";
import { newInvocationContext } from "../src/handlers/local-context.js";
import type { Logger } from "../src/log.js";
import { openAlerting, openManual } from "../src/runtime.js";
import { startAzuriteTables, type RunningAzurite } from "../src/sandbox/azurite.js";
import { TeamsWorkflowsReceiver } from "../src/sandbox/teams-receiver.js";
import { armExample, variant } from "./helpers/fixtures.js";
import { cli } from "./helpers/cli.js";
import { BOT, startHarness, USER, waitForEvents } from "./helpers/pipeline.js";
import { rehome, SUB, WS_ID } from "./helpers/sandbox.js";

const { HttpRequest } = azureFunctions;
let azurite: RunningAzurite;
let teams: TeamsWorkflowsReceiver;
beforeAll(async () => {
  [azurite, teams] = await Promise.all([startAzuriteTables(), new TeamsWorkflowsReceiver().start()]);
});
afterAll(async () => {
  await Promise.all([azurite.close(), teams.close()]);
});

describe("secret hygiene", () => {
  it("no webhook signature, token, key, password or connection string in logs, audit rows, alerts, outbox rows, error bodies or CLI output", async () => {
    const captured: string[] = [];
    const log: Logger = {
      info: (m, f) => void captured.push(`${m} ${JSON.stringify(f ?? {})}`),
      warn: (m, f) => void captured.push(`${m} ${JSON.stringify(f ?? {})}`),
      error: (m, f) => void captured.push(`${m} ${JSON.stringify(f ?? {})}`),
    };
    const h = await startHarness(azurite.connectionString, [rehome(armExample("workspace-get"), WS_ID), rehome(variant(armExample("online-endpoint-get"), (e) => (e.properties.publicNetworkAccess = "Enabled")), `${WS_ID}/onlineEndpoints/ep1`)]);
    try {
      const smtpPassword = `p4ss-${randomBytes(8).toString("hex")}`;
      const channels = [new TeamsChannel(teams.webhookUrl, "low", { ca: teams.ca }), new SmtpChannel(`smtp://amlguard:${smtpPassword}@127.0.0.1:1`, "a@contoso.example", ["b@contoso.example"], "low")];
      const prefix = `s${randomBytes(4).toString("hex")}`;
      const alerting = await openAlerting({ connectionString: azurite.connectionString }, channels, { dedupeWindowMs: 60_000, ttlMs: 3_600_000, baseBackoffMs: 1 }, prefix);
      h.runtime.alerts = new AlertRouter(channels, alerting.outbox, alerting.dedupe, log);
      h.runtime.manual = await openManual({ connectionString: azurite.connectionString }, [SUB], 1000, prefix);

      // An event that remediates and alerts; a channel outage; a refused webhook; an unreachable SMTP relay.
      await h.userArm.patch(WS_ID, { properties: { publicNetworkAccess: "Enabled" } });
      await h.deliver((await waitForEvents(h, 1))[0]);
      teams.faults.add({ kind: "server-error", statusCode: 503, times: 1 });
      await alerting.outbox.dispatch(channels, log);
      const forged = new TeamsChannel(teams.webhookUrl.replace(/sig=[^&]+/, "sig=forgedsignature123"), "low", { ca: teams.ca });
      const refused = await forged.deliver([h.alerts[0] ?? (await alerting.outbox.all())[0]!.alert]).catch((e: DeliveryError) => e.message);

      // HTTP: unauthenticated, bad body, and an internal failure.
      const apiClientId = "6f1c3e55-0d57-4c55-9a5e-6b7a1c0d0a11";
      const validator = new EntraTokenValidator({ tenantId: h.sandbox.authority.tenantId, audiences: [apiClientId], authorityHost: h.sandbox.endpoint }, { ca: h.sandbox.ca });
      const handlers = createHttpHandlers(async () => h.runtime, () => ({ remediateRole: "AmlGuard.Remediate", readRole: "AmlGuard.Read", remediateGroups: [], readGroups: [], rateLimitPerMinute: 1000 }), () => validator);
      const accessToken = await h.sandbox.authority.mintAccessToken(USER, { audience: apiClientId, roles: ["AmlGuard.Remediate"] });
      const bodies: unknown[] = [];
      for (const body of ["{", JSON.stringify({ resourceId: `${WS_ID}/onlineEndpoints/ep1`, reason: "secret test" })]) {
        bodies.push((await handlers.remediate(new HttpRequest({ method: "POST", url: "https://x/api/remediate", body: { string: body }, headers: { "content-type": "application/json", authorization: `Bearer ${accessToken}` } }), newInvocationContext("remediate"))).jsonBody);
      }
      bodies.push((await handlers.remediate(new HttpRequest({ method: "POST", url: "https://x/api/remediate", body: { string: "{}" }, headers: { "content-type": "application/json" } }), newInvocationContext("remediate"))).jsonBody);

      // CLI: a configuration error naming the webhook setting must not echo its value.
      const cliRun = await cli(["scan", "--subscription", SUB], { AMLGUARD_TEAMS_WEBHOOK_URL: `http://example.invalid/hook?sig=${smtpPassword}`, AMLGUARD_STORAGE_CONNECTION_STRING: azurite.connectionString });

      const token = (await h.sandbox.credential(BOT).getToken("x"))!.token;
      const signature = new URL(teams.webhookUrl).searchParams.get("sig")!;
      const accountKey = /AccountKey=([^;]+)/.exec(azurite.connectionString)![1]!;
      const everything = [
        ...captured,
        ...h.logs,
        JSON.stringify(await h.audit()),
        JSON.stringify(h.alerts),
        JSON.stringify(await alerting.outbox.all()),
        JSON.stringify(teams.received),
        String(refused),
        JSON.stringify(bodies),
        cliRun.stdout,
        cliRun.stderr,
      ].join("\n");
      expect(everything.length).toBeGreaterThan(2000);
      expect(cliRun.stderr).toMatch(/AMLGUARD_TEAMS_WEBHOOK_URL: must be https/);
      for (const secret of [signature, encodeURIComponent(signature), "forgedsignature123", smtpPassword, token, token.split(".")[1]!, accountKey]) {
        expect(everything.includes(secret), `leaked ${secret.slice(0, 6)}…`).toBe(false);
      }
      expect(everything).not.toMatch(/Bearer [A-Za-z0-9._-]{10,}|AccountKey=|SharedAccessSignature|-----BEGIN|\n\s+at /);
    } finally {
      await h.close();
    }
  });
});
