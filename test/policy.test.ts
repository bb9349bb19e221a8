/**
 * amlguard's rules against the Azure Policy built-ins they name: cases derived from each built-in's own policy rule
 * (test/fixtures/policy, sources in SOURCES.md), the built-in's verdict computed by test/helpers/policy.ts, and
 * amlguard's verdict from the rule. A failing rule is "non-compliant"; passing or not applicable is not.
 */
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { ArmResource, JsonObject, JsonValue } from "../src/arm/resource.js";
import { RULES, ruleById } from "../src/rules/index.js";
import type { RuleInputs } from "../src/rules/rule.js";
import { armExample, fixturePath } from "./helpers/fixtures.js";
import { policyVerdict, type PolicyFixture } from "./helpers/policy.js";
import { casesFrom, COMPUTE_TYPES, literalsOf, WORKSPACE_KINDS, type PolicyCase } from "./helpers/policy-cases.js";

const fixtures = new Map<string, PolicyFixture>(
  readdirSync(fixturePath("policy"))
    .filter((file) => file.endsWith(".json"))
    .map((file) => JSON.parse(readFileSync(fixturePath("policy", file), "utf8")) as PolicyFixture)
    .map((policy) => [policy.name, policy]),
);

const workspaces = [armExample("workspace-get")];
const computes = ["compute-get-computeinstance", "compute-get-amlcompute", "compute-get-aks", "compute-get-kubernetes"].map((name) => armExample(name));
const byKind = { path: "kind", values: WORKSPACE_KINDS };
const byComputeType = { path: "properties.computeType", values: COMPUTE_TYPES };

interface Mirror {
  ruleId: string;
  cases: (policy: PolicyFixture) => PolicyCase[];
  /** The assignment's parameters, where amlguard mirrors an assignment other than the defaults. */
  parameters?: Record<string, JsonValue>;
  /** Where amlguard deliberately differs: the reason, stated in the rule; the built-in fails such a case, amlguard does not apply. */
  exception?: (resource: ArmResource) => string | undefined;
}

const projectReachedThroughHub = (resource: ArmResource): string | undefined =>
  typeof resource.kind === "string" && resource.kind.toLowerCase() === "project" ? "a hub-based Project is isolated by its hub, which is evaluated" : undefined;

const MIRRORS: Record<string, Mirror> = {
  "438c38d2-3772-465a-a9cc-7a6666a275ce": { ruleId: "workspace-public-network-access", cases: (p) => casesFrom(p, workspaces, byKind) },
  "45e05259-1eb5-4f70-9574-baf73e9d219b": { ruleId: "workspace-no-private-link", cases: (p) => casesFrom(p, workspaces, byKind), exception: projectReachedThroughHub },
  "6ddb1705-c8cf-450e-aa4b-19ad6703c440": {
    ruleId: "workspace-outbound-not-restricted",
    parameters: { isolationMode: "AllowOnlyApprovedOutbound" },
    cases: (p) => casesFrom(p, workspaces, byKind, { isolationMode: "AllowOnlyApprovedOutbound" }),
    exception: projectReachedThroughHub,
  },
  "ba769a63-b8cc-4b2d-abf6-ac33c7204be8": { ruleId: "workspace-no-customer-managed-key", cases: (p) => casesFrom(p, workspaces, byKind) },
  "5f0c7d88-c7de-45b8-ac49-db49e72eaa78": { ruleId: "workspace-no-user-assigned-identity", cases: (p) => casesFrom(p, workspaces, byKind) },
  "e96a9a5f-07ca-471b-9bc5-6a0f33cbd68f": { ruleId: "compute-local-auth", cases: (p) => casesFrom(p, computes, byComputeType) },
  "7804b5c7-01dc-4723-969b-ae300cc07ff1": { ruleId: "compute-not-in-vnet", cases: (p) => casesFrom(p, computes, byComputeType) },
  "679ddf89-ab8f-48a5-9029-e76054077449": { ruleId: "compute-instance-idle-shutdown", cases: (p) => casesFrom(p, computes, byComputeType) },
  "f110a506-2dcb-422e-bcea-d533fc8c35e2": { ruleId: "compute-instance-outdated-image", cases: (p) => casesFrom(p, computes, byComputeType) },
};

