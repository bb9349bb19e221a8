import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { packageRoot } from "../src/paths.js";
import type { SimulationResult, StepReport } from "../src/simulate/runner.js";
import { parseDuration } from "../src/simulate/clock.js";
import { cli } from "./helpers/cli.js";

// Every shipped scenario runs through `amlguard simulate --json` (sandbox, Azurite, the real handlers) and is checked
// for the guarantee it demonstrates. Timeouts are hang guards: each run starts a sandbox and Azurite on a busy machine.
const SCENARIOS = join(packageRoot(), "scenarios");
const RUN_TIMEOUT = 120_000;
const ids = {
  workspace: "/subscriptions/3f2b6c1e-8d4a-4b7e-9c1f-2a5d7e9b0c11/resourceGroups/rg-ml-prod/providers/Microsoft.MachineLearningServices/workspaces/mlw-fraud-prod",
  registry: "/subscriptions/9a1c4e7b-2f3d-4c8a-b6e5-7d0f1a2b3c44/resourceGroups/rg-genai/providers/Microsoft.MachineLearningServices/registries/reg-shared-models",
  endpoint: "/subscriptions/3f2b6c1e-8d4a-4b7e-9c1f-2a5d7e9b0c11/resourceGroups/rg-ml-prod/providers/Microsoft.MachineLearningServices/workspaces/mlw-fraud-prod/onlineEndpoints/fraud-score",
};

async function simulate(name: string): Promise<SimulationResult> {
  const run = await cli(["simulate", join(SCENARIOS, `${name}.json`), "--json"]);
  expect(run.stderr).toBe("");
  expect(run.code).toBe(0);
  return JSON.parse(run.stdout) as SimulationResult;
}

const decisions = (step: StepReport, ruleId?: string) => step.decisions.filter((d) => ruleId === undefined || d.ruleId === ruleId).map((d) => d.decision);
const resource = (result: SimulationResult, id: string) => result.resources[id.toLowerCase()] as unknown as { properties: Record<string, unknown>; tags?: Record<string, string> };
const pna = (result: SimulationResult, id: string) => resource(result, id).properties.publicNetworkAccess;

