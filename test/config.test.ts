import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/config.js";

describe("configuration (zod)", () => {
  it("local.settings.sample.json is valid and means what the README says", () => {
    const sample = JSON.parse(readFileSync(join(import.meta.dirname, "..", "local.settings.sample.json"), "utf8")) as { Values: Record<string, string> };
    const config = loadConfig(sample.Values);
    expect(config).toMatchObject({ defaultMode: "alert", dryRun: false, ruleModes: {}, storage: { connectionString: "UseDevelopmentStorage=true" }, maxDeliveryAttempts: 30 });
    expect(config.alerts.teams).toBeUndefined();
    expect(config.logAnalytics).toBeUndefined();
  });

  it("identity-based storage wins over a connection string; rule modes and channels parse", () => {
    const config = loadConfig({
      AzureWebJobsStorage__accountName: "stamlguard",
      AzureWebJobsStorage: "UseDevelopmentStorage=true",
      AMLGUARD_RULE_MODES: "workspace-public-network-access=remediate, compute-local-auth=off, workspace-no-traffic-logs=alert",
      AMLGUARD_TEAMS_WEBHOOK_URL: "https://prod-01.westeurope.logic.azure.com/workflows/abc/triggers/manual/paths/invoke?api-version=2016-06-01&sig=s3cr3t",
      AMLGUARD_EMAIL_TO: "secops@contoso.example",
      AMLGUARD_EMAIL_FROM: "amlguard@contoso.example",
      AMLGUARD_SMTP_URL: "smtp://relay.contoso.example:587",
    });
    expect(config.storage).toEqual({ endpoint: "https://stamlguard.table.core.windows.net" });
    // workspace-no-traffic-logs is the old name of endpoint-no-traffic-logs: existing settings keep working.
    expect(config.ruleModes).toEqual({ "workspace-public-network-access": "remediate", "compute-local-auth": "off", "endpoint-no-traffic-logs": "alert" });
    expect(config.alerts.email).toMatchObject({ via: { smtpUrl: "smtp://relay.contoso.example:587" }, minSeverity: "high" });
  });

  it.each([
    [{ AMLGUARD_DEFAULT_MODE: "yolo" }, /AMLGUARD_DEFAULT_MODE/],
    [{ AMLGUARD_RULE_MODES: "no-such-rule=remediate" }, /unknown rule id 'no-such-rule'/],
    [{ AMLGUARD_SUBSCRIPTION_IDS: "not-a-guid" }, /AMLGUARD_SUBSCRIPTION_IDS.*subscription GUID/],
    [{ AMLGUARD_TEAMS_WEBHOOK_URL: "http://example.invalid/hook?sig=topsecret" }, /AMLGUARD_TEAMS_WEBHOOK_URL: must be https/],
    [{ AMLGUARD_EMAIL_TO: "secops@contoso.example" }, /AMLGUARD_EMAIL_TO needs AMLGUARD_EMAIL_FROM/],
    [{ AMLGUARD_LOG_ANALYTICS_ENDPOINT: "https://api.loganalytics.io" }, /end in \/v1/],
  ])("refuses %j naming the setting, never echoing its value", (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
    try {
      loadConfig(env);
    } catch (error) {
      expect((error as Error).message).not.toContain("topsecret");
    }
  });
});
