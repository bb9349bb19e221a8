import type { MlResourceId } from "../../arm/ids.js";
import { ML_RESOURCE_TYPES, readPath } from "../../arm/resource.js";
import { armErrors } from "../arm-errors.js";
import { stampModified, type ArmContext, type WriteRequest } from "./crud.js";
import { newEtag } from "./estate.js";
import { setPath, type Reply } from "./json.js";
import { ACTION_SHAPE } from "./lro.js";

export type ComputeAction = "start" | "stop" | "restart";

/** `POST …/computes/{name}/{start|stop|restart}`. */
export const COMPUTE_ACTION = /^(\/subscriptions\/.+\/computes\/[^/]+)\/(start|stop|restart)$/i;

/**
 * Compute start/stop/restart: ComputeInstance only (others 400 UserError/NotSupported); `state` goes through
 * Starting/Stopping/Restarting to Running/Stopped, `lastOperation` records it, and a ResourceActionSuccess event
 * follows (compute-stop.json, compute-start.2025-06-01.json examples; docs/sandbox.md "Compute actions").
 */
export function computeAction(ctx: ArmContext, id: MlResourceId, action: ComputeAction, request: WriteRequest): Reply {
  if (id.kind !== "compute") throw armErrors.noRoute(id.id);
  const stored = ctx.estate.requireResource(id);
  const type = readPath(stored.resource, "properties.computeType");
  if (typeof type !== "string" || type.toLowerCase() !== "computeinstance") {
    throw armErrors.userError(`Operation '${action}' is supported for ComputeInstance only; this compute is ${String(type)}.`, "NotSupported");
  }
  const transitions: Record<ComputeAction, [string, string]> = {
    start: ["Starting", "Running"],
    stop: ["Stopping", "Stopped"],
    restart: ["Restarting", "Running"],
  };
  const [during, after] = transitions[action];
  const key = id.id.toLowerCase();
  const before = readPath(stored.resource, "properties.properties.state");
  setPath(stored.resource, "properties.properties.state", during);
  const { store } = ctx.estate;
  const operation = ctx.lro.start(id, "POST", key, request.lroFailure, () => {
    const current = store.get(key);
    if (!current) return;
    setPath(current.resource, "properties.properties.state", after);
    setPath(current.resource, "properties.properties.lastOperation", {
      operationName: action.charAt(0).toUpperCase() + action.slice(1),
      operationTime: new Date().toISOString(),
      operationStatus: "Succeeded",
      operationTrigger: "User",
    });
    stampModified(current.resource, request.caller.objectId);
    current.etag = newEtag();
    ctx.emit({ eventType: "Microsoft.Resources.ResourceActionSuccess", resourceUri: id.id, operationName: `${ML_RESOURCE_TYPES[id.kind]}/${action}/action`, request, method: "POST" });
  }, () => {
    const current = store.get(key);
    if (current) setPath(current.resource, "properties.properties.state", before ?? "Unknown");
  }, request.caller.objectId);
  return ctx.lro.accepted(operation, ACTION_SHAPE);
}
