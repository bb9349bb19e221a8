/**
 * Cases derived from a built-in's policy rule: every alias it reads, set absent, null, to each value it compares with
 * (in several casings; booleans also as strings), to the values its parameters allow, and to values it never names;
 * arrays it counts, empty and with members in each state; on every workspace kind or compute type (attached included).
 */
import { isJsonObject, type ArmResource, type JsonObject, type JsonValue } from "../../src/arm/resource.js";
import { ALIASES, type PolicyFixture } from "./policy.js";

/** Marks a property to delete rather than set. */
export const ABSENT = Symbol("absent");
export type CaseValue = JsonValue | typeof ABSENT;

export interface PolicyCase {
  description: string;
  resource: ArmResource;
}

export const WORKSPACE_KINDS: CaseValue[] = ["Default", "Hub", "Project", "project", "FeatureStore", ABSENT];
export const COMPUTE_TYPES: CaseValue[] = [
  "ComputeInstance", "computeinstance", "AmlCompute", "AMLCOMPUTE",
  "Kubernetes", "AKS", "Databricks", "VirtualMachine", "HDInsight", "DataFactory", "SynapseSpark", "DataLakeAnalytics", ABSENT,
];
/** Values no built-in names: what an unexpected payload could carry. */
const UNNAMED: CaseValue[] = ["Enabled", "unexpected-value", 0];

interface Literal {
  alias: string;
  value: JsonValue;
}

/** The (alias, literal) pairs of a rule's field conditions; parameters resolved to their value and allowed values. */
export function literalsOf(policy: PolicyFixture, node: JsonValue = policy.policyRule.if, parameters: Record<string, JsonValue> = {}): Literal[] {
  if (Array.isArray(node)) return node.flatMap((child) => literalsOf(policy, child, parameters));
  if (!isJsonObject(node)) return [];
  const found: Literal[] = [];
  const alias = typeof node.field === "string" ? node.field : undefined;
  for (const [key, operand] of Object.entries(node)) {
    if (["allOf", "anyOf", "not", "where"].includes(key)) found.push(...literalsOf(policy, operand, parameters));
    else if (key === "count" && isJsonObject(operand)) found.push(...literalsOf(policy, operand, parameters));
    else if (alias && key !== "field") {
      for (const value of resolve(policy, operand, parameters)) found.push({ alias, value });
    }
  }
  return found;
}

function resolve(policy: PolicyFixture, operand: JsonValue, parameters: Record<string, JsonValue>): JsonValue[] {
  const parameter = typeof operand === "string" ? /^\[parameters\('(\w+)'\)\]$/.exec(operand)?.[1] : undefined;
  if (parameter) {
    const definition = policy.parameters[parameter];
    return [parameters[parameter] ?? definition?.defaultValue ?? null, ...(definition?.allowedValues ?? [])].filter((v) => v !== null);
  }
  return Array.isArray(operand) ? operand : [operand];
}

/** Each literal in the casings Azure returns and users type; booleans as booleans and as strings. */
export function spellings(values: readonly JsonValue[]): CaseValue[] {
  const out: CaseValue[] = [ABSENT, null, ""];
  for (const value of values) {
    if (typeof value === "boolean" || value === "true" || value === "false") out.push(true, false, "true", "false", "True", "FALSE");
    else if (typeof value === "string") out.push(value, value.toLowerCase(), value.toUpperCase());
    else out.push(value);
  }
  out.push(...UNNAMED);
  return [...new Map<string, CaseValue>(out.map((v) => [v === ABSENT ? "absent" : JSON.stringify(v), v])).values()];
}

export function setPath(target: JsonObject, path: string, value: CaseValue): void {
  const keys = path.split(".");
  let current: JsonObject = target;
  for (const key of keys.slice(0, -1)) {
    if (!isJsonObject(current[key])) {
      if (value === ABSENT) return;
      current[key] = {};
    }
    current = current[key] as JsonObject;
  }
  const last = keys.at(-1)!;
  if (value === ABSENT) delete current[last];
  else current[last] = value;
}

const show = (v: CaseValue): string => (v === ABSENT ? "absent" : JSON.stringify(v));

/**
 * Cases for a resource-level built-in: the bases on every selector value (workspace kind or compute type), each with
 * one alias of the rule varied at a time; arrays the rule counts get members in each state the rule names.
 */
export function casesFrom(policy: PolicyFixture, bases: readonly ArmResource[], selector: { path: string; values: CaseValue[] }, parameters: Record<string, JsonValue> = {}): PolicyCase[] {
  const literals = literalsOf(policy, policy.policyRule.if, parameters).filter((l) => l.alias !== "type");
  const byAlias = new Map<string, JsonValue[]>();
  for (const { alias, value } of literals) byAlias.set(alias, [...(byAlias.get(alias) ?? []), value]);
  const cases: PolicyCase[] = [];
  for (const base of bases) {
    for (const selected of selector.values) {
      const onSelector = structuredClone(base);
      setPath(onSelector, selector.path, selected);
      const where = `${base.name ?? base.id.split("/").pop()} with ${selector.path} ${show(selected)}`;
      cases.push({ description: where, resource: onSelector });
      for (const [alias, values] of byAlias) {
        const path = ALIASES[alias]!;
        if (path === selector.path) continue;
        if (path.includes("[*]")) cases.push(...arrayCases(onSelector, path, values, where));
        else for (const value of spellings(values)) cases.push(one(onSelector, path, value, where));
      }
    }
  }
  return cases;
}

function one(base: ArmResource, path: string, value: CaseValue, where: string): PolicyCase {
  const resource = structuredClone(base);
  setPath(resource, path, value);
  return { description: `${where}, ${path} ${show(value)}`, resource };
}

/** "properties.a[*].b.c" with literals: the array absent, empty, and with members whose b.c takes each spelling. */
function arrayCases(base: ArmResource, path: string, values: JsonValue[], where: string): PolicyCase[] {
  const [arrayPath, memberPath] = path.split("[*]") as [string, string];
  const member = memberPath.replace(/^\./, "");
  if (!member) return [one(base, arrayPath, ABSENT, where), one(base, arrayPath, [], where)];
  const states = spellings([...values, "Pending", "Rejected", "Disconnected"]);
  const element = (state: CaseValue): JsonObject => {
    const e: JsonObject = { id: `${base.id}/privateEndpointConnections/pe`, properties: {} };
    setPath(e, member, state);
    return e;
  };
  const arrays: JsonValue[][] = [[], ...states.map((s) => [element(s)]), [element("Pending"), element(values[0] ?? "Approved")], [element("Rejected"), element("Disconnected")]];
  return [one(base, arrayPath, ABSENT, where), ...arrays.map((array) => one(base, arrayPath, array, where))];
}
