/**
 * A small evaluator of the Azure Policy rule language, just the subset the Machine Learning built-ins amlguard mirrors
 * use (test/fixtures/policy/): allOf/anyOf/not; field conditions equals/notEquals/in/notIn/exists/less/greater(OrEquals);
 * count with where (and current()); value with the template functions field, current, parameters, empty, padLeft;
 * auditIfNotExists existence conditions over related resources (diagnostic settings).
 *
 * Semantics, after https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-policy-rule:
 * - string comparisons are case-insensitive; booleans and numbers compare as their string forms ("false" equals false);
 * - a field that does not exist (absent or null) fails equals/in and satisfies notEquals/notIn;
 * - count over a missing array is 0.
 * Aliases are not ARM paths: ALIASES maps each one the fixtures use to the real ARM JSON path (docs/policy-builtins.md
 * explains the nesting). An alias not listed throws, so a new built-in cannot be evaluated by guesswork.
 */
import { isJsonObject, type JsonObject, type JsonValue } from "../../src/arm/resource.js";

const MLS = "Microsoft.MachineLearningServices";

export const ALIASES: Readonly<Record<string, string>> = {
  type: "type",
  kind: "kind",
  [`${MLS}/workspaces/publicNetworkAccess`]: "properties.publicNetworkAccess",
  [`${MLS}/workspaces/primaryUserAssignedIdentity`]: "properties.primaryUserAssignedIdentity",
  [`${MLS}/workspaces/encryption.status`]: "properties.encryption.status",
  [`${MLS}/workspaces/managedNetwork.isolationMode`]: "properties.managedNetwork.isolationMode",
  [`${MLS}/workspaces/privateEndpointConnections[*]`]: "properties.privateEndpointConnections[*]",
  // Each connection is a sub-resource: its state sits under the connection's own `properties`.
  [`${MLS}/workspaces/privateEndpointConnections[*].privateLinkServiceConnectionState.status`]:
    "properties.privateEndpointConnections[*].properties.privateLinkServiceConnectionState.status",
  // Computes: computeType and disableLocalAuth are on the Compute base type; the rest is type-specific, one level deeper.
  [`${MLS}/workspaces/computes/computeType`]: "properties.computeType",
  [`${MLS}/workspaces/computes/disableLocalAuth`]: "properties.disableLocalAuth",
  [`${MLS}/workspaces/computes/subnet.id`]: "properties.properties.subnet.id",
  [`${MLS}/workspaces/computes/idleTimeBeforeShutdown`]: "properties.properties.idleTimeBeforeShutdown",
  [`${MLS}/workspaces/computes/osImageMetadata.isLatestOsImageVersion`]: "properties.properties.osImageMetadata.isLatestOsImageVersion",
  "Microsoft.Insights/diagnosticSettings/logs[*]": "properties.logs[*]",
  "Microsoft.Insights/diagnosticSettings/logs[*].retentionPolicy.enabled": "properties.logs[*].retentionPolicy.enabled",
  "Microsoft.Insights/diagnosticSettings/logs[*].retentionPolicy.days": "properties.logs[*].retentionPolicy.days",
  // The legacy alias without [*], used inside the count over logs[*]: read as the current log entry's `enabled`.
  // (Its meaning on a whole array is not documented; the generated cases keep `enabled` uniform within a setting, so
  // the reading "every entry" would give the same verdicts.)
  "Microsoft.Insights/diagnosticSettings/logs.enabled": "properties.logs[*].enabled",
  "Microsoft.Insights/diagnosticSettings/storageAccountId": "properties.storageAccountId",
};

export interface PolicyFixture {
  name: string;
  displayName: string;
  version: string;
  mode: string;
  parameters: Record<string, { type: string; defaultValue?: JsonValue; allowedValues?: JsonValue[] }>;
  policyRule: { if: JsonObject; then: { effect: string; details?: { type: string; existenceCondition?: JsonObject } } };
}

