import { z } from "zod";
import { enumEquals, readPath, ML_RESOURCE_TYPES, type ArmResource, type JsonObject, type JsonValue, type MlResourceKind } from "../arm/resource.js";
import { GUID_PATTERN, SEVERITIES } from "../shared/types.js";

export type { Severity } from "../shared/types.js";
export { SEVERITY_ORDER } from "../shared/types.js";

/**
 * What amlguard does about a finding in remediate mode, as an intent: the concrete write is chosen per resource kind
 * by the action registry (src/remediation/), which declares its permission, plan, post-condition and undo.
 */
export const FIX_INTENTS = ["disable-public-network-access", "contain-compute", "add-traffic-log-setting"] as const;
export type FixIntent = (typeof FIX_INTENTS)[number];

/** Related resources a rule needs besides the resource itself; the pipeline fetches them before `evaluate`. */
export const RELATED_KINDS = ["diagnosticSettings"] as const;
export type RelatedKind = (typeof RELATED_KINDS)[number];

export const CATEGORIES = ["internet-exposed", "authentication", "encryption", "logging", "hygiene"] as const;
export type Category = (typeof CATEGORIES)[number];

/**
 * Microsoft cloud security benchmark v1 control ids, e.g. NS-2, IM-1, LT-3. Where a rule mirrors a built-in, the
 * control is the one Azure's own benchmark initiative files that built-in under (azure-policy
 * `built-in-policies/policySetDefinitions/Security Center/AzureSecurityCenter.json` and `MCSBv2.json`, groups
 * `Azure_Security_Benchmark_v3.0_<id>`: MCSB v1 kept the ASB v3 ids); docs/policy-builtins.md lists them.
 */
const MCSB_CONTROL = /^(NS|IM|PA|DP|AM|LT|IR|PV|ES|BR|DS|GS)-\d{1,2}$/;

/** A rule's metadata, validated at load (like a Prowler check's .metadata.json, but type-checked). */
export const ruleMetadataSchema = z
  .object({
    id: z.string().regex(/^[a-z][a-z0-9-]{2,63}$/, "rule ids are kebab-case"),
    title: z.string().min(10).max(120),
    severity: z.enum(SEVERITIES),
    appliesTo: z.array(z.enum(Object.keys(ML_RESOURCE_TYPES) as [MlResourceKind, ...MlResourceKind[]])).min(1),
    categories: z.array(z.enum(CATEGORIES)).min(1),
    rationale: z.string().min(20),
    remediation: z.object({
      /** What a person does, in prose: the next step of an alert. */
      prose: z.string().min(10),
      /** The `az` command that fixes it, with placeholders in angle brackets (create-only settings: the create). */
      az: z.string().regex(/^az [a-z]/, "remediation.az is an az command").refine((az) => /<[^>]+>/.test(az), "remediation.az names its inputs as <placeholders>"),
      /** The Bicep property that keeps it fixed in infrastructure as code (create-only settings: at create). */
      bicep: z.string().min(5),
    }),
    compliance: z.object({
      /** Names (GUIDs) of the Azure Policy built-in definitions this rule gives the same verdict as. */
      azurePolicy: z.array(z.string().regex(GUID_PATTERN, "Azure Policy built-ins are named by GUID")),
      /** Microsoft cloud security benchmark controls. */
      mcsb: z.array(z.string().regex(MCSB_CONTROL, "MCSB control ids look like NS-2")),
      /** CIS Microsoft Azure Foundations Benchmark v3.0.0 recommendation numbers, where one applies. */
      cis: z.array(z.string().regex(/^\d+(\.\d+)+$/, "CIS recommendation numbers look like 6.1.2")),
    }),
    fix: z.enum(FIX_INTENTS).optional(),
    related: z.array(z.enum(RELATED_KINDS)).optional(),
    references: z.array(z.string().min(1)),
  })
  .strict()
  .refine((rule) => rule.compliance.azurePolicy.length + rule.compliance.mcsb.length > 0, {
    message: "a rule maps to at least one Azure Policy built-in or cloud security benchmark control",
    path: ["compliance"],
  });

export type RuleMetadata = z.infer<typeof ruleMetadataSchema>;

/** What the rule observed: each property path it read, with the value it saw (null when absent). */
export interface Evidence {
  summary: string;
  observed: Record<string, JsonValue>;
}

export type Evaluation = { status: "pass" | "not-applicable" } | { status: "fail"; evidence: Evidence };

/** Related resources, fetched by the pipeline for the rules that declare them, and the settings rules may read. */
export interface RuleInputs {
  /** The resource's diagnostic settings (Microsoft.Insights), as listed; absent when not fetched. */
  diagnosticSettings?: readonly JsonObject[];
  /** The Log Analytics workspace amlguard's spike detector queries, when configured. */
  spikeWorkspaceResourceId?: string;
}

export interface Rule extends RuleMetadata {
  /** Pure: reads only the raw ARM JSON and the related resources it is given. */
  evaluate(resource: ArmResource, inputs?: RuleInputs): Evaluation;
}

/** Validates a rule's metadata when the catalogue loads: a malformed rule stops the app from starting. */
export function checkedRule(rule: Rule): Rule {
  const { evaluate, ...metadata } = rule;
  const parsed = ruleMetadataSchema.safeParse(metadata);
  if (!parsed.success) {
    throw new Error(`rule ${rule.id}: invalid metadata: ${parsed.error.issues.map((i) => `${i.path.join(".")} ${i.message}`).join("; ")}`);
  }
  return Object.freeze({ ...parsed.data, evaluate });
}

export const PASS: Evaluation = { status: "pass" };
export const NOT_APPLICABLE: Evaluation = { status: "not-applicable" };

export function fail(summary: string, observed: Record<string, JsonValue | undefined>): Evaluation {
  const withNulls = Object.fromEntries(Object.entries(observed).map(([path, value]) => [path, value ?? null]));
  return { status: "fail", evidence: { summary, observed: withNulls } };
}

/** A boolean as ARM returns it, or as a string in any casing (some exports carry "true"); Azure Policy compares both. */
export function isBooleanValue(value: JsonValue | undefined, expected: boolean): boolean {
  return value === expected || (typeof value === "string" && value.toLowerCase() === String(expected));
}

/** Absent, null, "", [] or {}: what Azure Policy's empty() (and a missing property) treat as no value. */
export function isEmptyValue(value: JsonValue | undefined): boolean {
  if (value === undefined || value === null || value === "") return true;
  if (Array.isArray(value)) return value.length === 0;
  return typeof value === "object" && Object.keys(value).length === 0;
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

export { computeType, isManagedCompute } from "../arm/compute.js";
