import { kindOfType, type ArmResource, type JsonValue, type MlResourceKind } from "../arm/resource.js";
import { describeError } from "../errors.js";
import { planFix } from "../remediation/index.js";
import { RULES, ruleById, type Finding } from "../rules/index.js";
import type { Rule } from "../rules/rule.js";
import type { ScanResult } from "../scan.js";
import { SEVERITIES, SEVERITY_ORDER, type Severity } from "../shared/types.js";

/** What was scanned: the scope as the operator gave it. */
export interface ReportScope {
  via: "graph" | "arm";
  subscriptions: readonly string[];
  managementGroup?: string;
  resourceGroup?: string;
}

/** What amlguard's automatic action would be for a finding (mode `remediate`), and how a person reverses it. */
export type ReportAction =
  | { kind: "plan"; description: string; undo: string; containsOnly: boolean; contains?: string }
  | { kind: "none"; detail: string };

export interface ReportFinding extends Finding {
  subscriptionId: string;
  /** The workspace a child resource lives in (or the workspace itself); absent for registries. */
  workspaceId?: string;
  remediation: Rule["remediation"];
  action: ReportAction;
  tags: Record<string, string>;
}

/** One line of "what was not checked": a rule, a resource kind or a part of the scope, and why. */
export interface NotChecked {
  what: string;
  why: string;
}

export interface RuleCoverage {
  rule: Pick<Rule, "id" | "title" | "severity" | "appliesTo" | "compliance">;
  /** Resources of the kinds the rule applies to that the scan read. */
  inScope: number;
  evaluated: boolean;
  findings: number;
}

export interface PostureReport {
  generatedAt: string;
  scope: ReportScope;
  resourceCounts: Record<MlResourceKind, number>;
  checked: number;
  computeSource: ScanResult["computeSource"];
  errors: ScanResult["errors"];
  findings: ReportFinding[];
  bySeverity: Record<Severity, number>;
  byRule: Array<{ key: string; severity: Severity; count: number; resources: number }>;
  bySubscription: Array<{ key: string; count: number; resources: number }>;
  byWorkspace: Array<{ key: string; count: number; resources: number }>;
  coverage: RuleCoverage[];
  notChecked: NotChecked[];
  /** The verdict in one sentence: never "all clear" when nothing, or not everything, was read. */
  verdict: { kind: "findings" | "compliant" | "nothing-checked" | "incomplete"; text: string };
}

const KIND_NAMES: Record<MlResourceKind, string> = {
  workspace: "workspaces",
  compute: "computes",
  onlineEndpoint: "online endpoints",
  onlineDeployment: "online deployments",
  registry: "registries",
};

/** Why `scan` cannot evaluate a rule that needs related resources (it reads each resource's own JSON only). */
const RELATED_WHY: Record<string, string> = {
  diagnosticSettings: "needs each resource's diagnostic settings, which scan does not read (the daily sweep and amlguard remediate do)",
};

/** The workspace a resource belongs to: the first nine segments of a workspace child's id. */
export function workspaceOf(resourceId: string): string | undefined {
  const segments = resourceId.split("/");
  return segments[7]?.toLowerCase() === "workspaces" && segments[8] ? segments.slice(0, 9).join("/") : undefined;
}

function tagsOf(resource: ArmResource | undefined): Record<string, string> {
  const tags = (resource as { tags?: Record<string, JsonValue> } | undefined)?.tags;
  if (!tags || typeof tags !== "object") return {};
  return Object.fromEntries(Object.entries(tags).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]));
}

/** The plan amlguard's registered action would make for this finding (pure: nothing is written). */
function actionFor(rule: Rule | undefined, resource: ArmResource | undefined): ReportAction {
  if (!rule?.fix) return { kind: "none", detail: "alert only: amlguard has no automatic action for this rule; a person acts" };
  const kind = resource ? kindOfType(resource.type) : undefined;
  if (!resource || !kind) return { kind: "none", detail: "the resource was not kept by the scan" };
  try {
    const planned = planFix(rule.fix, kind, { resource }, {});
    if (planned.kind === "plan") {
      const { action } = planned.plan;
      return { kind: "plan", description: action.description, undo: planned.plan.undo, containsOnly: action.containsOnly, ...(action.contains ? { contains: action.contains } : {}) };
    }
    if (planned.kind === "no-automatic-action") return { kind: "none", detail: "no automatic action fits this resource; a person acts" };
    return { kind: "none", detail: planned.detail };
  } catch (error) {
    return { kind: "none", detail: `no plan could be made: ${describeError(error)}` };
  }
}

