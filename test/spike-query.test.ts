import { describe, expect, it } from "vitest";
import { buildSpikeQuery } from "../src/spikes/query.js";
import { kustoDiagnostics } from "./helpers/kusto.js";

const errors = (query: string) => kustoDiagnostics(query).filter((d) => d.Severity === "Error");

describe("the spike query (validated by Kusto.Language against Azure Monitor's table schemas)", () => {
  it("has no errors: every table, column and function exists with the right types", () => {
    expect(errors(buildSpikeQuery())).toEqual([]);
    expect(errors(buildSpikeQuery({ lookbackDays: 14, bucketHours: 3 }))).toEqual([]);
  });

  it("the validator catches what the build must fail on: an unknown column, an unknown table, a syntax error", () => {
    expect(errors(buildSpikeQuery().replace("ResponseCode in", "ResponseCodes in")).map((d) => d.Code)).toContain("KS142");
    expect(errors(buildSpikeQuery().replace("| summarize", "| summarise")).length).toBeGreaterThan(0);
    expect(errors("AmlOnlineEndpointTrafficLogs | take 1").map((d) => d.Code)).toContain("KS204");
  });

  it("reads from every source the detector covers, with the types Azure Monitor documents", () => {
    const query = buildSpikeQuery();
    for (const table of ["AmlOnlineEndpointTrafficLog", "SigninLogs", "AADNonInteractiveUserSignInLogs", "AADServicePrincipalSignInLogs", "AADManagedIdentitySignInLogs", "StorageBlobLogs", "AZKVAuditLogs", "AzureDiagnostics", "AzureActivity"]) {
      expect(query).toContain(`(${table}\n`);
    }
    expect(query).toMatch(/^union isfuzzy=true/m);
    expect(query).toContain('ResultType != "0"'); // a string in the sign-in tables
    expect(query).toContain('StatusCode in ("401", "403")'); // a string in StorageBlobLogs
  });
});
