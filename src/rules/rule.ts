import { enumEquals, readPath, type ArmResource, type JsonValue, type MlResourceKind } from "../arm/resource.js";

export type Severity = "critical" | "high" | "medium" | "low";
export const SEVERITY_ORDER: readonly Severity[] = ["critical", "high", "medium", "low"];

/**
 * What amlguard may do about a finding. Only the first three write; each declares its ARM permission where the
 * action is implemented. "contain-compute" stops a compute instance or drains a cluster (both reversible).
 */
export type RemediationActionId =
  | "workspace-disable-public-network-access"
  | "put-disable-public-network-access"
  | "contain-compute"
  | "alert-only";

/** What the rule observed: each property path it read, with the value it saw (null when absent). */
export interface Evidence {
  summary: string;
  observed: Record<string, JsonValue>;
}

export type Evaluation = { status: "pass" | "not-applicable" } | { status: "fail"; evidence: Evidence };

export interface Rule {
  id: string;
  title: string;
  severity: Severity;
  appliesTo: readonly MlResourceKind[];
  rationale: string;
  remediation: string;
  remediationAction: RemediationActionId;
  references: readonly string[];
  /** Pure: reads only the raw ARM JSON it is given. */
  evaluate(resource: ArmResource): Evaluation;
}

export const PASS: Evaluation = { status: "pass" };
export const NOT_APPLICABLE: Evaluation = { status: "not-applicable" };

export function fail(summary: string, observed: Record<string, JsonValue | undefined>): Evaluation {
  const withNulls = Object.fromEntries(Object.entries(observed).map(([path, value]) => [path, value ?? null]));
  return { status: "fail", evidence: { summary, observed: withNulls } };
}

/** Shows a value for evidence text, naming the documented default when the property is absent. */
export function describe(value: JsonValue | undefined, defaultWhenAbsent: string): string {
  return value === undefined || value === null ? `absent (service default: ${defaultWhenAbsent})` : JSON.stringify(value);
}

/**
 * Passes when the property equals `expected` (any casing); otherwise fails with evidence naming the value, or the
 * service default when the property is absent.
 */
export function expectEnum(resource: ArmResource, path: string, expected: string, defaultWhenAbsent: string): Evaluation {
  const value = readPath(resource, path);
  if (enumEquals(value, expected)) return PASS;
  return fail(`${path.split(".").pop()} is ${describe(value, defaultWhenAbsent)}`, { [path]: value });
}

/** Computes nest their type-specific properties one level deeper: properties.properties.*. */
export function computeType(resource: ArmResource): string | undefined {
  const type = readPath(resource, "properties.computeType");
  return typeof type === "string" ? type : undefined;
}

/** The compute types amlguard manages nodes for; attached computes (AKS, Kubernetes, Databricks...) are not. */
export function isManagedCompute(resource: ArmResource, types: readonly string[] = ["AmlCompute", "ComputeInstance"]): boolean {
  const type = computeType(resource)?.toLowerCase();
  return type !== undefined && types.some((t) => t.toLowerCase() === type);
}
