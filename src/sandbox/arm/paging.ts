import { ML_PROVIDER, type JsonObject, type MlResourceKind } from "../../arm/resource.js";
import { armErrors } from "../arm-errors.js";
import type { StoredResource } from "../store.js";
import { parseIdOrRoute, type Estate } from "./estate.js";
import type { Reply } from "./json.js";

/** A list route: the kind of resource it lists (for api-version errors) and its members. */
export interface Collection {
  kind: MlResourceKind;
  items: () => StoredResource[];
}

const TOP_COLLECTION = new RegExp(
  `^/subscriptions/([^/]+)(?:/resourceGroups/([^/]+))?/providers/${ML_PROVIDER}/(workspaces|registries)$`,
  "i",
);
const CHILD_COLLECTION = /^(\/subscriptions\/.+)\/(computes|onlineEndpoints|deployments)$/i;
/** Which parent kind each child collection hangs under, and the kind it lists. */
const CHILD_KINDS: Record<string, [MlResourceKind, MlResourceKind]> = {
  computes: ["workspace", "compute"],
  onlineendpoints: ["workspace", "onlineEndpoint"],
  deployments: ["onlineEndpoint", "onlineDeployment"],
};

/**
 * The list routes: workspaces and registries by subscription or resource group, and a workspace's computes and
 * online endpoints, an endpoint's deployments. Undefined when the path is not a collection.
 */
export function matchCollection(estate: Estate, path: string): Collection | undefined {
  const top = TOP_COLLECTION.exec(path);
  if (top) {
    const [, subscriptionId, resourceGroup, typeName] = top;
    const kind: MlResourceKind = typeName!.toLowerCase() === "workspaces" ? "workspace" : "registry";
    const subscription = subscriptionId!.toLowerCase();
    estate.requireSubscription(subscriptionId!);
    if (resourceGroup && !estate.hasResourceGroup(subscription, resourceGroup)) throw armErrors.resourceGroupNotFound(resourceGroup);
    const prefix = resourceGroup
      ? `/subscriptions/${subscription}/resourcegroups/${resourceGroup.toLowerCase()}/`
      : `/subscriptions/${subscription}/`;
    const suffix = `/providers/${ML_PROVIDER.toLowerCase()}/${typeName!.toLowerCase()}`;
    return { kind, items: () => estate.store.inCollections((c) => c.startsWith(prefix) && c.endsWith(suffix) && c.split("/").length === 8) };
  }
  const child = CHILD_COLLECTION.exec(path);
  if (!child) return undefined;
  const parent = parseIdOrRoute(child[1]!);
  const childType = child[2]!.toLowerCase();
  const shape = CHILD_KINDS[childType];
  if (!shape || parent.kind !== shape[0]) return undefined;
  estate.requireScope(parent);
  estate.requireResource(parent);
  const collection = `${parent.id.toLowerCase()}/${childType}`;
  return { kind: shape[1], items: () => estate.store.inCollections((c) => c === collection) };
}

/**
 * One page of a collection, ARM's `{value, nextLink}` (azure-rest-api-specs list examples): `$skipToken` is the
 * offset, and the nextLink keeps the request's api-version. Page sizes are service-defined; small ones exercise paging.
 */
export function listPage(collection: Collection, url: URL, endpoint: string, pageSize: number): Reply {
  const all = collection.items().map((stored) => stored.resource);
  const skip = Number(url.searchParams.get("$skipToken") ?? "0");
  const start = Number.isInteger(skip) && skip >= 0 ? skip : 0;
  const value = all.slice(start, start + pageSize);
  const body: JsonObject = { value };
  if (start + pageSize < all.length) {
    const apiVersion = encodeURIComponent(url.searchParams.get("api-version")!);
    body.nextLink = `${endpoint}${url.pathname}?api-version=${apiVersion}&$skipToken=${start + pageSize}`;
  }
  return { status: 200, body, headers: {} };
}
