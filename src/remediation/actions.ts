import { createHash } from "node:crypto";
import { parseMlResourceId } from "../arm/ids.js";
import { enumEquals, ML_RESOURCE_TYPES, readPath, type ArmResource, type JsonObject, type JsonValue, type MlResourceKind } from "../arm/resource.js";
import type { ArmClient, ArmRead } from "../azure/arm-client.js";
import { computeType } from "../rules/rule.js";
import type { RemediationActionId } from "../rules/rule.js";

/** The concrete writes amlguard can make. Each is reversible, and none deletes anything. */
export type ActionId =
  | "workspace-disable-public-network-access"
  | "endpoint-disable-public-network-access"
  | "registry-disable-public-network-access"
  | "stop-compute-instance"
  | "drain-cluster";

export interface ActionDefinition {
  id: ActionId;
  /** The ARM action this write needs: the single source of truth for the custom role (infra/). */
  permission: string;
  description: string;
}

const P = "Microsoft.MachineLearningServices";

export const ACTIONS: Readonly<Record<ActionId, ActionDefinition>> = {
  "workspace-disable-public-network-access": {
    id: "workspace-disable-public-network-access",
    permission: `${P}/workspaces/write`,
    description: "PATCH the workspace: publicNetworkAccess Disabled",
  },
  "endpoint-disable-public-network-access": {
    id: "endpoint-disable-public-network-access",
    permission: `${P}/workspaces/onlineEndpoints/write`,
    description: "PUT the online endpoint's own body back with publicNetworkAccess Disabled (If-Match)",
  },
  "registry-disable-public-network-access": {
    id: "registry-disable-public-network-access",
    permission: `${P}/registries/write`,
    description: "PUT the registry's own body back with publicNetworkAccess Disabled (If-Match)",
  },
  "stop-compute-instance": {
    id: "stop-compute-instance",
    permission: `${P}/workspaces/computes/stop/action`,
    description: "Stop the compute instance",
  },
  "drain-cluster": {
    id: "drain-cluster",
    permission: `${P}/workspaces/computes/write`,
    description: "PATCH the cluster's scaleSettings: minNodeCount 0",
  },
};

/** Reads amlguard needs, by resource kind (evaluation reads each resource once). */
export const READ_PERMISSIONS: Readonly<Record<MlResourceKind, string>> = {
  workspace: `${ML_RESOURCE_TYPES.workspace}/read`,
  compute: `${ML_RESOURCE_TYPES.compute}/read`,
  onlineEndpoint: `${ML_RESOURCE_TYPES.onlineEndpoint}/read`,
  onlineDeployment: `${ML_RESOURCE_TYPES.onlineDeployment}/read`,
  registry: `${ML_RESOURCE_TYPES.registry}/read`,
};

/** What one action will change, how to check it worked, and how a person undoes it. */
export interface ChangePlan {
  action: ActionDefinition;
  /** The property values the action changes, as read now. */
  before: Record<string, JsonValue>;
  /** The values the action sets. */
  intended: Record<string, JsonValue>;
  /** Identifies the state the plan was made from, for the one-write-per-state lock. */
  observedState: string;
  undo: string;
  execute(arm: ArmClient): Promise<void>;
  /** The post-condition on the resource read back after the write. */
  holds(resource: ArmResource): boolean;
  /** The same properties, read back, for the audit trail. */
  observe(resource: ArmResource): Record<string, JsonValue>;
}

export type PlanResult =
  | { kind: "plan"; plan: ChangePlan }
  | { kind: "already-done"; detail: string }
  | { kind: "no-automatic-action" };

const PNA = "properties.publicNetworkAccess";