/** The guarantee each shipped scenario demonstrates, asserted on its JSON output. */
const GUARANTEES: Record<string, (result: SimulationResult) => void> = {
  "self-exemption": ({ steps }) => {
    const [write, remediate] = steps as [StepReport, StepReport];
    // The tag in the same write is only a request: approvers are alerted and the finding is not exempt.
    expect(decisions(write)).toContain("exemption-requested");
    expect(decisions(write, "workspace-public-network-access")).toEqual(["alerted"]);
    expect(write.alerts.map((a) => a.title)).toEqual(expect.arrayContaining([expect.stringMatching(/^Exemption requested/)]));
    expect(remediate.http?.status).toBe(200);
    expect(decisions(remediate, "workspace-public-network-access")).toEqual(["remediated"]);
    expect(remediate.writes).toEqual([{ method: "PATCH", id: ids.workspace, status: 202 }]);
  },
  "unrecorded-self-write": (result) => {
    const [step] = result.steps as [StepReport];
    expect(decisions(step)).toContain("unrecorded-self-write");
    expect(step.alerts).toContainEqual(expect.objectContaining({ severity: "high", title: "amlguard's identity made a write amlguard did not make" }));
    // Judged like any other write: remediated, not skipped as "own-write".
    expect(decisions(step, "workspace-public-network-access")).toEqual(["remediated"]);
    // The only own-write is amlguard's real remediation coming back, after the unrecorded write was judged.
    const all = decisions(step);
    expect(all.filter((d) => d === "own-write").length).toBeLessThanOrEqual(1);
    if (all.includes("own-write")) expect(all.indexOf("own-write")).toBeGreaterThan(all.indexOf("remediated"));
    expect(pna(result, ids.workspace)).toBe("Disabled");
  },
  "header-only-caller": ({ steps }) => {
    const [anonymous, reader, forged] = steps as [StepReport, StepReport, StepReport];
    expect(anonymous.http?.status).toBe(401);
    expect(reader.http?.status).toBe(403);
    // Callers are validated in-process by their Entra access token: a hand-made header alone is refused.
    expect(forged.http?.status).toBe(401);
    for (const step of steps) expect(step.writes).toEqual([]);
  },
  "concurrent-change": (result) => {
    const alice = result.steps[1]!;
    // amlguard's PUT carried If-Match: carol's change in between made it fail (412) instead of being overwritten.
    expect(alice.writes.map((w) => `${w.method} ${w.status}`)).toEqual(["PUT 412", "PUT 200"]);
    expect(decisions(alice, "registry-public-network-access")).toEqual(["superseded", "remediated"]);
    expect(resource(result, ids.registry).tags).toMatchObject({ owner: "carol" });
    expect(pna(result, ids.registry)).toBe("Disabled");
  },
  "traffic-log-name-taken": ({ steps }) => {
    const sweep = steps[1]!;
    expect(sweep.writes).toEqual([]);
    expect(sweep.decisions).toContainEqual(expect.objectContaining({ ruleId: "endpoint-no-traffic-logs", resourceId: ids.endpoint, message: expect.stringMatching(/does not overwrite/) }));
    expect(sweep.alerts).toContainEqual(expect.objectContaining({ ruleId: "endpoint-no-traffic-logs", outcome: "needs-action" }));
  },
  "cluster-capped": (result) => {
    const [step] = result.steps as [StepReport];
    expect(decisions(step, "compute-node-public-ip")).toEqual(["remediated"]);
    const cluster = Object.entries(result.resources).find(([id]) => id.endsWith("/computes/gpu-cluster"))![1] as unknown as { properties: { properties: { scaleSettings: Record<string, unknown> } } };
    expect(cluster.properties.properties.scaleSettings).toMatchObject({ maxNodeCount: 0, minNodeCount: 0 });
    expect(step.alerts).toContainEqual(expect.objectContaining({ ruleId: "compute-node-public-ip", outcome: "remediated" }));
    // A job submitted afterwards (no ARM event) starts no node: the cap holds until a person raises it.
    const job = result.steps[1]!.job!;
    expect(job).toMatchObject({ started: 0, granted: 0, queued: 4, currentNodeCount: 0 });
  },
  "response-names-another-id": (result) => {
    const step = result.steps[1]!;
    // Nothing is written, neither to the id in the body nor to the one asked for; a person is told at once.
    expect(step.writes).toEqual([]);
    expect(step.decisions.map((d) => d.decision)).toEqual(["failed"]);
    expect(step.alerts).toContainEqual(expect.objectContaining({ severity: "high", title: "ARM answered with another resource's id: amlguard wrote nothing" }));
    expect(pna(result, ids.workspace)).toBe("Enabled");
  },
  "attacker-text": ({ steps }) => {
    const alerts = steps.flatMap((s) => s.alerts);
    const request = alerts.find((a) => /^Exemption requested/.test(a.title));
    // The forged line is joined to the rest, the link defanged, the escape sequence gone.
    expect(request?.evidence).toMatch(/see hxxps:\/\/evil\[\.\]example\/login \[2J \[31m Approved by security/);
    for (const alert of alerts) {
      for (const text of [alert.title, alert.evidence ?? "", alert.actor ?? ""]) {
        // eslint-disable-next-line no-control-regex -- finding control characters is the point
        expect(text).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/);
        expect(text).not.toMatch(/https?:\/\//i);
      }
    }
  },
  "tag-request-tags-api": ({ steps }) => {
    const [step] = steps as [StepReport];
    if (step.arm!.status < 300) {
      // Microsoft.Resources/tags/write is triaged: the request is seen and approvers are alerted; nothing is exempt.
      expect(decisions(step)).toContain("exemption-requested");
      expect(decisions(step)).not.toContain("exempt");
    } else {
      // This sandbox has no Tags API yet: the step says so in ARM's own terms, and amlguard is not asked anything.
      expect(step.arm!.error?.code).toBe("InvalidResourceType");
      expect(step.eventsDelivered).toBe(0);
    }
  },
  "exemption-approved": (result) => {
    const [, approve, open] = result.steps as [StepReport, StepReport, StepReport];
    expect(approve.exemption?.status).toBe(200);
    expect(approve.alerts.map((a) => a.title)).toContain("Exemption approved");
    expect(decisions(open, "workspace-public-network-access")).toEqual(["exempt"]);
    expect(open.writes).toEqual([]);
    expect(pna(result, ids.workspace)).toBe("Enabled");
  },
  "exemption-self-approved": (result) => {
    const [, approve, open] = result.steps as [StepReport, StepReport, StepReport];
    expect(approve.exemption).toMatchObject({ status: 403, body: { error: { code: "SelfApprovalRefused" } } });
    expect(decisions(open, "workspace-public-network-access")).toEqual(["remediated"]);
    expect(pna(result, ids.workspace)).toBe("Disabled");
  },
  "exemption-revoked": (result) => {
    const [, , revoke, open] = result.steps as [StepReport, StepReport, StepReport, StepReport];
    expect(revoke.exemption?.status).toBe(200);
    expect(decisions(revoke)).toEqual(["exemption-revoked"]);
    expect(revoke.alerts.map((a) => a.title)).toContain("Exemption revoked: amlguard enforces the rules again");
    expect(decisions(open, "workspace-public-network-access")).toEqual(["remediated"]);
    expect(pna(result, ids.workspace)).toBe("Disabled");
  },
  "exemption-expired": (result) => {
    const [, , open, advance, sweep] = result.steps as [StepReport, StepReport, StepReport, StepReport, StepReport];
    expect(decisions(open, "workspace-public-network-access")).toEqual(["exempt"]);
    expect(advance.decisions).toEqual([]);
    // Thirty days on the injected clock: the exemption has ended and the sweep remediates.
    expect(decisions(sweep, "workspace-public-network-access")).toEqual(["remediated"]);
    expect(pna(result, ids.workspace)).toBe("Disabled");
  },
  "approve-mode-approved": (result) => {
    const [write, own, read, approve, again] = result.steps as [StepReport, StepReport, StepReport, StepReport, StepReport];
    // The write is not fixed: a proposal is made, audited, and one alert carries the way to decide.
    expect(decisions(write, "workspace-public-network-access")).toEqual(["proposed"]);
    expect(write.writes).toEqual([]);
    const [id] = write.proposals ?? [];
    const proposalAlert = write.alerts.find((a) => a.title.startsWith("Approval needed"));
    expect(proposalAlert?.links).toEqual([
      { title: "Review and approve", url: `https://amlguard.simulate.invalid/api/proposals/${id}` },
      { title: "Exempt…", url: `https://amlguard.simulate.invalid/api/proposals/${id}?intent=exempt` },
    ]);
    // Four eyes: the writer holds AmlGuard.Remediate, yet may not approve the fix of her own change.
    expect(own.http).toMatchObject({ status: 403, body: { error: { code: "SelfApprovalRefused" } } });
    expect([own.decisions, own.writes]).toEqual([[], []]);
    expect(read.http).toMatchObject({ status: 200, body: { id, status: "pending", decidable: true, requestedBy: { name: "alice@contoso.example" }, action: { after: { "properties.publicNetworkAccess": "Disabled" } } } });
    // A second principal approves: written through the one pipeline (own write recognised), reported back.
    expect(approve.http).toMatchObject({ status: 200, body: { proposal: { status: "approved", decidedBy: { name: "bob@contoso.example" } }, result: { decision: "remediated" } } });
    expect(decisions(approve)).toEqual(["proposal-approved", "remediated", "own-write"]);
    expect(approve.writes).toEqual([{ method: "PATCH", id: ids.workspace, status: 202 }]);
    expect(approve.alerts).toEqual([expect.objectContaining({ outcome: "remediated" })]);
    // Approving twice writes once.
    expect(again.http).toMatchObject({ status: 409, body: { error: { code: "AlreadyDecided" } } });
    expect(again.writes).toEqual([]);
    expect(pna(result, ids.workspace)).toBe("Disabled");
  },
  "approve-mode-expired": (result) => {
    const [write, , approve, sweep] = result.steps as [StepReport, StepReport, StepReport, StepReport];
    expect(decisions(write, "workspace-public-network-access")).toEqual(["proposed"]);
    expect(approve.http).toMatchObject({ status: 410, body: { error: { code: "ProposalExpired" } } });
    expect(decisions(approve)).toEqual(["proposal-expired"]);
    expect(approve.alerts.map((a) => a.title)).toEqual(["Proposal expired: nothing was written"]);
    // The sweep finds the same state decided (expired): a person must act; no new proposal, no second expiry alert.
    expect(decisions(sweep, "workspace-public-network-access")).toEqual(["alerted"]);
    expect(sweep.alerts.map((a) => a.title)).not.toContain("Proposal expired: nothing was written");
    expect(sweep.proposals).toBeUndefined();
    expect([...write.writes, ...approve.writes, ...sweep.writes]).toEqual([]);
    expect(pna(result, ids.workspace)).toBe("Enabled");
  },
  "approve-mode-superseded": (result) => {
    const [write, change, stale, current] = result.steps as [StepReport, StepReport, StepReport, StepReport];
    const [first] = write.proposals ?? [];
    const [second] = change.proposals ?? [];
    expect(second).toBeDefined();
    expect(stale.http).toMatchObject({ status: 409, body: { error: { code: "ProposalSuperseded", message: expect.stringContaining(second!) } } });
    expect(stale.writes).toEqual([]);
    expect(first).not.toBe(second);
    expect(current.http).toMatchObject({ status: 200, body: { proposal: { id: second }, result: { decision: "remediated" } } });
    expect(current.writes).toEqual([{ method: "PATCH", id: ids.workspace, status: 202 }]);
    expect(pna(result, ids.workspace)).toBe("Disabled");
  },
};

describe("amlguard simulate: shipped scenarios", () => {
  const shipped = readdirSync(SCENARIOS).filter((f) => f.endsWith(".json") && f !== "demo.json").map((f) => f.replace(/\.json$/, ""));

  it("ships a checked guarantee for every scenario, and a scenario for every guarantee", () => {
    expect(shipped.sort()).toEqual(Object.keys(GUARANTEES).sort());
  });

  for (const name of Object.keys(GUARANTEES)) {
    it(`${name}`, async () => {
      const result = await simulate(name);
      GUARANTEES[name]!(result);
    }, RUN_TIMEOUT);
  }
});

describe("amlguard simulate: readable output", () => {
  it("prints each step's decisions, writes and alerts with whole ids and no escape sequences", async () => {
    const run = await cli(["simulate", join(SCENARIOS, "attacker-text.json")]);
    expect(run.code).toBe(0);
    const lines = run.stdout.split("\n");
    expect(lines).toContainEqual(expect.stringMatching(/^Step 1: ARM as alice: 202 \(operation Succeeded\)$/));
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^  exemption-requested +- +${ids.workspace.replace(/[.]/g, "\\.")}$`)));
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}high +needs-action +Workspace is reachable from the public internet +\/subscriptions\/.+\/workspaces\/mlw-fraud-prod$/));
    expect(run.stdout).not.toContain("\u001b");
  }, RUN_TIMEOUT);
});

describe("amlguard simulate: held-back writes", () => {
  it("says so when a held-back write never lands (amlguard made no write to that id)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "amlguard-simulate-"));
    const scenario = JSON.parse(readFileSync(join(SCENARIOS, "concurrent-change.json"), "utf8")) as { steps: unknown[] };
    scenario.steps = scenario.steps.slice(0, 1);
    const path = join(dir, "held-back.json");
    writeFileSync(path, JSON.stringify(scenario));
    const run = await cli(["simulate", path, "--json"]);
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout) as SimulationResult;
    expect(result.steps[0]!.errors).toEqual([expect.stringMatching(/^a held-back write to .*reg-shared-models never landed: amlguard made no write to that id$/)]);
    expect(resource(result, ids.registry).tags).not.toMatchObject({ owner: "carol" });
  }, RUN_TIMEOUT);
});

describe("amlguard simulate: bad scenarios", () => {
  const dir = mkdtempSync(join(tmpdir(), "amlguard-simulate-"));
  const base = { description: "bad", principals: { dev1: { objectId: "5e5e5e5e-1111-4000-8000-000000000005", name: "dev1@contoso.example", type: "User" } }, resources: [] };
  const cases: Array<[string, unknown, RegExp]> = [
    ["an unknown ARM method", { ...base, steps: [{ sweep: true }, { advance: "P1D" }, { as: "dev1", arm: { method: "GET", id: "/subscriptions/x" } }] }, /^amlguard: bad scenario: step 3: arm\.method must be one of PUT, PATCH, POST, DELETE$/m],
    ["an undefined principal", { ...base, steps: [{ as: "dev9", arm: { method: "PATCH", id: "/subscriptions/x", body: {} } }] }, /step 1: as 'dev9' is not one of the principals \(dev1\)/],
    ["two actions in one step", { ...base, steps: [{ sweep: true, advance: "P1D" }] }, /step 1: must have exactly one of arm, http, exemptions, sweep, advance, fault, job \(has sweep and advance\)/],
    ["a route the API does not serve", { ...base, steps: [{ as: "dev1", http: { method: "DELETE", path: "/api/remediate" } }] }, /step 1: http DELETE \/api\/remediate is not served/],
    ["a duration in months", { ...base, steps: [{ advance: "P1M" }] }, /step 1: advance must be an ISO 8601 duration/],
    ["an unknown field", { ...base, steps: [{ sweep: true, when: "now" }] }, /step 1: unknown field when/],
    ["a setting that is not a string", { ...base, settings: { AMLGUARD_DRY_RUN: true }, steps: [{ sweep: true }] }, /settings\.AMLGUARD_DRY_RUN must be a string/],
    ["a resource amlguard does not evaluate", { ...base, resources: [{ id: "/subscriptions/3f2b6c1e-8d4a-4b7e-9c1f-2a5d7e9b0c11/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st1" }], steps: [{ sweep: true }] }, /resources\[0\]\.id must be the id of a supported/],
    ["no description", { resources: [], steps: [{ sweep: true }] }, /description is required/],
    ["a bad app setting", { ...base, settings: { AMLGUARD_DEFAULT_MODE: "fix" }, steps: [{ sweep: true }] }, /AMLGUARD_DEFAULT_MODE/],
    ["a proposal not made yet", { ...base, steps: [{ as: "dev1", http: { method: "POST", path: "/api/proposals/{proposal}/approve" } }] }, /step 1: no proposal has been made yet/],
  ];
  for (const [label, scenario, message] of cases) {
    it(`exits 2 on ${label}, naming where`, async () => {
      const path = join(dir, `${label.replace(/\W+/g, "-")}.json`);
      writeFileSync(path, JSON.stringify(scenario));
      const run = await cli(["simulate", path, "--json"]);
      expect(run.code).toBe(2);
      expect(run.stdout).toBe("");
      expect(run.stderr).toMatch(message);
      expect(run.stderr).not.toMatch(/\n\s+at /);
    }, RUN_TIMEOUT);
  }

  it("exits 2 on a file that is not JSON", async () => {
    const path = join(dir, "not-json.json");
    writeFileSync(path, "{ steps: [");
    const run = await cli(["simulate", path]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/bad scenario: .*not-json\.json is not valid JSON/);
  });
});

describe("ISO 8601 durations", () => {
  it("reads weeks, days and times, and refuses lengths that depend on the date", () => {
    expect(parseDuration("P30D")).toBe(30 * 86_400_000);
    expect(parseDuration("P1W")).toBe(7 * 86_400_000);
    expect(parseDuration("PT1H30M")).toBe(90 * 60_000);
    expect(parseDuration("P1DT12H")).toBe(36 * 3_600_000);
    for (const bad of ["P1M", "P1Y", "P", "PT", "30D", "P0D", ""]) expect(parseDuration(bad)).toBeUndefined();
  });
});