export type PolicyVerdict = "non-compliant" | "compliant" | "not-applicable";

interface Scope {
  resource: JsonObject;
  parameters: Record<string, JsonValue>;
  /** Inside a count's where: the counted array (ARM path ending in [*]) and its current element. */
  current?: { arrayPath: string; element: JsonValue };
}

/**
 * The built-in's verdict on a resource. `parameters` override the definition's defaults (as an assignment does);
 * `related` are the resources an auditIfNotExists rule looks for (its details.type), e.g. diagnostic settings.
 */
export function policyVerdict(
  policy: PolicyFixture,
  resource: JsonObject,
  options: { parameters?: Record<string, JsonValue>; related?: readonly JsonObject[] } = {},
): PolicyVerdict {
  const parameters: Record<string, JsonValue> = {};
  for (const [name, definition] of Object.entries(policy.parameters)) {
    if (definition.defaultValue !== undefined) parameters[name] = definition.defaultValue;
  }
  Object.assign(parameters, options.parameters);
  if (!condition(policy.policyRule.if, { resource, parameters })) return "not-applicable";
  const details = policy.policyRule.then.details;
  if (details?.existenceCondition) {
    if (options.related === undefined) throw new Error(`${policy.name} needs the related ${details.type} resources`);
    const exists = options.related.some((related) => condition(details.existenceCondition!, { resource: related, parameters }));
    return exists ? "compliant" : "non-compliant";
  }
  return "non-compliant";
}

function condition(node: JsonObject, scope: Scope): boolean {
  if (Array.isArray(node.allOf)) return node.allOf.every((child) => condition(asObject(child), scope));
  if (Array.isArray(node.anyOf)) return node.anyOf.some((child) => condition(asObject(child), scope));
  if (node.not !== undefined) return !condition(asObject(node.not), scope);
  let left: JsonValue | undefined;
  if (typeof node.field === "string") left = field(node.field, scope);
  else if (node.value !== undefined) left = expression(node.value, scope);
  else if (isJsonObject(node.count)) left = count(node.count, scope);
  else throw new Error(`unsupported policy condition: ${JSON.stringify(node).slice(0, 120)}`);
  return compare(node, left, scope);
}

function compare(node: JsonObject, left: JsonValue | undefined, scope: Scope): boolean {
  const operators = Object.keys(node).filter((key) => !["field", "value", "count"].includes(key));
  if (operators.length !== 1) throw new Error(`one operator per condition, got ${operators.join(", ")}`);
  const operator = operators[0]!;
  const right = expression(node[operator]!, scope);
  switch (operator) {
    case "equals":
      return equalsLoosely(left, right);
    case "notEquals":
      return !equalsLoosely(left, right);
    case "in":
      return asArray(right).some((item) => equalsLoosely(left, item));
    case "notIn":
      return !asArray(right).some((item) => equalsLoosely(left, item));
    case "exists":
      return (left !== undefined) === equalsLoosely(right, true);
    case "less":
      return order(left, right) < 0;
    case "lessOrEquals":
      return order(left, right) <= 0;
    case "greater":
      return order(left, right) > 0;
    case "greaterOrEquals":
      return order(left, right) >= 0;
    default:
      throw new Error(`unsupported policy operator: ${operator}`);
  }
}

/** Reads an alias: undefined when the property is absent or null (Azure Policy treats both as not existing). */
function field(alias: string, scope: Scope): JsonValue | undefined {
  const path = ALIASES[alias];
  if (path === undefined) throw new Error(`alias not mapped to an ARM path: ${alias}`);
  if (scope.current && path.startsWith(scope.current.arrayPath)) {
    const rest = path.slice(scope.current.arrayPath.length).replace(/^\./, "");
    return read(scope.current.element, rest);
  }
  if (path.includes("[*]")) throw new Error(`[*] alias outside a count is not supported: ${alias}`);
  return read(scope.resource, path);
}

