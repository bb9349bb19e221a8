import type { MlResourceId } from "../../arm/ids.js";
import { isJsonObject, readPath, type ArmResource, type JsonObject } from "../../arm/resource.js";
import { armErrors } from "../arm-errors.js";
import type { Estate } from "./estate.js";
import { newEtag } from "./estate.js";
import { setPath } from "./json.js";

/**
 * AmlCompute node counts. Shapes from azure-rest-api-specs MachineLearningServices 2025-09-01 (AmlComputeProperties:
 * read-only `currentNodeCount`, `targetNodeCount`, `allocationState` Steady|Resizing, `allocationStateTransitionTime`,
 * `nodeStateCounts` {idle, running, preparing, unusable, leaving, preempted}; ScaleSettings: `maxNodeCount`
 * required, `minNodeCount` default 0; example Compute/get/AmlCompute.json). Behaviour from "Create an Azure Machine
 * Learning compute cluster" (learn.microsoft.com/azure/machine-learning/how-to-create-attach-compute-cluster): the
 * cluster autoscales up to `maxNodeCount` when a job is submitted and keeps `minNodeCount` nodes.
 *
 * Deliberate simplification: resizing is instantaneous (allocationState stays Steady) and nodes never go idle on a
 * timer; what the sandbox guarantees is the cap: no node starts beyond `maxNodeCount`, and a cap lowered below the
 * current count releases nodes (idle ones first).
 */
export interface NodeCounts {
  currentNodeCount: number;
  runningNodeCount: number;
  idleNodeCount: number;
}

/** What a job submission got: nodes newly started, nodes it runs on, nodes it waits for (queued). */
export interface JobSubmission extends NodeCounts {
  started: number;
  granted: number;
  queued: number;
}

/** A data-plane job submission on an AmlCompute cluster: scales up to at most maxNodeCount; fires no ARM event. */
export function submitJob(estate: Estate, id: MlResourceId, nodes: number): JobSubmission {
  if (!Number.isInteger(nodes) || nodes < 1) throw armErrors.userError(`A job needs a whole number of nodes (1 or more); got ${String(nodes)}.`);
  const stored = estate.requireResource(id);
  const resource = stored.resource;
  requireAmlCompute(resource);
  const { max } = scaleLimits(resource);
  const before = countsOf(resource);
  const wanted = before.runningNodeCount + nodes;
  const current = Math.min(Math.max(before.currentNodeCount, wanted), max);
  const running = Math.min(wanted, current);
  writeCounts(resource, { currentNodeCount: current, runningNodeCount: running, idleNodeCount: current - running });
  if (current !== before.currentNodeCount) stored.etag = newEtag();
  const granted = running - before.runningNodeCount;
  return { currentNodeCount: current, runningNodeCount: running, idleNodeCount: current - running, started: current - before.currentNodeCount, granted, queued: nodes - granted };
}

/**
 * After a write to a cluster: the node count goes within [min(minNodeCount, maxNodeCount), maxNodeCount]. Nodes
 * above the cap are released, idle ones before running ones; nodes below the minimum start idle.
 */
export function settleNodeCount(resource: ArmResource): void {
  if (!isAmlCompute(resource)) return;
  const { min, max } = scaleLimits(resource);
  const before = countsOf(resource);
  const current = Math.min(Math.max(before.currentNodeCount, Math.min(min, max)), max);
  const running = Math.min(before.runningNodeCount, current);
  writeCounts(resource, { currentNodeCount: current, runningNodeCount: running, idleNodeCount: current - running });
}

export function countsOf(resource: ArmResource): NodeCounts {
  const number = (path: string): number => {
    const value = readPath(resource, path);
    return typeof value === "number" && Number.isInteger(value) && value >= 0 ? value : 0;
  };
  const runningNodeCount = number("properties.properties.nodeStateCounts.runningNodeCount");
  const currentNodeCount = Math.max(number("properties.properties.currentNodeCount"), runningNodeCount);
  return { currentNodeCount, runningNodeCount, idleNodeCount: currentNodeCount - runningNodeCount };
}

function writeCounts(resource: ArmResource, counts: NodeCounts): void {
  const previous = readPath(resource, "properties.properties.nodeStateCounts");
  const states: JsonObject = {
    preparingNodeCount: 0,
    unusableNodeCount: 0,
    leavingNodeCount: 0,
    preemptedNodeCount: 0,
    ...(isJsonObject(previous) ? previous : {}),
    runningNodeCount: counts.runningNodeCount,
    idleNodeCount: counts.idleNodeCount,
  };
  setPath(resource, "properties.properties.nodeStateCounts", states);
  setPath(resource, "properties.properties.currentNodeCount", counts.currentNodeCount);
  setPath(resource, "properties.properties.targetNodeCount", counts.currentNodeCount);
  setPath(resource, "properties.properties.allocationState", "Steady");
}

function scaleLimits(resource: ArmResource): { min: number; max: number } {
  const max = readPath(resource, "properties.properties.scaleSettings.maxNodeCount");
  const min = readPath(resource, "properties.properties.scaleSettings.minNodeCount");
  return {
    max: typeof max === "number" && max >= 0 ? Math.floor(max) : 0,
    min: typeof min === "number" && min >= 0 ? Math.floor(min) : 0,
  };
}

function isAmlCompute(resource: ArmResource): boolean {
  const type = readPath(resource, "properties.computeType");
  return typeof type === "string" && type.toLowerCase() === "amlcompute";
}

function requireAmlCompute(resource: ArmResource): void {
  if (!isAmlCompute(resource)) {
    throw armErrors.userError(`Jobs run on AmlCompute clusters; this compute is ${String(readPath(resource, "properties.computeType"))}.`, "NotSupported");
  }
}
