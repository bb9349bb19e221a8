import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { TokenCredential } from "@azure/core-auth";
import { ChainedTokenCredential, CredentialUnavailableError } from "@azure/identity";
import { beforeAll, describe, expect, it } from "vitest";
import { RULES } from "../src/rules/index.js";
import { cli } from "./helpers/cli.js";
import { armExample, compliantWorkspaceExample } from "./helpers/fixtures.js";

const run = promisify(execFile);
let dir: string;

function file(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === "string" ? content : JSON.stringify(content));
  return path;
}

const compliantWorkspace = compliantWorkspaceExample;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "amlguard-cli-"));
});

describe("amlguard evaluate", () => {
  it("exits 0 with no findings for a compliant resource", async () => {
    const result = await cli(["evaluate", file("ok.json", compliantWorkspace())]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("No findings.");
  });

  it("exits 1 and prints JSON findings with the documented fields", async () => {
    const cluster = file("cluster.json", armExample("compute-get-amlcompute"));
    const result = await cli(["evaluate", cluster, "--json"]);
    expect(result.code).toBe(1);
    const findings = JSON.parse(result.stdout) as Array<Record<string, unknown>>;
    expect(findings.map((f) => f.ruleId).sort()).toEqual(["compute-local-auth", "compute-node-public-ip", "compute-public-ssh"]);
    for (const finding of findings) {
      expect(Object.keys(finding).sort()).toEqual(["compliance", "evidence", "resourceId", "resourceType", "ruleId", "severity", "title"]);
      expect(Object.keys(finding.compliance as object).sort()).toEqual(["azurePolicy", "cis", "mcsb"]);
    }
    // compute-local-auth agrees with Azure Policy's built-in e96a9a5f (DisableLocalAuth_Audit) and says so.
    expect(findings.find((f) => f.ruleId === "compute-local-auth")?.compliance).toMatchObject({ azurePolicy: ["e96a9a5f-07ca-471b-9bc5-6a0f33cbd68f"] });
  });

  it("reads arrays, ARM list pages and Resource Graph exports", async () => {
    const cluster = armExample("compute-get-amlcompute");
    const array = await cli(["evaluate", file("array.json", [cluster]), "--json"]);
    const page = await cli(["evaluate", file("page.json", { value: [cluster], nextLink: null }), "--json"]);
    const graph = await cli(["evaluate", file("graph.json", { totalRecords: 1, count: 1, data: [{ ...cluster, type: cluster.type.toLowerCase() }], facets: [], resultTruncated: "false" }), "--json"]);
    for (const result of [array, page, graph]) {
      expect(result.code).toBe(1);
      expect(JSON.parse(result.stdout)).toHaveLength(3);
    }
  });

  it("prints a readable table with a severity summary", async () => {
    const result = await cli(["evaluate", file("t.json", armExample("compute-get-amlcompute"))]);
    expect(result.stdout).toMatch(/^SEVERITY\s+RULE\s+RESOURCE\s+EVIDENCE/);
    expect(result.stdout).toContain("workspaces123/compute123");
    expect(result.stdout).toMatch(/3 findings: 2 high, 1 medium/);
  });

  it("skips unsupported resource types with a note on stderr", async () => {
    const storage = { id: "/subscriptions/x/resourceGroups/y/providers/Microsoft.Storage/storageAccounts/z", type: "Microsoft.Storage/storageAccounts" };
    const result = await cli(["evaluate", file("mixed.json", [storage, compliantWorkspace()])]);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain("skipped 1 resource(s) of unsupported type Microsoft.Storage/storageAccounts");
  });

  it.each([
    ["a missing file", () => join(dir, "does-not-exist.json"), /does-not-exist\.json: cannot read file \(ENOENT\)/],
    ["malformed JSON", () => file("bad.json", "{\"id\": "), /bad\.json: malformed JSON/],
    ["a non-resource", () => file("nores.json", { hello: "world" }), /nores\.json: not an ARM resource/],
    ["a non-resource inside an array", () => file("arr.json", [armExample("workspace-get"), 42]), /arr\.json \(item 1\): not an ARM resource/],
  ])("exits 2 on %s with a one-line message naming the file", async (_label, makePath, message) => {
    const result = await cli(["evaluate", makePath(), "--json"]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it("exits 2 on unknown options", async () => {
    expect((await cli(["evaluate", "--nope"])).code).toBe(2);
    expect((await cli(["frobnicate"])).code).toBe(2);
  });
});

describe("amlguard scan", () => {
  it.each([["graph"], ["arm"]])("scans the embedded sandbox via %s, reports findings with exit 1, and both sources agree", async (via) => {
    const result = await cli(["scan", "--sandbox", "--via", via, "--json"]);
    expect(result.code).toBe(1);
    const output = JSON.parse(result.stdout) as { via: string; resourceCounts: Record<string, number>; findings: Array<{ resourceId: string; ruleId: string }>; errors: unknown[] };
    expect(output.via).toBe(via);
    expect(output.errors).toEqual([]);
    expect(output.resourceCounts).toEqual({ workspace: 4, compute: 5, onlineEndpoint: 2, onlineDeployment: 2, registry: 1 });
    // The locked-down production workspace of the demo estate is compliant; the dev workspace is not.
    expect(output.findings.filter((f) => f.resourceId.includes("/workspaces/mlw-fraud-prod/") || f.resourceId.endsWith("/mlw-fraud-prod"))).toEqual([]);
    expect(output.findings.some((f) => f.resourceId.endsWith("/mlw-sandbox-dev") && f.ruleId === "workspace-public-network-access")).toBe(true);
    expect(output.findings.map((f) => `${f.ruleId}@${f.resourceId.toLowerCase()}`).sort()).toEqual(
      JSON.parse((await cli(["scan", "--sandbox", "--via", via === "arm" ? "graph" : "arm", "--json"])).stdout).findings.map((f: { ruleId: string; resourceId: string }) => `${f.ruleId}@${f.resourceId.toLowerCase()}`).sort(),
    );
    expect(result.stderr).toMatch(/\d+ resources, \d+ findings/);
  });

  it("prints a summary by rule and by subscription", async () => {
    const result = await cli(["scan", "--sandbox"]);
    expect(result.stdout).toMatch(/FINDINGS\s+RULE\n\s*\d+\s+[a-z][a-z-]+\n/);
    expect(result.stdout).toMatch(/\n\s*\d+\s+workspace-public-network-access\n/);
    expect(result.stdout).toMatch(/FINDINGS\s+SUBSCRIPTION\n\s*\d+\s+3f2b6c1e-8d4a-4b7e-9c1f-2a5d7e9b0c11/);
  });

  it("limits to one resource group; no findings there still names the rules scan did not evaluate", async () => {
    const result = await cli(["scan", "--sandbox", "--resource-group", "rg-ml-prod", "--json"]);
    expect(result.code).toBe(0);
    const output = JSON.parse(result.stdout) as { findings: unknown[]; notEvaluated: Array<{ ruleId: string }> };
    expect(output.findings).toEqual([]);
    // The rules that need related resources (diagnostic settings) are the ones scan cannot evaluate.
    const needRelated = RULES.filter((r) => r.related?.length).map((r) => r.id);
    expect(needRelated.length).toBeGreaterThan(0);
    expect(output.notEvaluated.map((n) => n.ruleId)).toEqual(needRelated);
    const table = await cli(["scan", "--sandbox", "--resource-group", "rg-ml-prod"]);
    expect(table.stdout).toContain("No findings.");
    expect(table.stdout).toContain(`Not evaluated by scan: ${needRelated.join(", ")} (they need each resource's diagnostic settings`);
  });

  it("via ARM, reports a missing resource group as an error with exit 2, without a stack trace", async () => {
    const result = await cli(["scan", "--sandbox", "--via", "arm", "--subscription", "3f2b6c1e-8d4a-4b7e-9c1f-2a5d7e9b0c11", "--resource-group", "rg-missing"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("ResourceGroupNotFound");
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it("validates its arguments", async () => {
    expect((await cli(["scan", "--subscription", "not-a-guid"])).stderr).toContain('--subscription "not-a-guid" is not a subscription GUID');
    expect((await cli(["scan"])).code).toBe(2);
    expect((await cli(["scan", "--sandbox", "--resource-group", "../etc"])).code).toBe(2);
  });
});

describe("the amlguard binary", () => {
  it("runs as a process: exit codes and stderr as documented, no stack trace", async () => {
    const bad = file("proc-bad.json", "not json");
    const error = await run(process.execPath, ["--import", "tsx", "src/cli/main.ts", "evaluate", bad]).catch((e: { code: number; stderr: string }) => e);
    expect(error).toMatchObject({ code: 2 });
    expect((error as { stderr: string }).stderr).toMatch(/^amlguard: .*proc-bad\.json: malformed JSON/);
    const demo = await run(process.execPath, ["--import", "tsx", "src/cli/main.ts", "demo", "--json"]);
    const result = JSON.parse(demo.stdout) as { scan: { findings: unknown[] }; audit: Array<{ decision: string }> };
    expect(result.scan.findings.length).toBeGreaterThan(0);
    expect(result.audit.some((r) => r.decision === "remediated")).toBe(true);
  }, 120_000); // two whole processes (tsx compiles on start) and the demo: a bound for a busy machine, not a timing check
});

describe("amlguard audit", () => {
  it("lists the audit trail from Table Storage, as a table or JSON", async () => {
    const { startAzuriteTables } = await import("../src/sandbox/azurite.js");
    const { openState } = await import("../src/runtime.js");
    const azurite = await startAzuriteTables();
    try {
      const { audit } = await openState({ connectionString: azurite.connectionString });
      await audit.record({ decision: "remediated", trigger: "event-grid", resourceId: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws", ruleId: "workspace-public-network-access", before: { "properties.publicNetworkAccess": "Enabled" }, after: { "properties.publicNetworkAccess": "Disabled" }, actor: { name: "alice" }, message: "m" });
      const env = { AMLGUARD_STORAGE_CONNECTION_STRING: azurite.connectionString };
      const json = await cli(["audit", "--since", "1h", "--json"], env);
      expect(json.code).toBe(0);
      expect(JSON.parse(json.stdout)).toMatchObject([{ decision: "remediated", actor: { name: "alice" }, after: { "properties.publicNetworkAccess": "Disabled" } }]);
      const text = await cli(["audit"], env);
      expect(text.stdout).toMatch(/remediated\s+workspace-public-network-access\s+ws\s+alice\s+publicNetworkAccess: "Enabled" -> "Disabled"/);
    } finally {
      await azurite.close();
    }
  });

  it("explains a bad --since or missing storage, exit 2", async () => {
    expect((await cli(["audit", "--since", "yesterday"], { AMLGUARD_STORAGE_CONNECTION_STRING: "x" })).stderr).toMatch(/--since "yesterday" is not a duration like 30m, 24h or 7d/);
    const missing = await cli(["audit"], {});
    expect([missing.code, missing.stderr]).toEqual([2, expect.stringMatching(/no Table Storage configured/)]);
  });
});

describe("amlguard remediate", () => {
  const ENDPOINT = "/subscriptions/3f2b6c1e-8d4a-4b7e-9c1f-2a5d7e9b0c11/resourceGroups/rg-ml-dev/providers/Microsoft.MachineLearningServices/workspaces/mlw-sandbox-dev/onlineEndpoints/churn-score";

  it("remediates one resource through the same core (sandbox), exit 1 while findings remain", async () => {
    const result = await cli(["remediate", ENDPOINT, "--sandbox", "--reason", "CHG-42", "--json"]);
    const body = JSON.parse(result.stdout);
    expect(body.findings).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ ruleId: "endpoint-public-network-access", decision: "remediated" }),
        expect.objectContaining({ ruleId: "endpoint-key-auth", decision: "alerted" }),
      ]),
    );
    expect(result.code).toBe(1);
  });

  it("dry-run and --rule select what is planned", async () => {
    const result = await cli(["remediate", ENDPOINT, "--sandbox", "--dry-run", "--rule", "endpoint-public-network-access"]);
    expect(result.stdout).toMatch(/^DRY RUN: nothing written/);
    expect(result.stdout).toMatch(/dry-run\s+endpoint-public-network-access/);
    expect(result.code).toBe(0);
  });

  it("refuses forged ids and unknown rules with one line, exit 2", async () => {
    for (const args of [["remediate", "/subscriptions/x", "--sandbox"], ["remediate", ENDPOINT, "--sandbox", "--rule", "nope"]]) {
      const result = await cli(args);
      expect(result.code).toBe(2);
      expect(result.stderr.trim().split("\n")).toHaveLength(1);
    }
  });
});

describe("the CLI as an operator meets it", () => {
  const SUB = "3f2b6c1e-8d4a-4b7e-9c1f-2a5d7e9b0c11";
  // What DefaultAzureCredential's chain throws on a machine with no sign-in (@azure/identity 4.13's own messages).
  const unavailable = (message: string): TokenCredential => ({
    getToken: async () => {
      throw new CredentialUnavailableError(message);
    },
  });
  const signedOut = () =>
    new ChainedTokenCredential(
      unavailable("EnvironmentCredential is unavailable. No underlying credential could be used. To troubleshoot, visit https://aka.ms/azsdk/js/identity/environmentcredential/troubleshoot."),
      unavailable("ManagedIdentityCredential: Network unreachable. Message: network_error: See https://aka.ms/msal.js.errors#network_error for details"),
      unavailable("Azure CLI could not be found. Please visit https://aka.ms/azure-cli for installation instructions and then, once installed, authenticate to your Azure account using 'az login'."),
    );

  it("--version prints the package version", async () => {
    const { version } = JSON.parse(readFileSync(join(import.meta.dirname, "..", "package.json"), "utf8")) as { version: string };
    expect(await cli(["--version"])).toEqual({ code: 0, stdout: `${version}\n`, stderr: "" });
  });

  it("evaluate - reads standard input", async () => {
    const result = await cli(["evaluate", "-", "--json"], {}, { stdin: JSON.stringify(armExample("compute-get-amlcompute")) });
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toHaveLength(3);
    const bad = await cli(["evaluate", "-"], {}, { stdin: "{" });
    expect([bad.code, bad.stderr]).toEqual([2, expect.stringMatching(/^amlguard: stdin: malformed JSON/)]);
  });

  it("evaluate on a file with nothing amlguard evaluates exits 2 naming the file, never 'No findings'", async () => {
    const storage = { id: "/subscriptions/x/resourceGroups/y/providers/Microsoft.Storage/storageAccounts/z", type: "Microsoft.Storage/storageAccounts" };
    const result = await cli(["evaluate", file("only-storage.json", [storage])]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/only-storage\.json: no resource of a type amlguard evaluates.*Microsoft\.Storage\/storageAccounts/);
  });

  it("an unmatched resource group or an empty subscription is a warning with exit 3, never 'No findings'", async () => {
    for (const args of [
      ["scan", "--sandbox", "--resource-group", "does-not-exist"],
      ["scan", "--sandbox", "--subscription", "00000000-0000-4000-8000-000000000000"],
    ]) {
      const result = await cli(args);
      expect(result.code).toBe(3);
      expect(result.stdout).not.toMatch(/No findings/);
      expect(result.stderr).toMatch(/warning: nothing was checked: no Machine Learning resources in .*; this is not an all-clear \(exit 3\)/);
    }
    const json = await cli(["scan", "--sandbox", "--resource-group", "does-not-exist", "--json"]);
    expect([json.code, JSON.parse(json.stdout).checked]).toEqual([3, 0]);
  });

  it.each([["graph"], ["arm"]])("credential failures (via %s) say what was tried and what to do; nothing on stdout looks like an all-clear", async (via) => {
    const result = await cli(["scan", "--subscription", SUB, "--via", via], {}, { credential: signedOut() });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/no Azure credential is available\. To fix: run `az login`/);
    expect(result.stderr).toMatch(/Tried: environment variables \(EnvironmentCredential\): not configured; managed identity \(ManagedIdentityCredential\): no endpoint reachable; Azure CLI \(az login\): not installed/);
    expect(result.stderr).not.toMatch(/AggregateAuthenticationError|https:\/\/aka\.ms|\n\s+at /);
  });

  it("start with real subscriptions and no credential prints nothing on stdout (never '0 workspaces … No findings.')", async () => {
    const result = await cli(["start"], { AMLGUARD_SUBSCRIPTION_IDS: SUB }, { credential: signedOut() });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/az login/);
  });

  it("spikes --since beyond what the detector serves is refused, not shortened to 24h", async () => {
    const result = await cli(["spikes", "--sandbox", "--since", "30d"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^amlguard: --since "30d" reaches back further than 1 day\(s\) \(24h\)/);
    expect((await cli(["spikes", "--sandbox", "--since", "soon"])).stderr).toMatch(/--since "soon" is not a duration like 30m, 24h or 7d/);
  });

  it("the CLI's --since limit is the detector's: up to it the window starts where asked, past it the detector would clamp", async () => {
    const { SPIKES_MAX_SINCE_MS } = await import("../src/cli/commands/spikes.js");
    const { runSpikeDetection } = await import("../src/spikes/run.js");
    const now = new Date("2026-11-25T12:00:00Z");
    // Log Analytics answering with no rows: only the window arithmetic is exercised.
    const logs = { failureBuckets: async () => [] } as unknown as import("../src/azure/logs-client.js").LogsClient;
    const windowStart = async (backMs: number) =>
      (await runSpikeDetection({ logs, alerts: { send: async () => undefined }, workspaceId: "w", portal: "https://portal.azure.com", now: () => now }, { since: new Date(now.getTime() - backMs) })).windowStart.getTime();
    expect(await windowStart(SPIKES_MAX_SINCE_MS)).toBe(now.getTime() - SPIKES_MAX_SINCE_MS);
    expect(await windowStart(SPIKES_MAX_SINCE_MS + 3_600_000)).toBe(now.getTime() - SPIKES_MAX_SINCE_MS);
  });

  it.each([
    ["x", /malformed: expected Name=value pairs/],
    ["AccountName=devstoreaccount1;DefaultEndpointsProtocol=https", /needs AccountName or TableEndpoint, and AccountKey or SharedAccessSignature/],
  ])("a malformed storage connection string (%s) is a clear error, not a TypeError", async (connectionString, message) => {
    for (const args of [["audit"], ["alerts", "pending"]]) {
      const result = await cli(args, { AMLGUARD_STORAGE_CONNECTION_STRING: connectionString });
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(message);
      expect(result.stderr).not.toMatch(/TypeError|toLowerCase/);
    }
  });

  it("validation messages name the flag or setting and the value, never a schema path", async () => {
    const ENDPOINT = `/subscriptions/${SUB}/resourceGroups/rg-ml-dev/providers/Microsoft.MachineLearningServices/workspaces/mlw-sandbox-dev/onlineEndpoints/churn-score`;
    const rule = await cli(["remediate", ENDPOINT, "--sandbox", "--rule", "nope"]);
    expect(rule.stderr).toMatch(/^amlguard: --rule \(item 1\): unknown rule id 'nope'; known: workspace-public-network-access, /);
    const reason = await cli(["remediate", ENDPOINT, "--sandbox", "--reason", "x"]);
    expect(reason.stderr).toMatch(/^amlguard: --reason: "x" reason must say why/);
    const setting = await cli(["scan"], { AMLGUARD_SUBSCRIPTION_IDS: `${SUB},not-a-guid` });
    expect(setting.stderr).toMatch(/AMLGUARD_SUBSCRIPTION_IDS \(item 2\): "not-a-guid" must be a subscription GUID/);
    for (const run of [rule, reason, setting]) {
      expect(run.code).toBe(2);
      expect(run.stderr).not.toMatch(/rules\.0|SUBSCRIPTION_IDS\.\d|Invalid option/);
    }
  });
});
