import { isJsonObject, kindOfType, type ArmResource, type JsonObject, type JsonValue } from "../arm/resource.js";
import { ArmSandboxError } from "./arm-errors.js";
import type { ResourceStore } from "./store.js";

const API_VERSIONS = ["2021-03-01", "2022-10-01", "2024-04-01"];
const MAX_TOP = 1000;

/**
 * Azure Resource Graph's `POST /providers/Microsoft.ResourceGraph/resources` (api-version 2024-04-01, what
 * @azure/arm-resourcegraph 5 sends): `{subscriptions, managementGroups, query, options: {$top, $skipToken}}` →
 * `{totalRecords, count, resultTruncated, $skipToken, data}` with rows in object-array format (type lowercased, as
 * Resource Graph returns it). Only the query shape amlguard sends is understood:
 * `resources | where type in~ ('…', …) | project … | order by id asc`; anything else is ARG's InvalidQuery.
 *
 * Whether real Resource Graph indexes `microsoft.machinelearningservices/workspaces/computes` is uncertain: the
 * `resources` table reference (https://learn.microsoft.com/azure/governance/resource-graph/reference/supported-tables-resources)
 * lists ML workspaces, registries, online endpoints and deployments, not computes. `indexComputes: false` serves an
 * estate whose compute rows never appear, so the scan's cross-check against ARM (src/scan.ts) is tested both ways.
 */
export class ResourceGraphEmulator {
  // Pages of one query are served from one sorted snapshot while the store is unchanged.
  private cached?: { key: string; version: number; rows: ArmResource[] };

  constructor(
    private readonly store: ResourceStore,
    private readonly subscriptions: () => ReadonlySet<string>,
    private readonly options: { indexComputes: boolean } = { indexComputes: true },
  ) {}

  query(method: string, apiVersion: string, body: JsonValue | undefined): { status: number; body: JsonObject; headers: Record<string, string> } {
    if (method !== "POST") throw new ArmSandboxError(405, "MethodNotAllowed", `The requested resource does not support http method '${method}'.`);
    if (!API_VERSIONS.includes(apiVersion)) throw new ArmSandboxError(400, "NoRegisteredProviderFound", `No registered resource provider found for API version '${apiVersion}' for type 'resources'.`);
    if (!isJsonObject(body) || typeof body.query !== "string") throw invalidQuery("The request body must contain a query.");
    const types = parseTypes(body.query);
    const subscriptions = Array.isArray(body.subscriptions) ? body.subscriptions.filter((s): s is string => typeof s === "string").map((s) => s.toLowerCase()) : [];
    const managementGroups = Array.isArray(body.managementGroups) ? body.managementGroups : [];
    // A management group here spans every subscription of the sandbox.
    const scope = managementGroups.length > 0 ? this.subscriptions() : new Set(subscriptions);
    if (scope.size === 0) throw invalidQuery("Either subscriptions or managementGroups must be specified.");
    const options = isJsonObject(body.options) ? body.options : {};
    const top = Math.min(MAX_TOP, typeof options.$top === "number" && options.$top > 0 ? options.$top : 100);
    const skip = typeof options.$skipToken === "string" ? decodeSkipToken(options.$skipToken) : 0;
    const rows = this.matching(types, scope);
    const page = rows.slice(skip, skip + top).map(toRow);
    const response: JsonObject = { totalRecords: rows.length, count: page.length, resultTruncated: "false", data: page, facets: [] };
    if (skip + top < rows.length) response.$skipToken = Buffer.from(JSON.stringify({ offset: skip + top })).toString("base64");
    return { status: 200, body: response, headers: { "x-ms-user-quota-remaining": "14", "x-ms-user-quota-resets-after": "00:00:05" } };
  }

  /** Resources of the types in the scope, ordered by id (the store's keys are lower-cased ids). */
  private matching(types: ReadonlySet<string>, scope: ReadonlySet<string>): ArmResource[] {
    const key = JSON.stringify([[...types].sort(), [...scope].sort()]);
    if (this.cached?.key === key && this.cached.version === this.store.version) return this.cached.rows;
    const rows = [...this.store.entries()]
      .filter(([id, stored]) => types.has(stored.resource.type.toLowerCase()) && scope.has(id.split("/")[2]!) && this.indexed(stored.resource))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, stored]) => stored.resource);
    this.cached = { key, version: this.store.version, rows };
    return rows;
  }

  private indexed(resource: ArmResource): boolean {
    return this.options.indexComputes || kindOfType(resource.type) !== "compute";
  }
}

function parseTypes(query: string): Set<string> {
  const match = /^\s*resources\s*\|\s*where\s+type\s+in~\s*\(([^)]*)\)\s*((?:\|\s*(?:project\s+[\w\s,]+|order\s+by\s+id\s+asc)\s*)*)$/i.exec(query);
  if (!match) throw invalidQuery("Query is invalid. Please refer to the documentation for the Azure Resource Graph service and fix the error before retrying.");
  const types = match[1]!.split(",").map((t) => t.trim().replace(/^'|'$/g, "").toLowerCase()).filter(Boolean);
  if (types.some((t) => !kindOfType(t))) throw invalidQuery("The sandbox serves Microsoft.MachineLearningServices types only.");
  return new Set(types);
}

function decodeSkipToken(token: string): number {
  try {
    const offset = (JSON.parse(Buffer.from(token, "base64").toString("utf8")) as { offset?: unknown }).offset;
    if (typeof offset === "number" && Number.isInteger(offset) && offset >= 0) return offset;
  } catch {
    // fall through
  }
  throw invalidQuery("The $skipToken is invalid.");
}

/** Resource Graph's row: ARM's fields plus subscriptionId and resourceGroup, type in lower case. */
function toRow(resource: ArmResource): JsonObject {
  const segments = resource.id.split("/");
  return {
    id: resource.id,
    name: resource.name ?? segments[segments.length - 1]!,
    type: resource.type.toLowerCase(),
    tenantId: "72f988bf-0000-4000-8000-00000000cafe",
    kind: resource.kind ?? "",
    location: resource.location ?? "",
    resourceGroup: segments[4]!.toLowerCase(),
    subscriptionId: segments[2]!,
    managedBy: "",
    sku: resource.sku ?? null,
    plan: null,
    properties: resource.properties ?? {},
    tags: resource.tags ?? {},
    identity: resource.identity ?? null,
    zones: null,
    extendedLocation: null,
  };
}

// Resource Graph wraps query errors in BadRequest with the specific cause in details.
function invalidQuery(message: string): ArmSandboxError {
  const error = new ArmSandboxError(400, "BadRequest", "Please provide below info when asking for support: timestamp, correlationId.");
  error.details = [{ code: "InvalidQuery", message }];
  return error;
}