function read(value: JsonValue | undefined, path: string): JsonValue | undefined {
  let current = value;
  for (const key of path ? path.split(".") : []) current = isJsonObject(current) ? current[key] : undefined;
  return current === null ? undefined : current;
}

function count(node: JsonObject, scope: Scope): number {
  const alias = String(node.field);
  const path = ALIASES[alias];
  if (!path?.endsWith("[*]")) throw new Error(`count needs a [*] alias: ${alias}`);
  const array = read(scope.resource, path.slice(0, -3));
  if (!Array.isArray(array)) return 0;
  const where = node.where;
  return array.filter((element) => (isJsonObject(where) ? condition(where, { ...scope, current: { arrayPath: path, element } }) : true)).length;
}

/** A literal, or a template expression "[fn(...)]" with the functions the fixtures use. */
function expression(value: JsonValue, scope: Scope): JsonValue | undefined {
  if (typeof value !== "string" || !value.startsWith("[") || value.startsWith("[[") || !value.endsWith("]")) return value;
  const parser = { text: value.slice(1, -1), at: 0 };
  const result = call(parser, scope);
  if (parser.at !== parser.text.length) throw new Error(`cannot parse policy expression ${value}`);
  return result;
}

function call(p: { text: string; at: number }, scope: Scope): JsonValue | undefined {
  const skip = (): void => {
    while (p.text[p.at] === " ") p.at++;
  };
  skip();
  if (p.text[p.at] === "'") {
    const end = p.text.indexOf("'", p.at + 1);
    const literal = p.text.slice(p.at + 1, end);
    p.at = end + 1;
    return literal;
  }
  const number = /^-?\d+/.exec(p.text.slice(p.at));
  if (number) {
    p.at += number[0].length;
    return Number(number[0]);
  }
  const name = /^[A-Za-z]+/.exec(p.text.slice(p.at))?.[0];
  if (!name || p.text[p.at + name.length] !== "(") throw new Error(`cannot parse policy expression at: ${p.text.slice(p.at)}`);
  p.at += name.length + 1;
  const args: Array<JsonValue | undefined> = [];
  skip();
  while (p.text[p.at] !== ")") {
    args.push(call(p, scope));
    skip();
    if (p.text[p.at] === ",") p.at++;
  }
  p.at++;
  return templateFunction(name, args, scope);
}

function templateFunction(name: string, args: Array<JsonValue | undefined>, scope: Scope): JsonValue | undefined {
  switch (name) {
    case "field":
    case "current":
      return field(String(args[0]), scope);
    case "parameters":
      return scope.parameters[String(args[0])];
    case "empty": {
      const v = args[0];
      return v === undefined || v === "" || (Array.isArray(v) && v.length === 0) || (isJsonObject(v) && Object.keys(v).length === 0);
    }
    case "padLeft":
      return String(args[0] ?? "").padStart(Number(args[1]), String(args[2] ?? " "));
    default:
      throw new Error(`unsupported template function: ${name}`);
  }
}

function comparable(value: JsonValue | undefined): string | undefined {
  if (value === undefined) return undefined;
  return (typeof value === "string" ? value : typeof value === "object" ? JSON.stringify(value) : String(value)).toLowerCase();
}

function equalsLoosely(left: JsonValue | undefined, right: JsonValue | undefined): boolean {
  return left !== undefined && comparable(left) === comparable(right);
}

function order(left: JsonValue | undefined, right: JsonValue | undefined): number {
  if (typeof left === "number" && typeof right === "number") return left - right;
  const a = comparable(left) ?? "";
  const b = comparable(right) ?? "";
  return a < b ? -1 : a > b ? 1 : 0;
}

function asObject(value: JsonValue): JsonObject {
  if (!isJsonObject(value)) throw new Error("policy operands must be objects");
  return value;
}

function asArray(value: JsonValue | undefined): JsonValue[] {
  if (!Array.isArray(value)) throw new Error("in/notIn take an array");
  return value;
}
