import { computeType } from "../arm/compute.js";
import { enumEquals, ML_RESOURCE_TYPES, readPath } from "../arm/resource.js";
import { cliNames, confirmByReading, observedStateOf, type ActionDefinition } from "./plan.js";

/** Public IPs and SSH are create-only: containment (stop, drain) is what can be done now; recreation is for people. */
const STATE = "properties.properties.state";
const MIN_NODES = "properties.properties.scaleSettings.minNodeCount";
const SCALE = "properties.properties.scaleSettings";

export const stopComputeInstance: ActionDefinition = {
  id: "stop-compute-instance",
  kind: "compute",
  intent: "contain-compute",
  permissions: [`${ML_RESOURCE_TYPES.compute}/stop/action`],
  containsOnly: true,
  description: "Stop the compute instance",
  plan(read) {
    const resource = read.resource;
    if (computeType(resource)?.toLowerCase() !== "computeinstance") return { kind: "refused", detail: "not a compute instance" };
    const state = readPath(resource, STATE);
    if (typeof state === "string" && ["stopped", "stopping"].includes(state.toLowerCase())) {
      return { kind: "already-done", detail: `the compute instance is already ${state}` };
    }
    return {
      kind: "plan",
      plan: {
        action: stopComputeInstance,
        targetId: resource.id,
        before: { [STATE]: state ?? null },
        intended: { [STATE]: "Stopped" },
        observedState: observedStateOf(read),
        undo: `az ml compute start ${cliNames(resource.id)}`,
        execute: (arm) => arm.action(`${resource.id}/stop`),
        confirm: confirmByReading(resource.id, STATE, (after) => enumEquals(readPath(after, STATE), "Stopped")),
      },
    };
  },
};

export const drainCluster: ActionDefinition = {
  id: "drain-cluster",
  kind: "compute",
  intent: "contain-compute",
  permissions: [`${ML_RESOURCE_TYPES.compute}/write`],
  containsOnly: true,
  description: "PATCH the cluster's scaleSettings: minNodeCount 0",
  plan(read) {
    const resource = read.resource;
    if (computeType(resource)?.toLowerCase() !== "amlcompute") return { kind: "refused", detail: "not a compute cluster" };
    const scale = readPath(resource, SCALE);
    const minNodes = readPath(resource, MIN_NODES);
    if (minNodes === 0) return { kind: "already-done", detail: "the cluster's minNodeCount is already 0" };
    const maxNodes = readPath(resource, "properties.properties.scaleSettings.maxNodeCount");
    if (typeof maxNodes !== "number") return { kind: "refused", detail: "the cluster's scaleSettings.maxNodeCount is unreadable" };
    return {
      kind: "plan",
      plan: {
        action: drainCluster,
        targetId: resource.id,
        before: { [MIN_NODES]: minNodes ?? null },
        intended: { [MIN_NODES]: 0 },
        observedState: observedStateOf(read),
        undo: `az ml compute update ${cliNames(resource.id)} --min-instances ${JSON.stringify(minNodes ?? 0)}`,
        // ClusterUpdateParameters: scaleSettings as read (maxNodeCount is required), only minNodeCount changed.
        execute: async (arm) => {
          const scaleSettings = { ...(typeof scale === "object" && scale !== null && !Array.isArray(scale) ? scale : {}), minNodeCount: 0 };
          await arm.patch(resource.id, { properties: { properties: { scaleSettings } } });
        },
        confirm: confirmByReading(resource.id, MIN_NODES, (after) => readPath(after, MIN_NODES) === 0),
      },
    };
  },
};