type Outcome = "non-compliant" | "not non-compliant";
const amlguard = (ruleId: string, resource: ArmResource, inputs?: RuleInputs): Outcome =>
  ruleById(ruleId)!.evaluate(resource, inputs).status === "fail" ? "non-compliant" : "not non-compliant";
const azure = (policy: PolicyFixture, resource: ArmResource, options: Parameters<typeof policyVerdict>[2]): Outcome =>
  policyVerdict(policy, resource, options) === "non-compliant" ? "non-compliant" : "not non-compliant";

describe("every built-in a rule names is mirrored here, from its committed policy rule", () => {
  it("each rule's compliance.azurePolicy has a fixture and a mirror, and names the rule the mirror tests", () => {
    const named = RULES.flatMap((rule) => rule.compliance.azurePolicy.map((guid) => [guid, rule.id] as const));
    expect(named.length).toBeGreaterThanOrEqual(10);
    for (const [guid, ruleId] of named) {
      expect(fixtures.has(guid), `fixture for ${guid}`).toBe(true);
      const mirrored = MIRRORS[guid]?.ruleId ?? (guid === "afe0c3be-ba3b-4544-ba52-0c99672a8ad6" ? "workspace-no-resource-logs" : undefined);
      expect(mirrored, guid).toBe(ruleId);
    }
  });
});

for (const [guid, mirror] of Object.entries(MIRRORS)) {
  describe(`${mirror.ruleId} agrees with Azure Policy ${guid}`, () => {
    it("on every case derived from the built-in's policy rule", () => {
      const policy = fixtures.get(guid)!;
      const cases = mirror.cases(policy);
      const disagreements: string[] = [];
      const exceptions: string[] = [];
      const seen = new Set<Outcome>();
      for (const { description, resource } of cases) {
        const theirs = azure(policy, resource, mirror.parameters ? { parameters: mirror.parameters } : {});
        const ours = amlguard(mirror.ruleId, resource);
        seen.add(ours);
        const reason = mirror.exception?.(resource);
        if (reason) {
          // The deliberate difference, exactly: the built-in reports the case, amlguard does not apply to it.
          expect(ruleById(mirror.ruleId)!.evaluate(resource).status, description).toBe("not-applicable");
          if (theirs !== ours) exceptions.push(description);
          continue;
        }
        if (theirs !== ours) disagreements.push(`${description}: Azure Policy ${theirs}, amlguard ${ours}`);
      }
      expect(disagreements).toEqual([]);
      expect(cases.length).toBeGreaterThan(20);
      expect([...seen].sort()).toEqual(["non-compliant", "not non-compliant"]);
      if (mirror.exception) expect(exceptions.length, "the stated exception is exercised").toBeGreaterThan(0);
      else expect(exceptions).toEqual([]);
    });
  });
}

