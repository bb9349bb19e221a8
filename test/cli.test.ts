import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { cli } from "./helpers/cli.js";
import { armExample } from "./helpers/fixtures.js";

const run = promisify(execFile);
let dir: string;

function file(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === "string" ? content : JSON.stringify(content));
  return path;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "amlguard-cli-"));
});

describe("amlguard evaluate", () => {
  it("exits 0 with no findings for a compliant resource", async () => {
    const result = await cli(["evaluate", file("ok.json", armExample("workspace-get"))]);
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
    expect(result.stdout).toMatch(/3 finding\(s\): 2 high, 1 medium/);
  });

  it("skips unsupported resource types with a note on stderr", async () => {
    const storage = { id: "/subscriptions/x/resourceGroups/y/providers/Microsoft.Storage/storageAccounts/z", type: "Microsoft.Storage/storageAccounts" };
    const result = await cli(["evaluate", file("mixed.json", [storage, armExample("workspace-get")])]);
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
    expect(result.stdout).toMatch(/FINDINGS\s+RULE\n\s*\d+\s+workspace-public-network-access/);
    expect(result.stdout).toMatch(/FINDINGS\s+SUBSCRIPTION\n\s*\d+\s+3f2b6c1e-8d4a-4b7e-9c1f-2a5d7e9b0c11/);
  });

  it("limits to one resource group", async () => {
    const result = await cli(["scan", "--sandbox", "--resource-group", "rg-ml-prod", "--json"]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).findings).toEqual([]);
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
  });
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
