import type { MlResourceId } from "../../arm/ids.js";
import { ML_RESOURCE_TYPES, isJsonObject, readPath, type ArmResource, type JsonObject, type JsonValue } from "../../arm/resource.js";
import { armErrors, ArmSandboxError } from "../arm-errors.js";
import { TYPE_BEHAVIOUR } from "../arm-types.js";
import type { ResourceEventType, SandboxPrincipal } from "../events.js";
import { newEtag, normalizeLocation, type Estate } from "./estate.js";
import { deletePath, mergePatch, setPath, type Reply } from "./json.js";
import { LRO_SHAPES, type LroEngine, type LroShape } from "./lro.js";
import { settleNodeCount } from "./nodes.js";

/** What the resource handlers work on: the estate, the LRO engine, and the event publisher. */
export interface ArmContext {
  estate: Estate;
  lro: LroEngine;
  emit(operation: CompletedWrite): void;
}

/** A completed write or action, as the subscription's system topic publishes it. */
export interface CompletedWrite {
  eventType: ResourceEventType;
  resourceUri: string;
  operationName: string;
  request: WriteRequest;
  method: string;
  /** Microsoft.MachineLearningServices unless said (the Tags API is Microsoft.Resources). */
  resourceProvider?: string;
}

/** A write request after routing: who asks, under which correlation id, and whether an injected fault makes it fail. */
export interface WriteRequest {
  caller: SandboxPrincipal;
  lroFailure: boolean;
  /** The operation's correlation id (the caller's x-ms-correlation-request-id when sent; server.ts). */
  correlationId: string;
}

/** The request's conditional headers. */
export interface Conditions {
  ifMatch?: string;
  ifNoneMatch?: string;
}

/**
 * ARM's optimistic concurrency (ARM RPC, "ETags for resources"; RFC 9110 §13.1): If-Match with the ETag last read,
 * or `*` for "any existing resource"; If-None-Match `*` for "create only", or an ETag the resource must not have. A
 * failed condition is 412 PreconditionFailed and changes nothing. Used by PUT and PATCH alike.
 */
export function requireConditions(existingEtag: string | undefined, { ifMatch, ifNoneMatch }: Conditions): void {
  if (ifMatch !== undefined && (ifMatch === "*" ? !existingEtag : ifMatch !== existingEtag)) throw armErrors.preconditionFailed();
  if (ifNoneMatch !== undefined && existingEtag && (ifNoneMatch === "*" || ifNoneMatch === existingEtag)) throw armErrors.preconditionFailed();
}

export function getResource(ctx: ArmContext, id: MlResourceId): Reply {
  const stored = ctx.estate.requireResource(id);
  return { status: 200, body: stored.resource, headers: { ETag: stored.etag } };
}

/**
 * PUT: full replacement (docs/arm-spec-notes.md §3–6). If-Match is ARM's optimistic concurrency; a tracked resource
 * needs a location and may not move (InvalidResourceLocation); create-only properties may not change.
 */
export function putResource(ctx: ArmContext, id: MlResourceId, body: JsonValue | undefined, request: WriteRequest, conditions: Conditions = {}): Reply {
  if (!isJsonObject(body)) throw armErrors.invalidJson();
  const key = id.id.toLowerCase();
  const existing = ctx.estate.store.get(key);
  requireConditions(existing?.etag, conditions);
  if (typeof body.location !== "string" && id.kind !== "compute") {
    throw new ArmSandboxError(400, "LocationRequired", "The location property is required for this definition.");
  }
  if (existing) {
    const existingLocation = existing.resource.location;
    if (typeof body.location === "string" && typeof existingLocation === "string" && normalizeLocation(body.location) !== normalizeLocation(existingLocation)) {
      throw armErrors.invalidLocation(id.id.split("/").pop()!, existingLocation, id.resourceGroup, body.location);
    }
    for (const path of TYPE_BEHAVIOUR[id.kind].createOnly) {
      const before = readPath(existing.resource, path);
      const after = readPath(body, path);
      if (after !== undefined && JSON.stringify(after) !== JSON.stringify(before)) {
        throw armErrors.userError(`The property '${path}' cannot be changed after the resource is created.`, "PropertyCannotBeUpdated");
      }
    }
  }
  const next = materialize(id, structuredClone(body), existing?.resource, request.caller.objectId);
  const shape = LRO_SHAPES[id.kind][existing ? "update" : "create"];
  return write(ctx, id, "PUT", request, next, shape, existing ? "Updating" : "Creating");
}

/**
 * PATCH: JSON merge patch, limited to each API's update schema (TYPE_BEHAVIOUR[kind].checkPatch); If-Match is
 * honoured as on PUT (a missing resource is 404 before any precondition).
 */
