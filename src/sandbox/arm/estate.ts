import { randomBytes } from "node:crypto";
import { ResourceIdError, parseMlResourceId, type MlResourceId } from "../../arm/ids.js";
import { ML_RESOURCE_TYPES } from "../../arm/resource.js";
import { armErrors } from "../arm-errors.js";
import { ResourceStore, type StoredResource } from "../store.js";

/**
 * What the sandbox holds: its subscriptions, resource groups and resources, and ARM's answers when a request names
 * something that is not there (SubscriptionNotFound, ResourceGroupNotFound, ParentResourceNotFound, ResourceNotFound,
 * in ARM's own wording: docs/sandbox.md "Not found").
 */
export class Estate {
  readonly store = new ResourceStore();
  readonly subscriptions = new Set<string>();
  private readonly resourceGroups = new Set<string>();

  addResourceGroup(subscriptionId: string, name: string): void {
    this.subscriptions.add(subscriptionId.toLowerCase());
    this.resourceGroups.add(`${subscriptionId}/${name}`.toLowerCase());
  }

  hasResourceGroup(subscriptionId: string, name: string): boolean {
    return this.resourceGroups.has(`${subscriptionId}/${name}`.toLowerCase());
  }

  requireSubscription(subscriptionId: string): void {
    if (!this.subscriptions.has(subscriptionId.toLowerCase())) throw armErrors.subscriptionNotFound(subscriptionId);
  }

  /** The subscription, the resource group and the parent resource must exist before a resource can be addressed. */
  requireScope(id: MlResourceId): void {
    if (!this.subscriptions.has(id.subscriptionId)) throw armErrors.subscriptionNotFound(id.subscriptionId);
    if (!this.hasResourceGroup(id.subscriptionId, id.resourceGroup)) throw armErrors.resourceGroupNotFound(id.resourceGroup);
    const parent = parentIdOf(id.id);
    if (parent && !this.store.has(parent.toLowerCase())) {
      throw armErrors.parentNotFound("read", ML_RESOURCE_TYPES[id.kind].split("/").slice(1).join("/"), parent);
    }
  }

  requireResource(id: MlResourceId): StoredResource {
    const stored = this.store.get(id.id.toLowerCase());
    if (!stored) {
      const type = ML_RESOURCE_TYPES[id.kind];
      throw armErrors.resourceNotFound(type, [id.parentName, ...id.childNames].join("/"), id.resourceGroup);
    }
    return stored;
  }
}

/** A path that is not a supported ML resource id has no route: ARM's InvalidResourceType. */
export function parseIdOrRoute(path: string): MlResourceId {
  try {
    return parseMlResourceId(path);
  } catch (error) {
    if (error instanceof ResourceIdError) throw armErrors.noRoute(path);
    throw error;
  }
}

export function newEtag(): string {
  return `"${randomBytes(8).toString("hex")}"`;
}

export function normalizeLocation(location: string): string {
  return location.replace(/\s+/g, "").toLowerCase();
}

function parentIdOf(id: string): string | undefined {
  const segments = id.split("/");
  // /subscriptions/s/resourceGroups/g/providers/P/type/name = 9 segments; children add pairs.
  return segments.length > 9 ? segments.slice(0, -2).join("/") : undefined;
}
