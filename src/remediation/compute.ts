import { computeType } from "../arm/compute.js";
import { enumEquals, ML_RESOURCE_TYPES, readPath } from "../arm/resource.js";
import { ArmError } from "../azure/arm-client.js";
import { recreateCluster, recreateInstance } from "./guidance.js";
import { cliNames, confirmByReading, observedStateOf, writeCondition, type ActionDefinition } from "./plan.js";

/** Public IPs and SSH are create-only: containment (stop, cap) is what can be done now; recreation is for people. */
const STATE = "properties.properties.state";
const MIN_NODES = "properties.properties.scaleSettings.minNodeCount";
const SCALE = "properties.properties.scaleSettings";
const MAX_NODES = "properties.properties.scaleSettings.maxNodeCount";

export const stopComputeInstance: ActionDefinition = {
  id: "stop-compute-instance",
  kind: "compute",
  intent: "contain-compute",
  permissions: [`${ML_RESOURCE_TYPES.compute}/stop/action`],
  containsOnly: true,
  description: "Stop the compute instance",
  contains:
    "While stopped, the instance's public IP and SSH port answer nothing and its identity runs no code. Anyone allowed to " +
    "start it can start it again: amlguard then stops it again and alerts the repeat.",
  afterwards: recreateInstance,
  plan(read) {
    const resource = read.resource;
    if (computeType(resource)?.toLowerCase() !== "computeinstance") return { kind: "not-applicable" };
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

/**
 * Clusters are capped, not only drained: minNodeCount 0 alone lets the next job submission (a data-plane call that
 * fires no ARM event) scale the cluster straight back up on public-IP nodes. ScaleSettings.maxNodeCount is a required
 * int32 with no minimum in the 2025-09-01 spec (docs/arm-spec-notes.md), so maxNodeCount 0 is a valid, reversible cap:
 * no node can start until a person raises it. Should the service refuse 0, the cap falls back to a drain and the
 * alert says that jobs can still start nodes.
 */
export const capCluster: ActionDefinition = {
  id: "cap-cluster",
  kind: "compute",
  intent: "contain-compute",
  permissions: [`${ML_RESOURCE_TYPES.compute}/write`],
  containsOnly: true,
  description: "PATCH the cluster's scaleSettings: maxNodeCount 0 and minNodeCount 0 (no node can start)",
  contains:
    "No node can start: jobs submitted to the cluster wait in the queue; idle nodes are released as the cluster scales down. " +
    "The cluster itself, its identity and its data stay as they were.",
  afterwards: recreateCluster,
  plan(read) {
    const resource = read.resource;
    if (computeType(resource)?.toLowerCase() !== "amlcompute") return { kind: "not-applicable" };
    const scale = readPath(resource, SCALE);
    const minNodes = readPath(resource, MIN_NODES);
    const maxNodes = readPath(resource, MAX_NODES);
    if (maxNodes === 0 && (minNodes ?? 0) === 0) return { kind: "already-done", detail: "the cluster is already capped at 0 nodes" };
    if (typeof maxNodes !== "number") return { kind: "refused", detail: "the cluster's scaleSettings.maxNodeCount is unreadable" };
    const kept = typeof scale === "object" && scale !== null && !Array.isArray(scale) ? scale : {};
    let degraded = false;
    return {
      kind: "plan",
      plan: {
        action: capCluster,
        targetId: resource.id,
        before: { [MAX_NODES]: maxNodes, [MIN_NODES]: minNodes ?? null },
        intended: { [MAX_NODES]: 0, [MIN_NODES]: 0 },
        observedState: observedStateOf(read),
        undo: `az ml compute update ${cliNames(resource.id)} --max-instances ${maxNodes} --min-instances ${JSON.stringify(minNodes ?? 0)}`,
        // ClusterUpdateParameters: scaleSettings is replaced as a whole (maxNodeCount is required): send what was read
        // with the counts changed, under the condition that nobody changed the cluster since the read.
        execute: async (arm) => {
          const { ifMatch } = await writeCondition(arm, read);
          const options = ifMatch ? { ifMatch } : {};
          try {
            await arm.patch(resource.id, { properties: { properties: { scaleSettings: { ...kept, maxNodeCount: 0, minNodeCount: 0 } } } }, options);
          } catch (error) {
            if (!(error instanceof ArmError && error.statusCode === 400)) throw error;
            degraded = true;
            await arm.patch(resource.id, { properties: { properties: { scaleSettings: { ...kept, minNodeCount: 0 } } } }, options);
          }
        },
        confirm: async (arm) => {
          const after = (await arm.get(resource.id)).resource;
          const observed = { [MAX_NODES]: readPath(after, MAX_NODES) ?? null, [MIN_NODES]: readPath(after, MIN_NODES) ?? null };
          return { holds: degraded ? observed[MIN_NODES] === 0 : observed[MAX_NODES] === 0 && observed[MIN_NODES] === 0, observed };
        },
        caveat: () =>
          degraded
            ? "Azure refused maxNodeCount 0, so the cluster was only drained (minNodeCount 0): a job submission can still start public-IP nodes."
            : undefined,
      },
    };
  },
};
