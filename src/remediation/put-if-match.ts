import { enumEquals, ML_RESOURCE_TYPES, readPath, type JsonObject, type MlResourceKind } from "../arm/resource.js";
import type { ArmClient, ArmRead } from "../azure/arm-client.js";
import { privateNowReview } from "./guidance.js";
import { cliNames, confirmByReading, observedStateOf, pick, writeCondition, type ActionDefinition } from "./plan.js";

const PNA = "properties.publicNetworkAccess";

/**
 * Online endpoints and registries: their PATCH cannot change publicNetworkAccess, so amlguard PUTs the raw body
 * exactly as read with one property changed; every property it does not own goes back byte for byte. If-Match makes a
 * concurrent writer's change fail the PUT instead of being lost; without an ETag (Azure documents none for registries)
 * see writeCondition.
 */
function disablePublicNetworkAccessByPut(kind: Extract<MlResourceKind, "onlineEndpoint" | "registry">, id: string, cli: string): ActionDefinition {
  const action: ActionDefinition = {
    id,
    kind,
    intent: "disable-public-network-access",
    permissions: [`${ML_RESOURCE_TYPES[kind]}/write`],
    containsOnly: false,
    description: `PUT the ${kind === "registry" ? "registry" : "online endpoint"}'s own body back with publicNetworkAccess Disabled (If-Match)`,
    afterwards: (ctx) => privateNowReview(kind === "registry" ? "registry" : "online endpoint", "publicNetworkAccess", ctx),
    plan(read) {
      const resource = read.resource;
      if (enumEquals(readPath(resource, PNA), "Disabled")) return { kind: "already-done", detail: "publicNetworkAccess is already Disabled" };
      return {
        kind: "plan",
        plan: {
          action,
          targetId: resource.id,
          before: pick(resource, PNA),
          intended: { [PNA]: "Disabled" },
          observedState: observedStateOf(read),
          undo: `az ml ${cli} update ${cliNames(resource.id)} --set public_network_access=enabled`,
          execute: (arm) => putWithPublicAccessDisabled(arm, read),
          confirm: confirmByReading(resource.id, PNA, (after) => enumEquals(readPath(after, PNA), "Disabled")),
        },
      };
    },
  };
  return action;
}

async function putWithPublicAccessDisabled(arm: ArmClient, read: ArmRead): Promise<void> {
  const { ifMatch, base } = await writeCondition(arm, read);
  const body = structuredClone(base) as JsonObject;
  (body.properties as JsonObject).publicNetworkAccess = "Disabled";
  await arm.put(read.resource.id, body, ifMatch ? { ifMatch } : {});
}

export const endpointDisablePublicNetworkAccess = disablePublicNetworkAccessByPut("onlineEndpoint", "endpoint-disable-public-network-access", "online-endpoint");
export const registryDisablePublicNetworkAccess = disablePublicNetworkAccessByPut("registry", "registry-disable-public-network-access", "registry");