export function patchResource(ctx: ArmContext, id: MlResourceId, body: JsonValue | undefined, request: WriteRequest, conditions: Conditions = {}): Reply {
  if (!isJsonObject(body)) throw armErrors.invalidJson();
  const stored = ctx.estate.requireResource(id);
  requireConditions(stored.etag, conditions);
  const refusal = TYPE_BEHAVIOUR[id.kind].checkPatch(body, stored.resource);
  if (refusal) throw armErrors.userError(refusal, "BadArgument");
  const merged = mergePatch(structuredClone(stored.resource), body) as JsonObject;
  const next = materialize(id, merged, stored.resource, request.caller.objectId);
  return write(ctx, id, "PATCH", request, next, LRO_SHAPES[id.kind].patch, "Updating");
}

/** DELETE: 204 when already gone; otherwise an operation that removes the resource and everything below it. */
export function deleteResource(ctx: ArmContext, id: MlResourceId, request: WriteRequest): Reply {
  const key = id.id.toLowerCase();
  const stored = ctx.estate.store.get(key);
  if (!stored) return { status: 204, body: undefined, headers: {} };
  setPath(stored.resource, "properties.provisioningState", "Deleting");
  const operation = ctx.lro.start(id, "DELETE", key, request.lroFailure, () => {
    ctx.estate.store.deleteTree(key);
    ctx.emit({ eventType: "Microsoft.Resources.ResourceDeleteSuccess", resourceUri: id.id, operationName: `${ML_RESOURCE_TYPES[id.kind]}/delete`, request, method: "DELETE" });
  }, () => setPath(stored.resource, "properties.provisioningState", "Failed"), request.caller.objectId);
  return ctx.lro.accepted(operation, LRO_SHAPES[id.kind].delete);
}

/**
 * Stores the desired state at once with a transitional provisioningState (what GET shows while ARM works), then
 * completes the operation: Succeeded and a ResourceWriteSuccess event, or, on an injected failure, the previous
 * state with provisioningState Failed.
 */
function write(ctx: ArmContext, id: MlResourceId, method: "PUT" | "PATCH", request: WriteRequest, next: ArmResource, shape: LroShape, during: string): Reply {
  const { store } = ctx.estate;
  const key = id.id.toLowerCase();
  const previous = store.get(key);
  const pending = structuredClone(next);
  setPath(pending, "properties.provisioningState", shape.sync ? "Succeeded" : during);
  store.set(key, { resource: pending, etag: newEtag() });
  const succeed = (): void => {
    const current = store.get(key);
    if (!current) return;
    setPath(current.resource, "properties.provisioningState", "Succeeded");
    // A cluster whose cap went below its node count releases nodes (nodes.ts).
    if (id.kind === "compute") settleNodeCount(current.resource);
    current.etag = newEtag();
    ctx.emit({ eventType: "Microsoft.Resources.ResourceWriteSuccess", resourceUri: id.id, operationName: `${ML_RESOURCE_TYPES[id.kind]}/write`, request, method });
  };
  if (shape.sync) {
    succeed();
    const stored = store.get(key)!;
    return { status: 200, body: stored.resource, headers: { ETag: stored.etag } };
  }
  const operation = ctx.lro.start(id, method, key, request.lroFailure, succeed, () => {
    const restored = previous ? structuredClone(previous.resource) : pending;
    setPath(restored, "properties.provisioningState", "Failed");
    store.set(key, { resource: restored, etag: newEtag() });
  }, request.caller.objectId);
  return ctx.lro.accepted(operation, shape);
}

/** Fills what the service owns: id, name, type, systemData, read-only properties kept from before. */
export function materialize(id: MlResourceId, body: JsonObject, existing: ArmResource | undefined, principalId: string, options: { keepReadOnly?: boolean } = {}): ArmResource {
  const behaviour = TYPE_BEHAVIOUR[id.kind];
  for (const path of options.keepReadOnly ? [] : behaviour.readOnly) {
    const kept = existing ? readPath(existing, path) : undefined;
    if (kept === undefined) deletePath(body, path);
    else setPath(body, path, structuredClone(kept));
  }
  const names = [id.parentName, ...id.childNames];
  const resource: ArmResource = {
    ...body,
    id: existing?.id ?? id.id,
    name: names[names.length - 1]!,
    type: ML_RESOURCE_TYPES[id.kind],
  };
  if (!isJsonObject(resource.properties)) resource.properties = {};
  resource.systemData = isJsonObject(existing?.systemData) ? structuredClone(existing.systemData) : {
    createdAt: new Date().toISOString(),
    createdBy: principalId,
    createdByType: "Application",
  };
  stampModified(resource, principalId);
  return resource;
}

export function stampModified(resource: ArmResource, principalId: string): void {
  const systemData = isJsonObject(resource.systemData) ? resource.systemData : {};
  systemData.lastModifiedAt = new Date().toISOString();
  systemData.lastModifiedBy = principalId;
  systemData.lastModifiedByType = "Application";
  resource.systemData = systemData;
}