/** Chooses the concrete action for a rule's remediation on this resource, from the resource as read. */
export function planRemediation(remediation: RemediationActionId, kind: MlResourceKind, read: ArmRead): PlanResult {
  const resource = read.resource;
  const names = cliNames(resource.id);
  const observedState = read.etag ?? createHash("sha256").update(JSON.stringify(resource)).digest("hex");
  const pick = (path: string): Record<string, JsonValue> => ({ [path]: readPath(resource, path) ?? null });
  switch (remediation) {
    case "workspace-disable-public-network-access": {
      if (kind !== "workspace") return { kind: "no-automatic-action" };
      if (enumEquals(readPath(resource, PNA), "Disabled")) return { kind: "already-done", detail: "publicNetworkAccess is already Disabled" };
      return {
        kind: "plan",
        plan: {
          action: ACTIONS["workspace-disable-public-network-access"],
          before: pick(PNA),
          intended: { [PNA]: "Disabled" },
          observedState,
          undo: `az ml workspace update ${names} --public-network-access Enabled`,
          // WorkspaceUpdateParameters carries exactly the one property: nothing else is sent, so nothing else can change.
          execute: async (arm) => void (await arm.patch(resource.id, { properties: { publicNetworkAccess: "Disabled" } })),
          holds: (after) => enumEquals(readPath(after, PNA), "Disabled"),
          observe: (after) => ({ [PNA]: readPath(after, PNA) ?? null }),
        },
      };
    }
    case "put-disable-public-network-access": {
      const actionId = kind === "onlineEndpoint" ? "endpoint-disable-public-network-access" : kind === "registry" ? "registry-disable-public-network-access" : undefined;
      if (!actionId) return { kind: "no-automatic-action" };
      if (enumEquals(readPath(resource, PNA), "Disabled")) return { kind: "already-done", detail: "publicNetworkAccess is already Disabled" };
      return {
        kind: "plan",
        plan: {
          action: ACTIONS[actionId],
          before: pick(PNA),
          intended: { [PNA]: "Disabled" },
          observedState,
          undo: `az ml ${kind === "registry" ? "registry" : "online-endpoint"} update ${names} --set public_network_access=enabled`,
          execute: async (arm) => {
            // The API's PATCH cannot change publicNetworkAccess. PUT the raw body exactly as read, one property
            // changed: every property amlguard does not own goes back byte for byte. If-Match refuses the write
            // if anyone changed the resource since the read.
            const body = structuredClone(resource) as JsonObject;
            (body.properties as JsonObject).publicNetworkAccess = "Disabled";
            await arm.put(resource.id, body, read.etag ? { ifMatch: read.etag } : {});
          },
          holds: (after) => enumEquals(readPath(after, PNA), "Disabled"),
          observe: (after) => ({ [PNA]: readPath(after, PNA) ?? null }),
        },
      };
    }
    case "contain-compute":
      return planContainment(kind, read, observedState, names);
    case "alert-only":
      return { kind: "no-automatic-action" };
  }
}

/** The az ml arguments naming this resource, so an undo command can be pasted as is. */
function cliNames(resourceId: string): string {
  const id = parseMlResourceId(resourceId);
  const parent = id.kind === "registry" ? `--name ${id.parentName}` : id.childNames.length ? `--workspace-name ${id.parentName}` : `--name ${id.parentName}`;
  const child = id.kind === "onlineDeployment" ? `--endpoint-name ${id.childNames[0]} --name ${id.childNames[1]}` : id.childNames[0] ? `--name ${id.childNames[0]}` : "";
  return [`--subscription ${id.subscriptionId}`, `--resource-group ${id.resourceGroup}`, parent, child].filter(Boolean).join(" ");
}

const STATE = "properties.properties.state";
const MIN_NODES = "properties.properties.scaleSettings.minNodeCount";
const SCALE = "properties.properties.scaleSettings";

/** Public IPs and SSH are create-only: containment (stop, drain) is what can be done now; recreation is for people. */
function planContainment(kind: MlResourceKind, read: ArmRead, observedState: string, names: string): PlanResult {
  const resource = read.resource;
  if (kind !== "compute") return { kind: "no-automatic-action" };
  const type = computeType(resource)?.toLowerCase();
  if (type === "computeinstance") {
    const state = readPath(resource, STATE);
    if (typeof state === "string" && ["stopped", "stopping"].includes(state.toLowerCase())) {
      return { kind: "already-done", detail: `the compute instance is already ${state}` };
    }
    return {
      kind: "plan",
      plan: {
        action: ACTIONS["stop-compute-instance"],
        before: { [STATE]: readPath(resource, STATE) ?? null },
        intended: { [STATE]: "Stopped" },
        observedState,
        undo: `az ml compute start ${names}`,
        execute: (arm) => arm.action(`${resource.id}/stop`),
        holds: (after) => enumEquals(readPath(after, STATE), "Stopped"),
        observe: (after) => ({ [STATE]: readPath(after, STATE) ?? null }),
      },
    };
  }
  if (type === "amlcompute") {
    const scale = readPath(resource, SCALE);
    const minNodes = readPath(resource, MIN_NODES);
    if (minNodes === 0) return { kind: "already-done", detail: "the cluster's minNodeCount is already 0" };
    const maxNodes = readPath(resource, "properties.properties.scaleSettings.maxNodeCount");
    if (typeof maxNodes !== "number") return { kind: "no-automatic-action" };
    return {
      kind: "plan",
      plan: {
        action: ACTIONS["drain-cluster"],
        before: { [MIN_NODES]: minNodes ?? null },
        intended: { [MIN_NODES]: 0 },
        observedState,
        undo: `az ml compute update ${names} --min-instances ${JSON.stringify(minNodes ?? 0)}`,
        // ClusterUpdateParameters: scaleSettings as read (maxNodeCount is required), only minNodeCount changed.
        execute: async (arm) => {
          const scaleSettings = { ...(typeof scale === "object" && scale !== null && !Array.isArray(scale) ? scale : {}), minNodeCount: 0 };
          await arm.patch(resource.id, { properties: { properties: { scaleSettings } } });
        },
        holds: (after) => readPath(after, MIN_NODES) === 0,
        observe: (after) => ({ [MIN_NODES]: readPath(after, MIN_NODES) ?? null }),
      },
    };
  }
  return { kind: "no-automatic-action" };
}