function grouped(findings: readonly ReportFinding[], keyOf: (f: ReportFinding) => string | undefined): Array<{ key: string; count: number; resources: number }> {
  const groups = new Map<string, { count: number; resources: Set<string> }>();
  for (const finding of findings) {
    const key = keyOf(finding);
    if (key === undefined) continue;
    const group = groups.get(key) ?? { count: 0, resources: new Set<string>() };
    group.count += 1;
    group.resources.add(finding.resourceId.toLowerCase());
    groups.set(key, group);
  }
  return [...groups].map(([key, g]) => ({ key, count: g.count, resources: g.resources.size })).sort((a, b) => b.count - a.count || a.key.localeCompare(b.key));
}

/** Builds the posture report's content from a scan: counts, groupings, coverage and what was not checked. */
export function buildReport(result: Pick<ScanResult, "findings" | "resourceCounts" | "violating" | "errors" | "computeSource">, scope: ReportScope, generatedAt: Date): PostureReport {
  const resources = new Map(result.violating.map((r) => [r.id.toLowerCase(), r]));
  const findings: ReportFinding[] = [...result.findings]
    
    .sort((a, b) => SEVERITY_ORDER.indexOf(a.severity) - SEVERITY_ORDER.indexOf(b.severity) || a.ruleId.localeCompare(b.ruleId) || a.resourceId.localeCompare(b.resourceId))
    .map((finding) => {
      const rule = ruleById(finding.ruleId);
      const resource = resources.get(finding.resourceId.toLowerCase());
      const workspaceId = workspaceOf(finding.resourceId);
      return {
        ...finding,
        subscriptionId: finding.resourceId.split("/")[2]?.toLowerCase() ?? "",
        ...(workspaceId ? { workspaceId } : {}),
        remediation: rule?.remediation ?? { prose: "", az: "", bicep: "" },
        action: actionFor(rule, resource),
        tags: tagsOf(resource),
      };
    });
  const checked = Object.values(result.resourceCounts).reduce((a, b) => a + b, 0);
  const bySeverity = Object.fromEntries(SEVERITIES.map((s) => [s, findings.filter((f) => f.severity === s).length])) as Record<Severity, number>;
  // Most severe first, then the most findings: where to look first.
  const byRule = grouped(findings, (f) => f.ruleId)
    .map((g) => ({ ...g, severity: ruleById(g.key)?.severity ?? ("low" as Severity) }))
    .sort((a, b) => SEVERITY_ORDER.indexOf(a.severity) - SEVERITY_ORDER.indexOf(b.severity) || b.count - a.count || a.key.localeCompare(b.key));
  const coverage: RuleCoverage[] = RULES.map((rule) => ({
    rule: { id: rule.id, title: rule.title, severity: rule.severity, appliesTo: rule.appliesTo, compliance: rule.compliance },
    inScope: rule.appliesTo.reduce((n, kind) => n + result.resourceCounts[kind], 0),
    evaluated: !(rule.related?.length ?? 0),
    findings: findings.filter((f) => f.ruleId === rule.id).length,
  }));
  const notChecked: NotChecked[] = [
    ...result.errors.map((e) => ({ what: e.scope, why: `could not be read: ${e.message}` })),
    ...RULES.filter((rule) => rule.related?.length).map((rule) => ({ what: `rule ${rule.id}`, why: `not evaluated: ${rule.related!.map((r) => RELATED_WHY[r] ?? `needs ${r}`).join("; ")}` })),
    ...(Object.keys(KIND_NAMES) as MlResourceKind[])
      .filter((kind) => result.resourceCounts[kind] === 0)
      .map((kind) => ({ what: KIND_NAMES[kind], why: `none found in scope, so the rules for them checked nothing` })),
    ...(result.computeSource.via !== "arm" && result.computeSource.reason.startsWith("not") ? [{ what: "computes", why: result.computeSource.reason }] : []),
  ];
  return {
    generatedAt: generatedAt.toISOString(),
    scope,
    resourceCounts: result.resourceCounts,
    checked,
    computeSource: result.computeSource,
    errors: result.errors,
    findings,
    bySeverity,
    byRule,
    bySubscription: grouped(findings, (f) => f.subscriptionId),
    byWorkspace: grouped(findings, (f) => f.workspaceId),
    coverage,
    notChecked,
    verdict: verdictOf(checked, result.errors.length, findings.length),
  };
}

const count = (n: number, noun: string): string => `${n} ${noun}${n === 1 ? "" : "s"}`;

function verdictOf(checked: number, errors: number, findings: number): PostureReport["verdict"] {
  if (checked === 0 && errors === 0) return { kind: "nothing-checked", text: "Nothing was checked: no Machine Learning resources in scope. This is not an all-clear." };
  if (errors > 0) return { kind: "incomplete", text: `Incomplete: ${count(errors, "part")} of the scope could not be read. What is below is only what was read; this is not an all-clear.` };
  if (findings > 0) return { kind: "findings", text: `${count(findings, "finding")} on ${count(checked, "resource")} checked.` };
  return { kind: "compliant", text: `No findings on the ${checked} resources checked, for the rules evaluated (see "Not checked").` };
}

export { KIND_NAMES };