describe("workspace-no-resource-logs agrees with Azure Policy afe0c3be-ba3b-4544-ba52-0c99672a8ad6 (auditIfNotExists)", () => {
  const policy = fixtures.get("afe0c3be-ba3b-4544-ba52-0c99672a8ad6")!;
  const required = Number(policy.parameters.requiredRetentionDays!.defaultValue);
  const workspace = armExample("workspace-get");
  const storage = "/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/logs";
  const analytics = "/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/la";

  /** Retention values from the existence condition: "0" (forever), the required days, just below, and a short one. */
  const retentions: Array<JsonObject | undefined> = [undefined, { enabled: false, days: 0 }, { enabled: "False", days: 0 }];
  for (const days of [0, "0", required, String(required), required - 1, 30]) retentions.push({ enabled: true, days }, { enabled: "True", days });
  const enableds: JsonValue[] = [true, false, "true", "False"];

  function setting(name: string, enabled: JsonValue, retention: JsonObject | undefined, toStorage: boolean, entry: JsonObject): JsonObject {
    const log = (extra: JsonObject): JsonObject => ({ ...extra, enabled, ...(retention ? { retentionPolicy: retention } : {}) });
    return {
      id: `${workspace.id}/providers/microsoft.insights/diagnosticSettings/${name}`,
      type: "Microsoft.Insights/diagnosticSettings",
      name,
      properties: { ...(toStorage ? { storageAccountId: storage } : { workspaceId: analytics }), logs: [log(entry), log({ category: "AmlComputeJobEvent" })] },
    };
  }

  function relatedCases(): Array<{ description: string; settings: JsonObject[] }> {
    const cases: Array<{ description: string; settings: JsonObject[] }> = [
      { description: "no diagnostic settings", settings: [] },
      { description: "a setting with no logs", settings: [{ id: `${workspace.id}/providers/microsoft.insights/diagnosticSettings/m`, name: "m", properties: { workspaceId: analytics, logs: [] } }] },
      { description: "a setting with metrics only", settings: [{ id: `${workspace.id}/providers/microsoft.insights/diagnosticSettings/m`, name: "m", properties: { workspaceId: analytics, metrics: [{ category: "AllMetrics", enabled: true }] } }] },
    ];
    for (const enabled of enableds) {
      for (const retention of retentions) {
        for (const toStorage of [false, true]) {
          for (const entry of [{ categoryGroup: "allLogs" }, { category: "AmlComputeClusterEvent" }] as JsonObject[]) {
            const one = setting("s1", enabled, retention, toStorage, entry);
            cases.push({ description: `logs enabled ${JSON.stringify(enabled)}, retention ${JSON.stringify(retention ?? "absent")}, to ${toStorage ? "storage" : "Log Analytics"}, ${JSON.stringify(entry)}`, settings: [one] });
          }
        }
      }
      // A second setting that collects nothing does not hide one that does, and vice versa.
      cases.push({ description: `two settings, the first disabled, the second enabled ${JSON.stringify(enabled)}`, settings: [setting("a", false, undefined, false, { categoryGroup: "audit" }), setting("b", enabled, undefined, false, { categoryGroup: "allLogs" })] });
    }
    return cases;
  }

  it("derives its retention cases from the existence condition's literals and parameter", () => {
    const literals = literalsOf(policy, policy.policyRule.then.details!.existenceCondition!).map((l) => `${l.alias.split("/").pop()}=${JSON.stringify(l.value)}`);
    expect(literals).toEqual(expect.arrayContaining(['logs[*].retentionPolicy.days="0"', 'logs.enabled="true"', 'logs[*].retentionPolicy.enabled="true"']));
    expect(required).toBe(365);
  });

  it("on every set of diagnostic settings, for every workspace kind", () => {
    const disagreements: string[] = [];
    const seen = new Set<Outcome>();
    let count = 0;
    for (const kind of ["Default", "Hub", "Project", "FeatureStore", undefined]) {
      const resource = { ...workspace, ...(kind ? { kind } : {}) } as ArmResource;
      if (!kind) delete resource.kind;
      for (const { description, settings } of relatedCases()) {
        const theirs = azure(policy, resource, { related: settings });
        const ours = amlguard("workspace-no-resource-logs", resource, { diagnosticSettings: settings });
        seen.add(ours);
        count++;
        if (theirs !== ours) disagreements.push(`kind ${kind ?? "absent"}, ${description}: Azure Policy ${theirs}, amlguard ${ours}`);
      }
    }
    expect(disagreements).toEqual([]);
    expect(count).toBeGreaterThan(100);
    expect([...seen].sort()).toEqual(["non-compliant", "not non-compliant"]);
  });

  it("is never evaluated, so never passes, when the diagnostic settings were not read", async () => {
    const { evaluateRules } = await import("../src/rules/index.js");
    const evaluation = evaluateRules(workspace)!;
    expect(evaluation.unevaluated.map((u) => u.rule.id)).toContain("workspace-no-resource-logs");
    expect(evaluation.violations.map((v) => v.rule.id)).not.toContain("workspace-no-resource-logs");
  });
});
